/**
 * Atoms: the common refinement of all scales' FH segmentations (pixels with the same label at every scale).
 * Every region of every scale's hierarchy is a union of atoms, so a proposal is a set of atom ids, and the
 * mask IoU of two proposals is a sum of shared atom areas: near-duplicate removal across scales never
 * touches pixels.
 *
 * Within one scale the hierarchy is a tree over base segments; numbering its leaves in depth-first order
 * makes every region a contiguous range of leaves, hence a contiguous range of that scale's atom ordering.
 */
import type { Hierarchy } from "./hierarchy.js";

export interface AtomMap {
  /** Per working pixel, its atom id. */
  label: Int32Array;
  count: number;
  /** Working pixels per atom. */
  area: Int32Array;
  /** Per scale, each atom's segment (base region) at that scale. */
  segmentOf: Int32Array[];
}

/** Above this many (atom, segment) keys, a pass numbers the pairs with a Map instead of a dense table. */
const DENSE_KEYS = 1 << 22;

/**
 * One refinement pass: per pixel, the id of the pair (label, other) in raster order of first occurrence. A dense
 * table over the `k · count` possible keys replaces the Map where it is small (the usual case: a few hundred
 * thousand keys); the ids are the same either way.
 */
function refinePass(label: Int32Array, other: Int32Array, k: number, keys: number, next: Int32Array): number {
  const n = label.length;
  let c = 0;
  if (keys <= DENSE_KEYS) {
    const ids = new Int32Array(keys).fill(-1);
    for (let p = 0; p < n; p++) {
      const key = label[p]! * k + other[p]!;
      let id = ids[key]!;
      if (id < 0) { id = c++; ids[key] = id; }
      next[p] = id;
    }
    return c;
  }
  const ids = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    const key = label[p]! * k + other[p]!;
    let id = ids.get(key);
    if (id === undefined) { id = c++; ids.set(key, id); }
    next[p] = id;
  }
  return c;
}

export function buildAtoms(scaleLabels: readonly Int32Array[], scaleCounts: readonly number[]): AtomMap {
  const first = scaleLabels[0]!;
  const n = first.length;
  let label = Int32Array.from(first);
  let count = scaleCounts[0]!;
  for (let s = 1; s < scaleLabels.length; s++) {
    const next = new Int32Array(n);
    count = refinePass(label, scaleLabels[s]!, scaleCounts[s]!, count * scaleCounts[s]!, next);
    label = next;
  }
  const area = new Int32Array(count);
  for (let p = 0; p < n; p++) area[label[p]!]!++;
  // each atom's segment at every scale (any of its pixels tells; its first one is found first)
  const segmentOf = scaleLabels.map(() => new Int32Array(count));
  const found = new Uint8Array(count);
  for (let p = 0; p < n; p++) {
    const a = label[p]!;
    if (found[a]) continue;
    found[a] = 1;
    for (let s = 0; s < scaleLabels.length; s++) segmentOf[s]![a] = scaleLabels[s]![p]!;
  }
  return { label, count, area, segmentOf };
}

/** One scale's view of the atoms: each hierarchy region → a range of `atomsByLeaf`. */
export class ScaleAtoms {
  /** Atom ids ordered by the depth-first position of their base segment. */
  readonly atomsByLeaf: Int32Array;
  /** Per region, the range [start, end) in `atomsByLeaf`. */
  readonly start: Int32Array;
  readonly end: Int32Array;

  /** `baseOfAtom`: each atom's base segment in this hierarchy (AtomMap.segmentOf of its scale). */
  constructor(h: Hierarchy, atoms: AtomMap, baseOfAtom: Int32Array) {
    const total = h.count;
    const leaves = new Int32Array(total);
    for (let r = 0; r < total; r++) {
      leaves[r] = h.left[r]! < 0 ? 1 : leaves[h.left[r]!]! + leaves[h.right[r]!]!;
    }
    const hasParent = new Uint8Array(total);
    for (let r = h.baseCount; r < total; r++) { hasParent[h.left[r]!] = 1; hasParent[h.right[r]!] = 1; }
    // leaf ranges, top-down (children always have smaller ids than their parent)
    const lo = new Int32Array(total);
    let offset = 0;
    for (let r = total - 1; r >= 0; r--) {
      if (!hasParent[r]) { lo[r] = offset; offset += leaves[r]!; }
      if (h.left[r]! >= 0) {
        lo[h.left[r]!] = lo[r]!;
        lo[h.right[r]!] = lo[r]! + leaves[h.left[r]!]!;
      }
    }
    // counting sort of atoms by their base segment's leaf position
    const leafStart = new Int32Array(h.baseCount + 1);
    for (let a = 0; a < atoms.count; a++) leafStart[lo[baseOfAtom[a]!]! + 1]!++;
    for (let i = 0; i < h.baseCount; i++) leafStart[i + 1]! += leafStart[i]!;
    const fill = leafStart.slice(0, h.baseCount);
    this.atomsByLeaf = new Int32Array(atoms.count);
    for (let a = 0; a < atoms.count; a++) this.atomsByLeaf[fill[lo[baseOfAtom[a]!]!]!++] = a;
    this.start = new Int32Array(total);
    this.end = new Int32Array(total);
    for (let r = 0; r < total; r++) {
      this.start[r] = leafStart[lo[r]!]!;
      this.end[r] = leafStart[lo[r]! + leaves[r]!]!;
    }
  }

  /** A bitmap over atom ids, reused: sorting a region's atoms is marking them and reading the marks in order. */
  private marks?: Uint32Array;

  /** The region's atom ids, sorted ascending (a bitmap pass: O(atoms of the region + all atoms / 32)). */
  atomsOf(region: number): Int32Array {
    const from = this.start[region]!;
    const to = this.end[region]!;
    const out = new Int32Array(to - from);
    const marks = (this.marks ??= new Uint32Array((this.atomsByLeaf.length >>> 5) + 1));
    let lo = marks.length;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const a = this.atomsByLeaf[i]!;
      const w = a >>> 5;
      marks[w]! |= 1 << (a & 31);
      if (w < lo) lo = w;
      if (w > hi) hi = w;
    }
    let k = 0;
    for (let w = lo; w <= hi; w++) {
      let bits = marks[w]!;
      if (bits === 0) continue;
      marks[w] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        out[k++] = (w << 5) + 31 - Math.clz32(low);
      }
    }
    return out;
  }
}
