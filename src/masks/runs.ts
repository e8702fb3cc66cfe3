/**
 * Walks over an RLE's foreground runs for the pixel work of other modules (painting label maps and alpha
 * channels, boxes for crops and labels), so that no module outside src/masks reads `counts` itself. Runs are
 * column-major (COCO): pixel index i is column floor(i / height), row i mod height.
 */
import type { BBox, Rle } from "./types.js";

/**
 * The exact box of the mask's pixels [x, y, w, h] (numpy's argwhere min/max, as DAM's crop takes it), unlike
 * COCO's `toBbox`, whose box takes the full height whenever a run crosses a column. Undefined for an empty
 * mask.
 */
export function tightBbox(rle: Rle): BBox | undefined {
  const { height: h, counts } = rle;
  let xs = Infinity;
  let ys = Infinity;
  let xe = -1;
  let ye = -1;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if (j & 1 && len > 0) {
      const end = pos + len - 1;
      const x0 = Math.floor(pos / h);
      const x1 = Math.floor(end / h);
      if (x0 < xs) xs = x0;
      if (x1 > xe) xe = x1;
      if (x1 > x0) {
        // Column x0 is covered down to the bottom row and column x1 from the top row: the box spans every row.
        ys = 0;
        ye = h - 1;
      } else {
        const y0 = pos - x0 * h;
        const y1 = end - x1 * h;
        if (y0 < ys) ys = y0;
        if (y1 > ye) ye = y1;
      }
    }
    pos += len;
  }
  if (xe < 0) return undefined;
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/**
 * Sets `value` on every foreground pixel of `rle` in a column-major map (index = x * height + y): one `fill`
 * per run, sequential memory. Painting several masks in turn gives a label map (later ones on top).
 */
export function paintColumnMajor(map: Uint8Array | Uint16Array | Uint32Array, rle: Rle, value: number): void {
  const counts = rle.counts;
  const n = map.length;
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const len = counts[i]!;
    if (i & 1) map.fill(value, pos, Math.min(n, pos + len));
    pos += len;
  }
}

/**
 * Calls `span(x, y0, len)` for every piece of a foreground run within one column (rows y0 .. y0 + len - 1 of
 * column x), in run order: row-major pixel work then strides down a column without dividing per pixel.
 */
export function forEachColumnSpan(rle: Rle, span: (x: number, y0: number, len: number) => void): void {
  const { height: h, counts } = rle;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if (j & 1 && len > 0) {
      let x = Math.floor(pos / h);
      let y0 = pos - x * h;
      let left = len;
      while (left > 0) {
        const n = Math.min(left, h - y0);
        span(x, y0, n);
        left -= n;
        x++;
        y0 = 0;
      }
    }
    pos += len;
  }
}

/** A pixel [x, y] surely inside the mask: the middle of its longest run. Undefined for an empty mask. */
export function pointInside(rle: Rle): [number, number] | undefined {
  let pos = 0;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const len = rle.counts[i]!;
    if (i & 1 && len > bestLen) {
      bestLen = len;
      bestStart = pos;
    }
    pos += len;
  }
  if (bestStart < 0) return undefined;
  const p = bestStart + (bestLen >> 1);
  return [Math.floor(p / rle.height), p % rle.height];
}

/**
 * Foreground pixels of `rle` inside each rectangle [x0, y0, x1, y1) (pixel columns and rows, end exclusive),
 * counted in one walk over its column spans.
 */
export function areasInRects(rle: Rle, rects: readonly (readonly [number, number, number, number])[]): Float64Array {
  const out = new Float64Array(rects.length);
  forEachColumnSpan(rle, (x, y0, len) => {
    const y1 = y0 + len;
    for (let k = 0; k < rects.length; k++) {
      const r = rects[k]!;
      if (x < r[0] || x >= r[2]) continue;
      const lo = Math.max(y0, r[1]);
      const hi = Math.min(y1, r[3]);
      if (hi > lo) out[k]! += hi - lo;
    }
  });
  return out;
}

/** A box [x, y, w, h] as the pixel rectangle [x0, y0, x1, y1) of the pixels it covers, clipped to the image. */
export function pixelRect(box: BBox, width: number, height: number): [number, number, number, number] {
  const x0 = Math.max(0, Math.min(width, Math.round(box[0])));
  const y0 = Math.max(0, Math.min(height, Math.round(box[1])));
  const x1 = Math.max(x0, Math.min(width, Math.round(box[0] + box[2])));
  const y1 = Math.max(y0, Math.min(height, Math.round(box[1] + box[3])));
  return [x0, y0, x1, y1];
}
