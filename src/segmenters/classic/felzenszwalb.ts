/**
 * Felzenszwalb & Huttenlocher, "Efficient Graph-Based Image Segmentation", IJCV 59(2), 2004.
 * Follows the authors' reference code (pff `segment`: segment-image.h builds the 8-connected grid graph,
 * segment-graph.h merges along edges sorted by weight with the rule w <= Int(C) + k/|C| on both sides, then
 * joins components smaller than min_size along the same edge order). Differences: edge weights are CIELAB
 * distances (ΔE76) of the smoothed working image instead of RGB distances, and edges are ordered by a stable
 * counting sort on 16-bit quantised weights (thresholds still use the exact weights).
 *
 * Layout: edge `4p + d` joins pixel p to its neighbour in direction d (0 right, 1 down, 2 down-right,
 * 3 up-right), which is also the reference's construction order, so the endpoints need no arrays; edges that
 * would leave the image get weight −1 and are never sorted in. Each loop is a small function of its own, so
 * that a single run (the CLI's case) gets optimised code early instead of on-stack replacement of one big
 * function loop by loop.
 */

/** The pixel graph, built once and shared by every scale. */
export interface GridGraph {
  width: number;
  height: number;
  /** Per edge id 4p + d, its weight; −1 where the neighbour is outside the image. */
  weight: Float32Array;
  /** Valid edge ids by ascending weight (ties in construction order). */
  order: Int32Array;
  /** Their weights, in that order (sequential reads in the merge loops, shared by all scales). */
  sortedWeight: Float32Array;
  /** Neighbour offset per direction: q = p + delta[d]. */
  delta: Int32Array;
}

/** Neighbour offsets of the four edge directions for a row length. */
export function edgeDeltas(width: number): Int32Array {
  return Int32Array.of(1, width, width + 1, 1 - width);
}

/** Euclidean distances of every pixel to its right, lower, lower-right and upper-right neighbours (3 planes). */
function edgeWeights(planes: Float32Array, width: number, height: number, out: Float32Array): void {
  const n = width * height;
  const p0 = planes.subarray(0, n);
  const p1 = planes.subarray(n, 2 * n);
  const p2 = planes.subarray(2 * n, 3 * n);
  for (let y = 0; y < height; y++) edgeWeightsRow(p0, p1, p2, width, height, y, out);
}

/**
 * One row of edgeWeights. A small function called per row is optimised after a few rows; the loop inside
 * edgeWeights ran far longer in the interpreter, a heap number per floating-point step.
 */
function edgeWeightsRow(p0: Float32Array, p1: Float32Array, p2: Float32Array, width: number, height: number, y: number, out: Float32Array): void {
  {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const p = row + x;
      const e = 4 * p;
      const l = p0[p]!, a = p1[p]!, b = p2[p]!;
      let d0, d1, d2;
      if (x < width - 1) {
        const q = p + 1;
        d0 = l - p0[q]!; d1 = a - p1[q]!; d2 = b - p2[q]!;
        out[e] = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
      } else out[e] = -1;
      if (y < height - 1) {
        const q = p + width;
        d0 = l - p0[q]!; d1 = a - p1[q]!; d2 = b - p2[q]!;
        out[e + 1] = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
        if (x < width - 1) {
          const r = q + 1;
          d0 = l - p0[r]!; d1 = a - p1[r]!; d2 = b - p2[r]!;
          out[e + 2] = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
        } else out[e + 2] = -1;
      } else {
        out[e + 1] = -1;
        out[e + 2] = -1;
      }
      if (x < width - 1 && y > 0) {
        const q = p - width + 1;
        d0 = l - p0[q]!; d1 = a - p1[q]!; d2 = b - p2[q]!;
        out[e + 3] = Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2);
      } else out[e + 3] = -1;
    }
  }
}

/** Euclidean distances over any number of planes (the general case; the segmenter uses three). */
function edgeWeightsGeneral(planes: Float32Array, width: number, height: number, out: Float32Array): void {
  const n = width * height;
  const channels = planes.length / n;
  const delta = edgeDeltas(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const valid = [x < width - 1, y < height - 1, x < width - 1 && y < height - 1, x < width - 1 && y > 0];
      for (let d = 0; d < 4; d++) {
        if (!valid[d]) {
          out[4 * p + d] = -1;
          continue;
        }
        const q = p + delta[d]!;
        let s = 0;
        for (let c = 0, off = 0; c < channels; c++, off += n) {
          const v = planes[off + p]! - planes[off + q]!;
          s += v * v;
        }
        out[4 * p + d] = Math.sqrt(s);
      }
    }
  }
}

/** 8-connected grid graph over planar features (`planes.length / (w*h)` channels), Euclidean weights. */
export function buildGridGraph(planes: Float32Array, width: number, height: number): GridGraph {
  const n = width * height;
  const weight = new Float32Array(4 * n);
  if (planes.length === 3 * n) edgeWeights(planes, width, height, weight);
  else edgeWeightsGeneral(planes, width, height, weight);
  const { order, sortedWeight } = sortEdges(weight);
  return { width, height, weight, order, sortedWeight, delta: edgeDeltas(width) };
}

const LEVELS = 65536;

/**
 * Stable counting sort of the valid edge ids (weight >= 0) by weight quantised to 65536 levels over [0, max];
 * their weights are placed in the same pass.
 */
function sortEdges(weight: Float32Array): { order: Int32Array; sortedWeight: Float32Array } {
  const total = weight.length;
  let max = 0;
  let m = 0;
  for (let i = 0; i < total; i++) {
    const w = weight[i]!;
    if (w >= 0) {
      m++;
      if (w > max) max = w;
    }
  }
  const scale = max > 0 ? (LEVELS - 1) / max : 0;
  const start = new Int32Array(LEVELS + 1);
  countLevels(weight, scale, start);
  for (let q = 0; q < LEVELS; q++) start[q + 1]! += start[q]!;
  const order = new Int32Array(m);
  const sortedWeight = new Float32Array(m);
  placeEdges(weight, scale, start, order, sortedWeight);
  return { order, sortedWeight };
}

function countLevels(weight: Float32Array, scale: number, start: Int32Array): void {
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i]!;
    if (w >= 0) start[Math.floor(w * scale) + 1]!++;
  }
}

function placeEdges(weight: Float32Array, scale: number, start: Int32Array, order: Int32Array, sortedWeight: Float32Array): void {
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i]!;
    if (w >= 0) {
      const at = start[Math.floor(w * scale)]!++;
      order[at] = i;
      sortedWeight[at] = w;
    }
  }
}

/** Root of x's tree, halving the path on the way (every other node points to its grandparent). */
function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    const g = parent[parent[x]!]!;
    parent[x] = g;
    x = g;
  }
  return x;
}

/** Union by rank, as the reference's disjoint-set forest; returns the new root. */
function join(parent: Int32Array, rank: Uint8Array, size: Int32Array, x: number, y: number): number {
  if (rank[x]! > rank[y]!) {
    parent[y] = x;
    size[x]! += size[y]!;
    return x;
  }
  parent[x] = y;
  size[y]! += size[x]!;
  // written every time (the same as rank[y]++ on equal ranks): a store first made late threw callers' code away
  rank[y] = rank[y]! + (rank[x] === rank[y] ? 1 : 0);
  return y;
}

/**
 * segment-graph's main loop from sorted position `from`: merge along sorted edges while w <= Int(C) + k/|C| on
 * both sides, keeping each root's last merge weight in `lastW`. With `stopAtRejected` it stops at the first
 * rejected edge and returns its sorted position (order.length when none): up to there every edge of a larger
 * scale k' ≥ k goes the same way (the thresholds w + k'/|C| are no smaller), so the forest at that point is every
 * larger scale's too, and Felzenszwalb.segment starts the next scale there. Without, it goes on to the end and
 * marks the edges it rejects in `rejected`, a bitmap over sorted positions: they are the only ones the
 * minimum-size pass can still join (an edge inside a component stays inside), a sixth of the edges at the
 * smallest scale and fewer above. find and join are written out in the loop: a single run spends its first
 * edges in the interpreter, where calls cost.
 */
function mergeEdges(
  g: GridGraph,
  k: number,
  from: number,
  stopAtRejected: boolean,
  parent: Int32Array,
  rank: Uint8Array,
  size: Int32Array,
  thresh: Float32Array,
  lastW: Float32Array,
  rejected: Int32Array,
): number {
  const { order, sortedWeight, delta } = g;
  for (let i = from; i < order.length; i++) {
    const e = order[i]!;
    const p = e >> 2;
    let ra = p;
    while (parent[ra] !== ra) {
      const up = parent[parent[ra]!]!;
      parent[ra] = up;
      ra = up;
    }
    let rb = p + delta[e & 3]!;
    while (parent[rb] !== rb) {
      const up = parent[parent[rb]!]!;
      parent[rb] = up;
      rb = up;
    }
    if (ra === rb) continue;
    const w = sortedWeight[i]!;
    if (!(w <= thresh[ra]! && w <= thresh[rb]!)) {
      if (stopAtRejected) return i;
      rejected[i >> 5]! |= 1 << (i & 31);
      continue;
    }
    let r: number;
    if (rank[ra]! > rank[rb]!) {
      parent[rb] = ra;
      r = ra;
      size[ra]! += size[rb]!;
    } else {
      parent[ra] = rb;
      r = rb;
      size[rb]! += size[ra]!;
      rank[rb] = rank[rb]! + (rank[ra] === rank[rb] ? 1 : 0); // as in join
    }
    thresh[r] = w + k / size[r]!;
    lastW[r] = w;
  }
  return order.length;
}

/** Thresholds of scale k for a forest taken over from a smaller scale: w + k/|C| as the main loop computes it. */
function thresholdsFor(k: number, size: Int32Array, lastW: Float32Array, thresh: Float32Array): void {
  for (let i = 0; i < size.length; i++) thresh[i] = size[i] === 1 ? k : lastW[i]! + k / size[i]!;
}

/**
 * The reference's post-processing: join, along the same edge order, every component smaller than minSize. Only
 * the edges the main loop rejected are visited (the others lie inside a component), in the same order.
 */
function joinSmall(g: GridGraph, minSize: number, parent: Int32Array, rank: Uint8Array, size: Int32Array, rejected: Int32Array): void {
  const { order, delta } = g;
  for (let word = 0; word < rejected.length; word++) {
    let bits = rejected[word]!;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const e = order[(word << 5) + 31 - Math.clz32(low)]!;
      const p = e >> 2;
      const ra = find(parent, p);
      const rb = find(parent, p + delta[e & 3]!);
      if (ra !== rb && (size[ra]! < minSize || size[rb]! < minSize)) join(parent, rank, size, ra, rb);
    }
  }
}

/** Labels 0..count-1, numbered in raster order of each component's first pixel (`idOfRoot`: n entries, scratch). */
function labelComponents(parent: Int32Array, idOfRoot: Int32Array, labels: Int32Array): number {
  const n = parent.length;
  idOfRoot.fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const r = find(parent, p);
    let id = idOfRoot[r]!;
    if (id < 0) {
      id = count++;
      idOfRoot[r] = id;
    }
    labels[p] = id;
  }
  return count;
}

/**
 * The disjoint-set forest and scratch of FH segmentation, allocated once for every scale of a graph (fresh
 * memory costs a page fault per 4 KB page; the scales would otherwise take 4 MB each). It also keeps the forest
 * as it was before the last scale's first rejected edge: a larger scale starts from there instead of from single
 * pixels (scales in ascending order, the default, skip 20-40% of their edges; the result is the same).
 */
export class Felzenszwalb {
  private readonly parent: Int32Array;
  private readonly rank: Uint8Array;
  private readonly size: Int32Array;
  private readonly thresh: Float32Array;
  private readonly lastW: Float32Array;
  private readonly rejected: Int32Array;
  /** The kept forest: its scale (−1: none), sorted position and arrays. */
  private keptK = -1;
  private keptAt = 0;
  private kept?: { parent: Int32Array; rank: Uint8Array; size: Int32Array; lastW: Float32Array };

  constructor(private readonly graph: GridGraph) {
    const n = graph.width * graph.height;
    this.parent = new Int32Array(n);
    this.rank = new Uint8Array(n);
    this.size = new Int32Array(n);
    this.thresh = new Float32Array(n);
    this.lastW = new Float32Array(n);
    this.rejected = new Int32Array((graph.order.length >>> 5) + 1);
  }

  /**
   * One FH segmentation at scale k. Returns per-pixel labels 0..count-1, numbered in raster order of each
   * component's first pixel (deterministic).
   */
  segment(k: number, minSize: number): { labels: Int32Array; count: number } {
    const { graph, parent, rank, size, thresh, lastW, rejected } = this;
    const n = parent.length;
    let from = 0;
    const kept = this.kept;
    if (kept && this.keptK >= 0 && this.keptK <= k) {
      parent.set(kept.parent);
      rank.set(kept.rank);
      size.set(kept.size);
      lastW.set(kept.lastW);
      thresholdsFor(k, size, lastW, thresh);
      from = this.keptAt;
    } else {
      for (let i = 0; i < n; i++) parent[i] = i;
      rank.fill(0);
      size.fill(1);
      thresh.fill(k);
    }
    rejected.fill(0);
    const at = mergeEdges(graph, k, from, true, parent, rank, size, thresh, lastW, rejected);
    if (at < graph.order.length) {
      const keep = (this.kept ??= { parent: new Int32Array(n), rank: new Uint8Array(n), size: new Int32Array(n), lastW: new Float32Array(n) });
      keep.parent.set(parent);
      keep.rank.set(rank);
      keep.size.set(size);
      keep.lastW.set(lastW);
      this.keptK = k;
      this.keptAt = at;
      mergeEdges(graph, k, at, false, parent, rank, size, thresh, lastW, rejected);
    }
    if (minSize > 1) joinSmall(graph, minSize, parent, rank, size, rejected);
    const labels = new Int32Array(n);
    // `size` is free once the components are joined: it serves as labelComponents' scratch
    const count = labelComponents(parent, size, labels);
    return { labels, count };
  }
}

/** One FH segmentation at scale k (see Felzenszwalb.segment; several scales of one graph should share one). */
export function felzenszwalb(graph: GridGraph, k: number, minSize: number): { labels: Int32Array; count: number } {
  return new Felzenszwalb(graph).segment(k, minSize);
}
