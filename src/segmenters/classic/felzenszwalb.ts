/**
 * Felzenszwalb & Huttenlocher, "Efficient Graph-Based Image Segmentation", IJCV 59(2), 2004.
 * Follows the authors' reference code (pff `segment`: segment-image.h builds the 8-connected grid graph,
 * segment-graph.h merges along edges sorted by weight with the rule w <= Int(C) + k/|C| on both sides, then
 * joins components smaller than min_size along the same edge order). Differences: edge weights are CIELAB
 * distances (ΔE76) of the smoothed working image instead of RGB distances, and edges are ordered by a stable
 * counting sort on 16-bit quantised weights (thresholds still use the exact weights).
 */

/** The pixel graph, built once and shared by every scale. */
export interface GridGraph {
  width: number;
  height: number;
  /** Edge endpoints (pixel indices) and weights, in the reference's construction order. */
  a: Int32Array;
  b: Int32Array;
  weight: Float32Array;
  /** Edge indices sorted by ascending weight. */
  order: Int32Array;
  /** Endpoints and weights in sorted order (sequential reads in the merge loops, shared by all scales). */
  sortedA: Int32Array;
  sortedB: Int32Array;
  sortedWeight: Float32Array;
}

/** 8-connected grid graph over planar features (`planes.length / (w*h)` channels), Euclidean weights. */
export function buildGridGraph(planes: Float32Array, width: number, height: number): GridGraph {
  const n = width * height;
  const channels = planes.length / n;
  const capacity = Math.max(0, 4 * n);
  const a = new Int32Array(capacity);
  const b = new Int32Array(capacity);
  const weight = new Float32Array(capacity);
  let m = 0;
  const dist = (p: number, q: number): number => {
    let s = 0;
    for (let c = 0, off = 0; c < channels; c++, off += n) {
      const d = planes[off + p]! - planes[off + q]!;
      s += d * d;
    }
    return Math.sqrt(s);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x < width - 1) { a[m] = p; b[m] = p + 1; weight[m++] = dist(p, p + 1); }
      if (y < height - 1) { a[m] = p; b[m] = p + width; weight[m++] = dist(p, p + width); }
      if (x < width - 1 && y < height - 1) { a[m] = p; b[m] = p + width + 1; weight[m++] = dist(p, p + width + 1); }
      if (x < width - 1 && y > 0) { a[m] = p; b[m] = p - width + 1; weight[m++] = dist(p, p - width + 1); }
    }
  }
  const ea = a.slice(0, m);
  const eb = b.slice(0, m);
  const ew = weight.slice(0, m);
  const order = sortEdges(ew);
  const sortedA = new Int32Array(m), sortedB = new Int32Array(m), sortedWeight = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const e = order[i]!;
    sortedA[i] = ea[e]!; sortedB[i] = eb[e]!; sortedWeight[i] = ew[e]!;
  }
  return { width, height, a: ea, b: eb, weight: ew, order, sortedA, sortedB, sortedWeight };
}

/** Stable counting sort of edge indices by weight quantised to 65536 levels over [0, max]. */
function sortEdges(weight: Float32Array): Int32Array {
  const m = weight.length;
  let max = 0;
  for (let i = 0; i < m; i++) if (weight[i]! > max) max = weight[i]!;
  const LEVELS = 65536;
  const scale = max > 0 ? (LEVELS - 1) / max : 0;
  const key = new Uint16Array(m);
  const start = new Int32Array(LEVELS + 1);
  for (let i = 0; i < m; i++) {
    const q = Math.floor(weight[i]! * scale);
    key[i] = q;
    start[q + 1]!++;
  }
  for (let q = 0; q < LEVELS; q++) start[q + 1]! += start[q]!;
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[start[key[i]!]!++] = i;
  return order;
}

function find(parent: Int32Array, x: number): number {
  let r = x;
  while (parent[r] !== r) r = parent[r]!;
  // path compression
  while (parent[x] !== r) {
    const next = parent[x]!;
    parent[x] = r;
    x = next;
  }
  return r;
}

/**
 * One FH segmentation at scale k. Returns per-pixel labels 0..count-1, numbered in raster order of each
 * component's first pixel (deterministic).
 */
export function felzenszwalb(graph: GridGraph, k: number, minSize: number): { labels: Int32Array; count: number } {
  const n = graph.width * graph.height;
  const parent = new Int32Array(n);
  const rank = new Uint8Array(n);
  const size = new Int32Array(n);
  const thresh = new Float32Array(n);
  for (let i = 0; i < n; i++) { parent[i] = i; size[i] = 1; thresh[i] = k; }
  const { sortedA: a, sortedB: b, sortedWeight: weight } = graph;
  const join = (x: number, y: number): number => {
    // union by rank, as the reference's disjoint-set forest
    if (rank[x]! > rank[y]!) { parent[y] = x; size[x]! += size[y]!; return x; }
    parent[x] = y;
    size[y]! += size[x]!;
    if (rank[x] === rank[y]) rank[y]!++;
    return y;
  };
  const m = a.length;
  for (let e = 0; e < m; e++) {
    const ra = find(parent, a[e]!);
    const rb = find(parent, b[e]!);
    if (ra === rb) continue;
    const w = weight[e]!;
    if (w <= thresh[ra]! && w <= thresh[rb]!) {
      const r = join(ra, rb);
      thresh[r] = w + k / size[r]!;
    }
  }
  if (minSize > 1) {
    for (let e = 0; e < m; e++) {
      const ra = find(parent, a[e]!);
      const rb = find(parent, b[e]!);
      if (ra !== rb && (size[ra]! < minSize || size[rb]! < minSize)) join(ra, rb);
    }
  }
  const labels = new Int32Array(n);
  const idOfRoot = new Int32Array(n).fill(-1);
  let count = 0;
  for (let p = 0; p < n; p++) {
    const r = find(parent, p);
    let id = idOfRoot[r]!;
    if (id < 0) { id = count++; idOfRoot[r] = id; }
    labels[p] = id;
  }
  return { labels, count };
}
