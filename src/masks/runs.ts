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
