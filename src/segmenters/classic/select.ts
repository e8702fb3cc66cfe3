/**
 * From every region of every scale's hierarchy to a short, diverse list of proposals.
 *
 * Ranking ("objectness", in [0, 1]):
 * - boundary contrast: mean ΔE across the region's boundary against the mean ΔE inside it,
 *   B / (B + I + 1): high when the region is set off from its surroundings more than it varies inside;
 * - compactness: 4·sqrt(area) / perimeter (1 for a square, ~0.89 for a disc, small for ragged or thin
 *   shapes), capped at 1;
 * objectness = 0.65·contrast + 0.35·compactness.
 * Near-duplicates (mask IoU above `duplicateIou`, computed on atoms) are grouped greedily in objectness
 * order; a group's stability is the share of scales that produced a member. The final score,
 * 0.8·objectness + 0.2·stability, orders the groups within size bands (half-decades of the image share),
 * and the cap is filled round-robin over the bands, so that the few large wholes are never crowded out by
 * the many small parts.
 */
import type { AtomMap, ScaleAtoms } from "./atoms.js";
import type { Hierarchy } from "./hierarchy.js";

export interface Selected {
  scale: number;
  region: number;
  atoms: Int32Array;
  /** Working bbox [x0, y0, x1, y1], inclusive. */
  box: Int32Array;
  score: number;
  stability: number;
}

export interface SelectParams {
  minArea: number;
  maxRegions: number;
  duplicateIou: number;
}

export function objectness(h: Hierarchy, r: number): number {
  const B = h.boundaryCount[r]! > 0 ? h.boundarySum[r]! / h.boundaryCount[r]! : 0;
  const I = h.innerCount[r]! > 0 ? h.innerSum[r]! / h.innerCount[r]! : 0;
  const contrast = B / (B + I + 1);
  const compact = Math.min(1, (4 * Math.sqrt(h.area[r]!)) / Math.max(1, h.perimeter[r]!));
  return 0.65 * contrast + 0.35 * compact;
}

/** Marks the atoms of a region with `id` (in any order: the range of its scale's leaf ordering). */
function stampAtoms(sa: ScaleAtoms, region: number, stamp: Int32Array, id: number): void {
  const { atomsByLeaf } = sa;
  for (let i = sa.start[region]!, end = sa.end[region]!; i < end; i++) stamp[atomsByLeaf[i]!] = id;
}

/** Area of the atoms of a region that carry the mark `id`: its intersection with the marked region. */
function stampedArea(sa: ScaleAtoms, region: number, stamp: Int32Array, id: number, area: Int32Array): number {
  const { atomsByLeaf } = sa;
  let s = 0;
  for (let i = sa.start[region]!, end = sa.end[region]!; i < end; i++) {
    const a = atomsByLeaf[i]!;
    if (stamp[a] === id) s += area[a]!;
  }
  return s;
}

export function selectProposals(
  hierarchies: readonly Hierarchy[],
  scaleAtoms: readonly ScaleAtoms[],
  atoms: AtomMap,
  pixelCount: number,
  params: SelectParams,
  checkAbort: () => void,
): Selected[] {
  // candidates: every region with boundary (not the whole image) and enough area
  const candScale: number[] = [];
  const candRegion: number[] = [];
  const candScore: number[] = [];
  hierarchies.forEach((h, s) => {
    for (let r = 0; r < h.count; r++) {
      const a = h.area[r]!;
      if (a < params.minArea || a >= pixelCount || h.boundaryCount[r] === 0) continue;
      candScale.push(s);
      candRegion.push(r);
      candScore.push(objectness(h, r));
    }
  });
  const order = Array.from(candScore.keys()).sort((i, j) => candScore[j]! - candScore[i]! || i - j);

  const groups = groupDuplicates(hierarchies, scaleAtoms, atoms, order, candScale, candRegion, candScore, params.duplicateIou, checkAbort);
  const scaleCount = hierarchies.length;
  const popcount = (x: number) => { let c = 0; while (x) { c += x & 1; x >>>= 1; } return c; };
  // Size bands (half-decades of the image share): the cap is filled round-robin over the bands, best
  // first in each, so that wholes (few, large) are never crowded out by many small parts.
  const bandOf = (area: number) => Math.max(0, Math.floor(2 * Math.log10(area / pixelCount) + 6));
  const bands: { g: Group; i: number; stability: number; score: number }[][] = [];
  groups.forEach((g, i) => {
    const stability = popcount(g.scales) / scaleCount;
    const entry = { g, i, stability, score: 0.8 * g.score + 0.2 * stability };
    (bands[bandOf(g.area)] ??= []).push(entry);
  });
  const lists = bands.filter((b) => b !== undefined).reverse();
  for (const list of lists) list.sort((x, y) => y.score - x.score || x.i - y.i);
  const picked: { g: Group; stability: number; score: number }[] = [];
  for (let round = 0; picked.length < params.maxRegions; round++) {
    let any = false;
    for (const list of lists) {
      if (round < list.length && picked.length < params.maxRegions) { picked.push(list[round]!); any = true; }
    }
    if (!any) break;
  }
  return picked.map(({ g, stability, score }) => ({
    scale: g.scale, region: g.region, atoms: scaleAtoms[g.scale]!.atomsOf(g.region), box: g.box, score, stability,
  }));
}

interface Group {
  scale: number;
  region: number;
  area: number;
  box: Int32Array;
  score: number;
  scales: number;
}

/**
 * The candidates in `order`, grouped greedily: each joins the first group (best first) it overlaps by more than
 * IoU `t`, else starts one. A function of its own, ending with its loop: code after the loop had no type feedback
 * when the loop was optimised, and threw that code away.
 */
function groupDuplicates(
  hierarchies: readonly Hierarchy[],
  scaleAtoms: readonly ScaleAtoms[],
  atoms: AtomMap,
  order: readonly number[],
  candScale: readonly number[],
  candRegion: readonly number[],
  candScore: readonly number[],
  t: number,
  checkAbort: () => void,
): Group[] {
  // A candidate's atoms are marked once it reaches an IoU test; a group's intersection with it is then a pass
  // over the group's atom range (no sorted atom lists for the thousands of candidates, only for those picked).
  const stamp = new Int32Array(atoms.count).fill(-1);
  const groups: Group[] = [];
  // groups bucketed by log-area: IoU > t needs an area ratio >= t, so only nearby buckets can match
  const bucketWidth = Math.log(1 / Math.max(1e-6, Math.min(0.999, t)));
  const buckets = new Map<number, Group[]>();
  for (let oi = 0; oi < order.length; oi++) {
    // on every candidate (a cheap check): a call first made on the 1024th was one the optimised loop had not seen
    checkAbort();
    const c = order[oi]!;
    const s = candScale[c]!, r = candRegion[c]!;
    const h = hierarchies[s]!;
    const area = h.area[r]!;
    const box = h.box.subarray(4 * r, 4 * r + 4);
    const bucket = Math.floor(Math.log(area) / bucketWidth);
    let stamped = false;
    let dup: Group | undefined;
    for (let bk = bucket - 1; bk <= bucket + 1 && !dup; bk++) {
      for (const g of buckets.get(bk) ?? []) {
        const big = Math.max(area, g.area), small = Math.min(area, g.area);
        if (small < t * big) continue;
        const ix = Math.min(box[2]!, g.box[2]!) - Math.max(box[0]!, g.box[0]!) + 1;
        const iy = Math.min(box[3]!, g.box[3]!) - Math.max(box[1]!, g.box[1]!) + 1;
        if (ix <= 0 || iy <= 0 || ix * iy <= t * big) continue;
        if (!stamped) {
          stampAtoms(scaleAtoms[s]!, r, stamp, oi);
          stamped = true;
        }
        const inter = stampedArea(scaleAtoms[g.scale]!, g.region, stamp, oi, atoms.area);
        if (inter > t * (area + g.area - inter)) { dup = g; break; }
      }
    }
    if (dup) {
      dup.scales |= 1 << s;
      continue;
    }
    const g: Group = { scale: s, region: r, area, box, score: candScore[c]!, scales: 1 << s };
    groups.push(g);
    const arr = buckets.get(bucket);
    if (arr) arr.push(g); else buckets.set(bucket, [g]);
  }
  return groups;
}
