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
  for (let y = 0; y < height; y++) {
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
  const order = sortEdges(weight);
  const sortedWeight = new Float32Array(order.length);
  gatherWeights(weight, order, sortedWeight);
  return { width, height, weight, order, sortedWeight, delta: edgeDeltas(width) };
}

function gatherWeights(weight: Float32Array, order: Int32Array, out: Float32Array): void {
  for (let i = 0; i < order.length; i++) out[i] = weight[order[i]!]!;
}

const LEVELS = 65536;

/** Stable counting sort of the valid edge ids (weight >= 0) by weight quantised to 65536 levels over [0, max]. */
function sortEdges(weight: Float32Array): Int32Array {
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
  placeEdges(weight, scale, start, order);
  return order;
}

function countLevels(weight: Float32Array, scale: number, start: Int32Array): void {
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i]!;
    if (w >= 0) start[Math.floor(w * scale) + 1]!++;
  }
}

function placeEdges(weight: Float32Array, scale: number, start: Int32Array, order: Int32Array): void {
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i]!;
    if (w >= 0) order[start[Math.floor(w * scale)]!++] = i;
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
  if (rank[x] === rank[y]) rank[y]!++;
  return y;
}

/** segment-graph's main loop: merge along sorted edges while w <= Int(C) + k/|C| on both sides. */
function mergeAlongEdges(g: GridGraph, k: number, parent: Int32Array, rank: Uint8Array, size: Int32Array, thresh: Float32Array): void {
  const { order, sortedWeight, delta } = g;
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    const p = e >> 2;
    const ra = find(parent, p);
    const rb = find(parent, p + delta[e & 3]!);
    if (ra === rb) continue;
    const w = sortedWeight[i]!;
    if (w <= thresh[ra]! && w <= thresh[rb]!) {
      const r = join(parent, rank, size, ra, rb);
      thresh[r] = w + k / size[r]!;
    }
  }
}

/** The reference's post-processing: join, along the same edge order, every component smaller than minSize. */
function joinSmall(g: GridGraph, minSize: number, parent: Int32Array, rank: Uint8Array, size: Int32Array): void {
  const { order, delta } = g;
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    const p = e >> 2;
    const ra = find(parent, p);
    const rb = find(parent, p + delta[e & 3]!);
    if (ra !== rb && (size[ra]! < minSize || size[rb]! < minSize)) join(parent, rank, size, ra, rb);
  }
}

/** Labels 0..count-1, numbered in raster order of each component's first pixel. */
function labelComponents(parent: Int32Array, labels: Int32Array): number {
  const n = parent.length;
  const idOfRoot = new Int32Array(n).fill(-1);
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
 * One FH segmentation at scale k. Returns per-pixel labels 0..count-1, numbered in raster order of each
 * component's first pixel (deterministic).
 */
export function felzenszwalb(graph: GridGraph, k: number, minSize: number): { labels: Int32Array; count: number } {
  const n = graph.width * graph.height;
  const parent = new Int32Array(n);
  const rank = new Uint8Array(n);
  const size = new Int32Array(n).fill(1);
  const thresh = new Float32Array(n).fill(k);
  for (let i = 0; i < n; i++) parent[i] = i;
  mergeAlongEdges(graph, k, parent, rank, size, thresh);
  if (minSize > 1) joinSmall(graph, minSize, parent, rank, size);
  const labels = new Int32Array(n);
  const count = labelComponents(parent, labels);
  return { labels, count };
}
