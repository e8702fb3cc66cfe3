/**
 * Hierarchical grouping of selective search (Uijlings et al., IJCV 2013, §3.1–3.2, Algorithm 1; OpenCV
 * ximgproc selectivesearchsegmentation.cpp): starting from one FH segmentation, repeatedly merge the most
 * similar pair of adjacent regions, similarity = colour + texture (histogram intersection) + size + fill,
 * until one region is left. Every region ever formed (the base segments and each merge) is recorded, which
 * gives a tree of nested proposals: parts and wholes.
 *
 * Besides the features the merging needs, each region carries what the proposal ranking needs: boundary
 * and interior edge statistics (mean ΔE across and inside) and the perimeter, all updated in O(degree) per
 * merge from the region adjacency graph.
 *
 * The base segments' statistics and adjacency (one pass over the pixels and one over the graph's edges) do
 * not depend on the grouping strategy: `segmentBase` computes them once per scale and every strategy's
 * `buildHierarchy` starts from copies.
 */
import type { GridGraph } from "./felzenszwalb.js";
import { COLOUR_BINS, HIST_DIMS } from "./features.js";

export interface Hierarchy {
  /** Number of base segments (regions 0..baseCount-1); regions baseCount.. are merges. */
  baseCount: number;
  /** Total regions (base + merged). */
  count: number;
  area: Int32Array;
  /** Working-size bbox, inclusive: x0, y0, x1, y1 per region (stride 4). */
  box: Int32Array;
  /** Children of merged regions (-1 for base segments). */
  left: Int32Array;
  right: Int32Array;
  /** Sum and count of 8-connected graph edges crossing the region's boundary. */
  boundarySum: Float64Array;
  boundaryCount: Float64Array;
  /** Sum and count of graph edges inside the region. */
  innerSum: Float64Array;
  innerCount: Float64Array;
  /** Perimeter in pixel sides: 4-connected boundary edges plus sides on the image border. */
  perimeter: Float64Array;
}

/** One FH segmentation's base segments: statistics and adjacency, shared by every grouping strategy. */
export interface SegmentBase {
  width: number;
  height: number;
  count: number;
  area: Int32Array;
  box: Int32Array;
  hist: Float32Array;
  boundarySum: Float64Array;
  boundaryCount: Float64Array;
  innerSum: Float64Array;
  innerCount: Float64Array;
  perimeter: Float64Array;
  /** Adjacent pairs (a < b) with the sum and counts (8- and 4-connected) of the edges between them. */
  pairs: number;
  pairA: Int32Array;
  pairB: Int32Array;
  pairSum: Float64Array;
  pairCount8: Float64Array;
  pairCount4: Float64Array;
  /**
   * Per adjacent pair, the colour and texture histogram intersections of its two segments: the same for every
   * strategy, computed once (NaN until the first strategy that needs them).
   */
  pairColour: Float64Array;
  pairTexture: Float64Array;
}

/** Binary max-heap of (similarity, a, b) with a deterministic tie-break on the pair. */
class PairHeap {
  private sim = new Float64Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  size = 0;

  private less(i: number, j: number): boolean {
    // true when entry i ranks below entry j. Every read and comparison of the tie-break is made on every call:
    // made only on a tie (rare, and late), they had no type feedback when the heap's callers were optimised,
    // and the first tie threw that code away.
    const sim = this.sim, a = this.a, b = this.b;
    const si = sim[i]!, sj = sim[j]!, ai = a[i]!, aj = a[j]!, bi = b[i]!, bj = b[j]!;
    const below = si < sj, tie = si === sj, aAbove = ai > aj, aTie = ai === aj, bAbove = bi > bj;
    return below || (tie && (aAbove || (aTie && bAbove)));
  }

  private swap(i: number, j: number): void {
    const s = this.sim[i]!; this.sim[i] = this.sim[j]!; this.sim[j] = s;
    const a = this.a[i]!; this.a[i] = this.a[j]!; this.a[j] = a;
    const b = this.b[i]!; this.b[i] = this.b[j]!; this.b[j] = b;
  }

  push(sim: number, a: number, b: number): void {
    if (this.size === this.sim.length) {
      const sim = new Float64Array(this.size * 2); sim.set(this.sim); this.sim = sim;
      const na = new Int32Array(this.size * 2); na.set(this.a); this.a = na;
      const nb = new Int32Array(this.size * 2); nb.set(this.b); this.b = nb;
    }
    let i = this.size++;
    this.sim[i] = sim; this.a[i] = a; this.b[i] = b;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(p, i)) break;
      this.swap(p, i);
      i = p;
    }
  }

  /** Removes the top; its fields are left in `top`. */
  pop(top: { sim: number; a: number; b: number }): void {
    top.sim = this.sim[0]!; top.a = this.a[0]!; top.b = this.b[0]!;
    const last = --this.size;
    if (last > 0) {
      this.sim[0] = this.sim[last]!; this.a[0] = this.a[last]!; this.b[0] = this.b[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < last && this.less(best, l)) best = l;
        if (r < last && this.less(best, r)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
  }
}

/**
 * The region adjacency graph while regions merge, in typed arrays (no Map per region): one slot per adjacent
 * pair with its edge statistics, and per region a singly linked list of half-edges (2·slot + side). Merging
 * i and j into t relinks their lists to t, folds the slots of a neighbour adjacent to both into one (i's, so
 * the sums are the same numbers as adding j's to it) and kills the slot between i and j; neighbours' lists
 * keep dead half-edges, skipped when walked.
 */
class RegionGraph {
  slotEnd: Int32Array; // per half-edge: the region at that end
  sum: Float64Array;
  count8: Float64Array;
  count4: Float64Array;
  alive: Uint8Array;
  next: Int32Array; // per half-edge: the next one in its region's list, −1 at the end
  head: Int32Array; // per region: first half-edge, −1 when none
  slots = 0;

  constructor(regions: number, capacity: number) {
    this.slotEnd = new Int32Array(2 * capacity);
    this.sum = new Float64Array(capacity);
    this.count8 = new Float64Array(capacity);
    this.count4 = new Float64Array(capacity);
    this.alive = new Uint8Array(capacity);
    this.next = new Int32Array(2 * capacity);
    this.head = new Int32Array(regions).fill(-1);
  }

  add(a: number, b: number, sum: number, count8: number, count4: number): void {
    const s = this.slots++;
    this.slotEnd[2 * s] = a;
    this.slotEnd[2 * s + 1] = b;
    this.sum[s] = sum;
    this.count8[s] = count8;
    this.count4[s] = count4;
    this.alive[s] = 1;
    this.next[2 * s] = this.head[a]!;
    this.head[a] = 2 * s;
    this.next[2 * s + 1] = this.head[b]!;
    this.head[b] = 2 * s + 1;
  }

  /** The live slot between i and j (they are adjacent when the heap offers them). */
  slotBetween(i: number, j: number): number {
    for (let h = this.head[i]!; h >= 0; h = this.next[h]!) {
      const s = h >> 1;
      if (this.alive[s] && this.slotEnd[h ^ 1] === j) return s;
    }
    return -1;
  }
}

/** Area, box, colour/texture histogram and image-border sides of every base segment (one pass over the pixels). */
function pixelStats(labels: Int32Array, width: number, height: number, bins: Uint8Array, base: SegmentBase): void {
  // Which image borders a row lies on is worked out here, not in the row's function: its comparisons, first
  // met on the second and the last row, threw that function's optimised code away.
  const last = height - 1;
  const edge = height === 1 ? 2 : 1;
  for (let y = 0; y < height; y++) pixelStatsRow(labels, width, bins, base.area, base.box, base.hist, base.perimeter, y, y === 0 || y === last ? edge : 0);
}

/** pixelStats for row y: a function of its own, optimised for all rows (optimised during the first row, a loop
 * over the whole image met the other rows' comparisons without type feedback and was compiled again). */
function pixelStatsRow(
  labels: Int32Array,
  width: number,
  bins: Uint8Array,
  area: Int32Array,
  box: Int32Array,
  hist: Float32Array,
  perimeter: Float64Array,
  y: number,
  /** Image borders (top, bottom) this row lies on: 0, 1 or 2. */
  top: number,
): void {
  for (let x = 0; x < width; x++) {
    const p = y * width + x;
    const r = labels[p]!;
    area[r]!++;
    const bb = 4 * r;
    if (x < box[bb]!) box[bb] = x;
    if (y < box[bb + 1]!) box[bb + 1] = y;
    if (x > box[bb + 2]!) box[bb + 2] = x;
    if (y > box[bb + 3]!) box[bb + 3] = y;
    const hb = r * HIST_DIMS;
    const pb = 6 * p;
    hist[hb + bins[pb]!]! += 1;
    hist[hb + bins[pb + 1]!]! += 1;
    hist[hb + bins[pb + 2]!]! += 1;
    hist[hb + bins[pb + 3]!]! += 1;
    hist[hb + bins[pb + 4]!]! += 1;
    hist[hb + bins[pb + 5]!]! += 1;
    // sides on the image border count toward the perimeter
    const sides = top + (x === 0 ? 1 : 0) + (x === width - 1 ? 1 : 0);
    if (sides) perimeter[r]! += sides;
  }
}

/** The adjacent pairs of segments as they are collected, in growable typed arrays. */
class PairTable {
  a: Int32Array;
  b: Int32Array;
  sum: Float64Array;
  count8: Float64Array;
  count4: Float64Array;

  constructor(capacity: number) {
    this.a = new Int32Array(capacity);
    this.b = new Int32Array(capacity);
    this.sum = new Float64Array(capacity);
    this.count8 = new Float64Array(capacity);
    this.count4 = new Float64Array(capacity);
  }

  grow(): void {
    const size = this.a.length * 2;
    const a = new Int32Array(size); a.set(this.a); this.a = a;
    const b = new Int32Array(size); b.set(this.b); this.b = b;
    const sum = new Float64Array(size); sum.set(this.sum); this.sum = sum;
    const count8 = new Float64Array(size); count8.set(this.count8); this.count8 = count8;
    const count4 = new Float64Array(size); count4.set(this.count4); this.count4 = count4;
  }
}

/**
 * Edge statistics: inside each segment, on its boundary, and per adjacent pair (an open-addressing table keyed
 * on a·count + b collects the pairs without a Map per edge). Edges are visited in construction order, so the
 * sums are the same numbers whatever the sort did.
 */
function edgeStats(graph: GridGraph, labels: Int32Array, base: SegmentBase): void {
  const { count } = base;
  let cap = 1 << 10;
  while (cap < 16 * count) cap <<= 1;
  const keys = new Int32Array(cap).fill(-1);
  const slotOf = new Int32Array(cap);
  const table = new PairTable(4 * count + 16);
  const pairs = collectEdgeStats(graph.weight, graph.delta, labels, base, keys, slotOf, cap - 1, table);
  base.pairs = pairs;
  base.pairA = table.a;
  base.pairB = table.b;
  base.pairSum = table.sum;
  base.pairCount8 = table.count8;
  base.pairCount4 = table.count4;
  base.pairColour = new Float64Array(pairs).fill(NaN);
  base.pairTexture = new Float64Array(pairs).fill(NaN);
}

/**
 * edgeStats' pass over the edges, returning the number of pairs. Nothing follows its loop: the first call is
 * optimised while in the loop, and code after it, without type feedback then, deoptimised every later call.
 */
function collectEdgeStats(
  weight: Float32Array, delta: Int32Array, labels: Int32Array, base: SegmentBase,
  keys: Int32Array, slotOf: Int32Array, mask: number, table: PairTable,
): number {
  const { count, innerSum, innerCount, boundarySum, boundaryCount, perimeter } = base;
  let pairA = table.a, pairB = table.b, pairSum = table.sum, pairCount8 = table.count8, pairCount4 = table.count4;
  let pairs = 0;
  for (let e = 0; e < weight.length; e++) {
    const w = weight[e]!;
    if (w < 0) continue;
    const pa = e >> 2;
    const d = e & 3;
    const la = labels[pa]!;
    const lb = labels[pa + delta[d]!]!;
    if (la === lb) {
      innerSum[la]! += w;
      innerCount[la]! += 1;
      continue;
    }
    const axis = d < 2 ? 1 : 0; // right and down neighbours share a pixel side
    const lo = la < lb ? la : lb;
    const hi = la < lb ? lb : la;
    const key = lo * count + hi;
    let h = Math.imul(key, 0x9e3779b1) & mask;
    let slot = -1;
    for (;;) {
      const k = keys[h]!;
      if (k === key) {
        slot = slotOf[h]!;
        break;
      }
      if (k === -1) break;
      h = (h + 1) & mask;
    }
    if (slot < 0) {
      if (pairs === pairA.length) {
        table.grow();
        pairA = table.a; pairB = table.b; pairSum = table.sum; pairCount8 = table.count8; pairCount4 = table.count4;
      }
      slot = pairs++;
      keys[h] = key;
      slotOf[h] = slot;
      pairA[slot] = lo;
      pairB[slot] = hi;
    }
    pairSum[slot]! += w;
    pairCount8[slot]! += 1;
    pairCount4[slot]! += axis;
    boundarySum[la]! += w; boundarySum[lb]! += w;
    boundaryCount[la]! += 1; boundaryCount[lb]! += 1;
    perimeter[la]! += axis; perimeter[lb]! += axis;
  }
  return pairs;
}

/** The base segments of one FH segmentation, for any number of grouping strategies. */
export function segmentBase(graph: GridGraph, labels: Int32Array, count: number, bins: Uint8Array): SegmentBase {
  const { width, height } = graph;
  const base: SegmentBase = {
    width,
    height,
    count,
    area: new Int32Array(count),
    box: new Int32Array(4 * count),
    hist: new Float32Array(count * HIST_DIMS),
    boundarySum: new Float64Array(count),
    boundaryCount: new Float64Array(count),
    innerSum: new Float64Array(count),
    innerCount: new Float64Array(count),
    perimeter: new Float64Array(count),
    pairs: 0,
    pairA: new Int32Array(0),
    pairB: new Int32Array(0),
    pairSum: new Float64Array(0),
    pairCount8: new Float64Array(0),
    pairCount4: new Float64Array(0),
    pairColour: new Float64Array(0),
    pairTexture: new Float64Array(0),
  };
  for (let r = 0; r < count; r++) {
    base.box[4 * r] = width; base.box[4 * r + 1] = height; base.box[4 * r + 2] = -1; base.box[4 * r + 3] = -1;
  }
  pixelStats(labels, width, height, bins, base);
  edgeStats(graph, labels, base);
  return base;
}

/** Grows a typed array to `total` entries, keeping the first values. */
function extend<T extends Int32Array | Float32Array | Float64Array>(arr: T, total: number): T {
  const out = new (arr.constructor as new (n: number) => T)(total);
  out.set(arr.subarray(0, Math.min(arr.length, total)));
  return out;
}

/**
 * Moves the live half-edges of `from` (merged into t with `other`) to t's list: a slot to `other` dies, a slot
 * to a neighbour t already has is added into that one and dies; `seen[nb]` holds t's slot to nb (stamped by
 * `stamp[nb] === t`).
 */
function relink(g: RegionGraph, from: number, other: number, t: number, seen: Int32Array, stamp: Int32Array): void {
  const { slotEnd, alive, next, sum, count8, count4 } = g;
  let h = g.head[from]!;
  g.head[from] = -1;
  while (h >= 0) {
    const nh = next[h]!;
    const s = h >> 1;
    if (alive[s]) {
      const nb = slotEnd[h ^ 1]!;
      if (nb === other) {
        alive[s] = 0;
      } else if (stamp[nb] === t) {
        const keep = seen[nb]!;
        sum[keep]! += sum[s]!;
        count8[keep]! += count8[s]!;
        count4[keep]! += count4[s]!;
        alive[s] = 0;
      } else {
        stamp[nb] = t;
        seen[nb] = s;
        slotEnd[h] = t;
        next[h] = g.head[t]!;
        g.head[t] = h;
      }
    }
    h = nh;
  }
}

/**
 * Region t's histogram, the sum of i's and j's. A function of its own: called on every merge, it is optimised
 * after a few calls, while buildHierarchy, large and called 8 times, runs long in the interpreter and allocated
 * a heap number per bin there.
 */
function addHistograms(hist: Float32Array, t: number, i: number, j: number): void {
  const ht = t * HIST_DIMS, hi = i * HIST_DIMS, hj = j * HIST_DIMS;
  for (let d = 0; d < HIST_DIMS; d++) hist[ht + d] = hist[hi + d]! + hist[hj + d]!;
}

/**
 * Histogram intersection of regions i and j over bins [from, to), each histogram normalised by its region's
 * area (module level, not a closure over one hierarchy's arrays: one optimised function for every strategy).
 */
function histIntersection(hist: Float32Array, area: Int32Array, i: number, j: number, from: number, to: number): number {
  const hi = i * HIST_DIMS, hj = j * HIST_DIMS;
  const ai = 1 / area[i]!, aj = 1 / area[j]!;
  let s = 0;
  for (let d = from; d < to; d++) {
    const u = hist[hi + d]! * ai, v = hist[hj + d]! * aj;
    s += u < v ? u : v;
  }
  return s / 3; // three channels, each normalised to 1
}

/** The weighted similarity of regions i and j, from their colour and texture intersections. */
function similarity(
  area: Int32Array, box: Int32Array, n: number, weights: readonly [number, number, number, number],
  i: number, j: number, colour: number, texture: number,
): number {
  const size = 1 - (area[i]! + area[j]!) / n;
  const bw = Math.max(box[4 * i + 2]!, box[4 * j + 2]!) - Math.min(box[4 * i]!, box[4 * j]!) + 1;
  const bh = Math.max(box[4 * i + 3]!, box[4 * j + 3]!) - Math.min(box[4 * i + 1]!, box[4 * j + 1]!) + 1;
  const fill = 1 - (bw * bh - area[i]! - area[j]!) / n;
  return weights[0] * colour + weights[1] * texture + weights[2] * size + weights[3] * fill;
}

/** What a merge writes per region (arrays over all regions, base segments first). */
type Merged = Omit<Hierarchy, "baseCount" | "count"> & { hist: Float32Array };

// buildHierarchy's loops are functions of their own: a function with several long loops one after another
// was compiled once per loop (each loop's on-stack replacement compiles the whole function anew).

/** Region adjacency graph of the base segments, with room for every region merging makes. */
function adjacency(base: SegmentBase, total: number): RegionGraph {
  const graph = new RegionGraph(total, Math.max(1, base.pairs));
  for (let p = 0; p < base.pairs; p++) graph.add(base.pairA[p]!, base.pairB[p]!, base.pairSum[p]!, base.pairCount8[p]!, base.pairCount4[p]!);
  return graph;
}

/** The heap of every adjacent pair of base segments by similarity. */
function seedHeap(
  base: SegmentBase,
  area: Int32Array,
  box: Int32Array,
  n: number,
  weights: readonly [number, number, number, number],
  needColour: boolean,
  needTexture: boolean,
): PairHeap {
  const heap = new PairHeap();
  for (let p = 0; p < base.pairs; p++) {
    const a = base.pairA[p]!, b = base.pairB[p]!;
    heap.push(similarity(area, box, n, weights, a, b, needColour ? base.pairColour[p]! : 0, needTexture ? base.pairTexture[p]! : 0), a, b);
  }
  return heap;
}

/** Merges the most similar adjacent pair until one region is left or no pair; returns the regions made. */
function mergeAll(
  graph: RegionGraph,
  heap: PairHeap,
  m: Merged,
  baseCount: number,
  total: number,
  n: number,
  weights: readonly [number, number, number, number],
  needColour: boolean,
  needTexture: boolean,
  checkAbort: () => void,
): number {
  const { area, box, left, right, boundarySum, boundaryCount, innerSum, innerCount, perimeter, hist } = m;
  const seen = new Int32Array(total);
  const stamp = new Int32Array(total).fill(-1);
  const alive = new Uint8Array(total);
  alive.fill(1, 0, baseCount);
  const top = { sim: 0, a: 0, b: 0 };
  let next = baseCount;
  while (heap.size > 0 && next < total) {
    heap.pop(top);
    const i = top.a, j = top.b;
    if (!alive[i] || !alive[j]) continue;
    const t = next++;
    if ((t & 255) === 0) checkAbort();
    alive[i] = 0; alive[j] = 0; alive[t] = 1;
    left[t] = i; right[t] = j;
    area[t] = area[i]! + area[j]!;
    box[4 * t] = Math.min(box[4 * i]!, box[4 * j]!);
    box[4 * t + 1] = Math.min(box[4 * i + 1]!, box[4 * j + 1]!);
    box[4 * t + 2] = Math.max(box[4 * i + 2]!, box[4 * j + 2]!);
    box[4 * t + 3] = Math.max(box[4 * i + 3]!, box[4 * j + 3]!);
    addHistograms(hist, t, i, j);
    const shared = graph.slotBetween(i, j);
    boundarySum[t] = boundarySum[i]! + boundarySum[j]! - 2 * graph.sum[shared]!;
    boundaryCount[t] = boundaryCount[i]! + boundaryCount[j]! - 2 * graph.count8[shared]!;
    innerSum[t] = innerSum[i]! + innerSum[j]! + graph.sum[shared]!;
    innerCount[t] = innerCount[i]! + innerCount[j]! + graph.count8[shared]!;
    perimeter[t] = perimeter[i]! + perimeter[j]! - 2 * graph.count4[shared]!;
    // t's neighbours: i's and j's, with the edge statistics of a common neighbour summed.
    relink(graph, i, j, t, seen, stamp);
    relink(graph, j, i, t, seen, stamp);
    for (let h = graph.head[t]!; h >= 0; h = graph.next[h]!) {
      const nb = graph.slotEnd[h ^ 1]!;
      const colour = needColour ? histIntersection(hist, area, t, nb, 0, 3 * COLOUR_BINS) : 0;
      const texture = needTexture ? histIntersection(hist, area, t, nb, 3 * COLOUR_BINS, HIST_DIMS) : 0;
      heap.push(similarity(area, box, n, weights, t, nb, colour, texture), nb < t ? nb : t, nb < t ? t : nb);
    }
  }
  return next;
}

/**
 * The colour and texture intersections of every adjacent base pair, once per scale. A strategy that gives a
 * similarity no weight skips it: its term is 0 · x = +0 either way (intersections are finite and >= 0).
 */
function pairIntersections(base: SegmentBase, needColour: boolean, needTexture: boolean): void {
  const { hist, area, pairA, pairB, pairColour, pairTexture } = base;
  if (needColour && base.pairs > 0 && Number.isNaN(pairColour[0]!)) {
    for (let p = 0; p < base.pairs; p++) pairColour[p] = histIntersection(hist, area, pairA[p]!, pairB[p]!, 0, 3 * COLOUR_BINS);
  }
  if (needTexture && base.pairs > 0 && Number.isNaN(pairTexture[0]!)) {
    for (let p = 0; p < base.pairs; p++) pairTexture[p] = histIntersection(hist, area, pairA[p]!, pairB[p]!, 3 * COLOUR_BINS, HIST_DIMS);
  }
}

export function buildHierarchy(
  base: SegmentBase,
  checkAbort: () => void,
  /** Weights of the colour, texture, size and fill similarities (selective search's strategies). */
  weights: readonly [number, number, number, number] = [1, 1, 1, 1],
): Hierarchy {
  const needColour = weights[0] !== 0;
  const needTexture = weights[1] !== 0;
  const { width, height, count: baseCount } = base;
  const n = width * height;
  const total = Math.max(1, 2 * baseCount - 1);
  const area = extend(base.area, total);
  const box = extend(base.box, 4 * total);
  const left = new Int32Array(total).fill(-1);
  const right = new Int32Array(total).fill(-1);
  const boundarySum = extend(base.boundarySum, total);
  const boundaryCount = extend(base.boundaryCount, total);
  const innerSum = extend(base.innerSum, total);
  const innerCount = extend(base.innerCount, total);
  const perimeter = extend(base.perimeter, total);
  const hist = extend(base.hist, total * HIST_DIMS);

  const graph = adjacency(base, total);
  pairIntersections(base, needColour, needTexture);
  const heap = seedHeap(base, area, box, n, weights, needColour, needTexture);
  const merged: Merged = { area, box, left, right, boundarySum, boundaryCount, innerSum, innerCount, perimeter, hist };
  const next = mergeAll(graph, heap, merged, baseCount, total, n, weights, needColour, needTexture, checkAbort);
  return {
    baseCount,
    count: next,
    area, box, left, right, boundarySum, boundaryCount, innerSum, innerCount, perimeter,
  };
}
