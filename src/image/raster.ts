/**
 * Raster helpers for the renderers: label maps, region outlines and the label anchor point of a region. Masks
 * are painted into a row-major label map by src/masks (`paintStackRowMajor`).
 */
import { maskBbox } from "../masks/bbox.js";
import type { BBox, BinaryMask, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";

/** Throws unless the RLE's size matches the image it is drawn on. */
export function checkRleSize(rle: Rle, width: number, height: number, what: string): void {
  if (rle.width !== width || rle.height !== height) {
    throw new GearSegError(`${what}: mask is ${rle.width}×${rle.height} but the image is ${width}×${height}`);
  }
}

/**
 * Marks the pixels of labelled regions (label > 0) that lie within `thickness` 4-connected steps of a
 * pixel with a different label: the inner border of every region, drawn on its own side. With
 * `imageEdge` the image border counts as outside (regions touching it get a closed outline).
 */
export function labelBorders(
  labels: Uint8Array | Uint16Array | Uint32Array,
  width: number,
  height: number,
  thickness = 1,
  imageEdge = false,
): Uint8Array {
  const n = width * height;
  const border = new Uint8Array(n);
  // Pass 1: pixels with a 4-neighbour of another label.
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const p = row + x;
      const l = labels[p]!;
      if (l === 0) continue;
      if (
        (x > 0 ? labels[p - 1] !== l : imageEdge) ||
        (x < width - 1 ? labels[p + 1] !== l : imageEdge) ||
        (y > 0 ? labels[p - width] !== l : imageEdge) ||
        (y < height - 1 ? labels[p + width] !== l : imageEdge)
      ) {
        border[p] = 1;
      }
    }
  }
  // Further passes grow the border inwards, one step each, staying inside the same label.
  for (let step = 2; step <= thickness; step++) {
    const prev = step - 1;
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const p = row + x;
        const l = labels[p]!;
        if (l === 0 || border[p] !== 0) continue;
        if (
          (x > 0 && border[p - 1] === prev && labels[p - 1] === l) ||
          (x < width - 1 && border[p + 1] === prev && labels[p + 1] === l) ||
          (y > 0 && border[p - width] === prev && labels[p - width] === l) ||
          (y < height - 1 && border[p + width] === prev && labels[p + width] === l)
        ) {
          border[p] = step;
        }
      }
    }
  }
  return border;
}

/**
 * The outline of a mask: its pixels within `thickness` 4-connected steps of an outside pixel (the image
 * border counts as outside only with `imageEdge`). Returns a 0/1 mask of the same size.
 */
export function maskOutline(mask: BinaryMask, thickness = 1, imageEdge = false): BinaryMask {
  const { width, height, data } = mask;
  const labels = new Uint8Array(width * height);
  for (let i = 0; i < labels.length; i++) labels[i] = data[i] ? 1 : 0;
  const border = labelBorders(labels, width, height, thickness, imageEdge);
  for (let i = 0; i < border.length; i++) if (border[i]) border[i] = 1;
  return { width, height, data: border };
}

/** Longest side of the sampling grid used to place labels: enough to find a mask's thick part. */
const ANCHOR_GRID = 96;

/**
 * The point of a region farthest from its border (the maximum of its distance transform), where a label
 * sits best: inside the mask even for U shapes and rings whose bbox centre is outside. The region is the
 * set of pixels where `labels[y * width + x] === value`, searched within `bbox`; the distance transform
 * runs on a grid downsampled to at most 96 cells a side (chamfer 1/√2 distances). Among maximal cells
 * (ties within 0.1 cell) the one nearest the bbox centre wins, so labels sit centrally. Returns undefined
 * when no sampled pixel belongs to the region (very thin or fully hidden regions).
 */
export function farthestInteriorPoint(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  value: number,
  bbox: BBox,
): [number, number] | undefined {
  return interiorAnchors(labels, width, height, value, bbox, 1)[0];
}

/**
 * Up to `count` label positions inside a region, best first: the farthest-from-border point (see
 * `farthestInteriorPoint`), then other interior points by decreasing distance from the border, at least
 * `minDistance` of the best one's distance and spread over the region, for when the best spot is taken by
 * another label.
 */
export function interiorAnchors(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  value: number,
  bbox: BBox,
  count: number,
  minDistance = 0.3,
): [number, number][] {
  const bx0 = Math.max(0, Math.floor(bbox[0]));
  const by0 = Math.max(0, Math.floor(bbox[1]));
  const bx1 = Math.min(width, Math.ceil(bbox[0] + bbox[2]));
  const by1 = Math.min(height, Math.ceil(bbox[1] + bbox[3]));
  const bw = bx1 - bx0;
  const bh = by1 - by0;
  if (bw <= 0 || bh <= 0) return [];
  const step = Math.max(1, Math.ceil(Math.max(bw, bh) / ANCHOR_GRID));
  const gw = Math.ceil(bw / step);
  const gh = Math.ceil(bh / step);
  const dist = new Float32Array(gw * gh);
  if (!sampleRegion(labels, width, value, bx0, by0, bx1, by1, step, gw, gh, dist)) return [];
  chamfer(dist, gw, gh);
  let best = 0;
  for (let p = 0; p < dist.length; p++) if (dist[p]! > best) best = dist[p]!;
  const bestP = mostCentral(dist, gw, gh, best);
  // spreadCells (which answers [bestP] alone for a count of 1) is called every time: a call or a product first
  // met when alternatives were asked for threw the optimised code away
  const cells = spreadCells(dist, gw, gh, bestP, best * minDistance, count);
  // A cell's sample pixel (the grid's cells are `step` pixels wide; their samples sit at their middles).
  const half = step >> 1;
  return cells.map((p) => {
    const i = p % gw;
    return [Math.min(bx1 - 1, bx0 + i * step + half), Math.min(by1 - 1, by0 + ((p - i) / gw) * step + half)];
  });
}

// interiorAnchors' loops are functions of their own: a call that asks for alternatives runs code the first
// calls (the best spot only) never reached, and one function holding it all was recompiled when it did.

/**
 * The region's cells of the sampling grid, each set to its distance to the grid's outside (which bounds its
 * distance transform from above; the bbox edge is outside the region); false when no sample is in the region.
 */
function sampleRegion(
  labels: ArrayLike<number>,
  width: number,
  value: number,
  bx0: number,
  by0: number,
  bx1: number,
  by1: number,
  step: number,
  gw: number,
  gh: number,
  dist: Float32Array,
): boolean {
  const half = step >> 1;
  let any = false;
  const xs = new Int32Array(gw);
  for (let i = 0; i < gw; i++) xs[i] = Math.min(bx1 - 1, bx0 + i * step + half);
  for (let j = 0; j < gh; j++) {
    const row = Math.min(by1 - 1, by0 + j * step + half) * width;
    for (let i = 0; i < gw; i++) {
      if (labels[row + xs[i]!] === value) {
        dist[j * gw + i] = Math.min(i + 1, j + 1, gw - i, gh - j);
        any = true;
      }
    }
  }
  return any;
}

/** Among the cells within 0.1 of the largest distance, the one nearest the grid's centre (the first on ties). */
function mostCentral(dist: Float32Array, gw: number, gh: number, best: number): number {
  // halves by a product with 0.5 (the same value): a float from the start, where a quotient that was whole on the
  // first calls (odd sides) threw the optimised code away on the first even side
  const cx = (gw - 1) * 0.5;
  const cy = (gh - 1) * 0.5;
  let bestP = -1;
  let bestOff = Infinity;
  for (let p = 0; p < dist.length; p++) {
    if (dist[p]! < best - 0.1) continue;
    const i = p % gw;
    const j = (p - i) / gw;
    const off = (i - cx) * (i - cx) + (j - cy) * (j - cy);
    if (off < bestOff) {
      bestOff = off;
      bestP = p;
    }
  }
  return bestP;
}

/**
 * `bestP`, then up to `count - 1` alternatives: interior cells by decreasing distance (at least `min`), each
 * at least a few cells from those taken. Taken from a heap one by one: the few alternatives wanted come long
 * before the end of a full sort.
 */
function spreadCells(dist: Float32Array, gw: number, gh: number, bestP: number, min: number, count: number): number[] {
  if (count <= 1) return [bestP];
  const cells = byDistanceThenIndex(dist, bestP, Math.max(1, min));
  const taken = [bestP];
  const spacing = Math.max(1, Math.min(gw, gh) / 8);
  const cellMask = (1 << CELL_BITS) - 1;
  for (let left = cells.length; left > 0 && taken.length < count; ) {
    const p = (cells[0]! % (cellMask + 1)) | 0; // a small integer kept as one: a double in `taken` changed its kind of array
    left = popMin(cells, left);
    const i = p % gw;
    const j = (p - i) / gw;
    if (taken.some((q) => Math.abs((q % gw) - i) + Math.abs(Math.floor(q / gw) - j) < spacing)) continue;
    taken.push(p);
  }
  return taken;
}

/** Grid cells (at most 2^14 of them) get at most 96 × 96 in `interiorAnchors`. */
const CELL_BITS = 14;

/**
 * The cells other than `skip` whose distance is at least `min`, as a binary min-heap of keys that order them
 * by decreasing distance, ties by increasing index: the distance's float32 bits (which order as the positive
 * values do), inverted, above the index (key % 2^CELL_BITS). Keys are distinct, so the heap hands them out in
 * exactly the order of a sort.
 */
function byDistanceThenIndex(dist: Float32Array, skip: number, min: number): Float64Array {
  const bits = new Uint32Array(dist.buffer, dist.byteOffset, dist.length);
  let n = 0;
  for (let p = 0; p < dist.length; p++) if (p !== skip && dist[p]! >= min) n++;
  const keys = new Float64Array(n);
  n = 0;
  for (let p = 0; p < dist.length; p++) if (p !== skip && dist[p]! >= min) keys[n++] = (0x80000000 - bits[p]!) * (1 << CELL_BITS) + p;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(keys, i, n);
  return keys;
}

/** Remove the least key (heap[0]) from a heap of `n` keys; returns the new size. */
function popMin(heap: Float64Array, n: number): number {
  n--;
  heap[0] = heap[n]!;
  siftDown(heap, 0, n);
  return n;
}

function siftDown(heap: Float64Array, i: number, n: number): void {
  const key = heap[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1]! < heap[c]!) c++;
    if (heap[c]! >= key) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = key;
}

/** In-place two-pass chamfer distance transform (weights 1 and √2); zero cells are outside. */
function chamfer(dist: Float32Array, gw: number, gh: number): void {
  const D = Math.SQRT2;
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      const p = j * gw + i;
      let d = dist[p]!;
      if (d === 0) continue;
      if (i > 0) d = Math.min(d, dist[p - 1]! + 1);
      if (j > 0) {
        d = Math.min(d, dist[p - gw]! + 1);
        if (i > 0) d = Math.min(d, dist[p - gw - 1]! + D);
        if (i < gw - 1) d = Math.min(d, dist[p - gw + 1]! + D);
      }
      dist[p] = d;
    }
  }
  for (let j = gh - 1; j >= 0; j--) {
    for (let i = gw - 1; i >= 0; i--) {
      const p = j * gw + i;
      let d = dist[p]!;
      if (d === 0) continue;
      if (i < gw - 1) d = Math.min(d, dist[p + 1]! + 1);
      if (j < gh - 1) {
        d = Math.min(d, dist[p + gw]! + 1);
        if (i < gw - 1) d = Math.min(d, dist[p + gw + 1]! + D);
        if (i > 0) d = Math.min(d, dist[p + gw - 1]! + D);
      }
      dist[p] = d;
    }
  }
}

/** The point where a mask's label goes: see `farthestInteriorPoint`; undefined for an empty mask. */
export function maskLabelPoint(mask: BinaryMask): [number, number] | undefined {
  const bbox = maskBbox(mask);
  if (!bbox) return undefined;
  return farthestInteriorPoint(mask.data, mask.width, mask.height, 1, bbox) ?? firstPixel(mask.data, mask.width);
}

function firstPixel(data: Uint8Array, width: number): [number, number] | undefined {
  const p = data.findIndex((v) => v !== 0);
  return p < 0 ? undefined : [p % width, Math.floor(p / width)];
}
