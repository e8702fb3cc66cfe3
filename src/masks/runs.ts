/**
 * Walks over an RLE's foreground runs for the pixel work of other modules (painting label maps and alpha
 * channels, a point to put a label at), so that no module outside src/masks reads `counts` itself. Runs are
 * column-major (COCO): pixel index i is column floor(i / height), row i mod height.
 */
import type { Rle } from "./types.js";

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
 * Sets `value` on every foreground pixel of `rle` in a row-major map (index = y * width + x), column span by
 * column span: a write per pixel (strided), no full-size column-major map to fill and transpose, so it pays
 * for masks that cover a small part of the map. The same map as `paintColumnMajor` then a transpose.
 */
export function paintRowMajor(map: Uint8Array | Uint16Array | Uint32Array, rle: Rle, value: number): void {
  const { width: w, height: h, counts } = rle;
  let pos = 0;
  for (let j = 1; j < counts.length; j += 2) {
    pos += counts[j - 1]!;
    let left = counts[j]!;
    if (left === 0) continue;
    let x = Math.floor(pos / h);
    let y = pos - x * h;
    pos += left;
    while (left > 0 && x < w) {
      const n = Math.min(left, h - y);
      for (let p = y * w + x, end = p + n * w; p < end; p += w) map[p] = value;
      left -= n;
      x++;
      y = 0;
    }
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

/** The number of pixels the runs cover (height * width for a well-formed RLE). */
export function runsTotal(rle: Rle): number {
  const counts = rle.counts;
  let sum = 0;
  for (let j = 0; j < counts.length; j++) sum += counts[j]!;
  return sum;
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
