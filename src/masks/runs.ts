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
 * Paints a stack of masks (`rles[0]` at the bottom, later ones on top) into a zeroed row-major map
 * (index = y * width + x), `values[i]` on the pixels where `rles[i]` is the topmost mask, and returns how
 * many pixels each value got (`counts[values[i]]`; `counts[0]` = pixels no mask covers). The same map as
 * painting every mask in turn, but each pixel is written once: the masks are walked together column by
 * column, top one first, and a column's painted rows are skipped by a small union-find over the column
 * (kept in cache), so nested masks that cover the picture many times over cost their visible pixels, and
 * no column-major map is filled or transposed.
 */
export function paintStackRowMajor(
  map: Uint8Array | Uint16Array | Uint32Array,
  rles: readonly Rle[],
  values: ArrayLike<number>,
  width: number,
  height: number,
  counts: Float64Array,
): void {
  const k = rles.length;
  const h = height;
  // Per mask: the index of its next foreground run in `counts`, and where that run starts and ends (both
  // column-major positions); masks whose runs are exhausted have start = Infinity.
  const run = new Int32Array(k);
  const start = new Float64Array(k);
  const end = new Float64Array(k);
  for (let i = 0; i < k; i++) nextRun(rles[i]!.counts, i, 1, 0, run, start, end);
  // Column-local union-find: row y is painted in the current column when `stamp[y]` is the column's stamp,
  // and then `up[y]` is a row below it that may be unpainted (no reset per column).
  const up = new Int32Array(h + 1);
  const stamp = new Int32Array(h + 1);
  let painted = 0;
  for (let x = 0; x < width; x++) painted += paintColumn(map, rles, values, width, h, counts, run, start, end, up, stamp, x);
  counts[0] = width * height - painted;
}

/**
 * Column x of paintStackRowMajor: the masks' spans in it, top mask first, each painting the rows no mask above it
 * did. A function of its own, optimised once for every column (not a loop compiled on the stack, then again
 * when code after it ran), and its find steps are branch-free (a rare branch without type feedback threw
 * the optimised code away when first taken).
 */
function paintColumn(
  map: Uint8Array | Uint16Array | Uint32Array,
  rles: readonly Rle[],
  values: ArrayLike<number>,
  width: number,
  h: number,
  counts: Float64Array,
  run: Int32Array,
  start: Float64Array,
  end: Float64Array,
  up: Int32Array,
  stamp: Int32Array,
  x: number,
): number {
  const s = x + 1;
  const colStart = x * h;
  const colEnd = colStart + h;
  let painted = 0;
  for (let i = rles.length - 1; i >= 0; i--) {
    while (start[i]! < colEnd) {
      const value = values[i]!;
      const y0 = Math.max(start[i]!, colStart) - colStart;
      const y1 = Math.min(end[i]!, colEnd) - colStart;
      let c = 0;
      let y = firstUnpainted(y0, s, up, stamp);
      while (y < y1) {
        map[y * width + x] = value;
        c++;
        stamp[y] = s;
        // Row y is painted: it now points at the next unpainted row.
        const z = firstUnpainted(y + 1, s, up, stamp);
        up[y] = z;
        y = z;
      }
      // Rows y0 .. y (all painted now) point past the span.
      if (y0 < y) {
        stamp[y0] = s;
        up[y0] = y;
      }
      counts[value]! += c;
      painted += c;
      if (end[i]! <= colEnd) nextRun(rles[i]!.counts, i, run[i]! + 2, end[i]!, run, start, end);
      else break;
    }
  }
  return painted;
}

/**
 * The first row at or after y not painted in the column of stamp s, by path halving: a painted row's link
 * skips to its link's link when that one is painted too (up[y] is u otherwise, so writing u back changes
 * nothing, and the step has no branch that a rare case takes first).
 */
function firstUnpainted(y: number, s: number, up: Int32Array, stamp: Int32Array): number {
  while (stamp[y] === s) {
    const u = up[y]!;
    const uu = up[u]!;
    const next = stamp[u] === s ? uu : u;
    up[y] = next;
    y = next;
  }
  return y;
}

/**
 * paintStackRowMajor's step to mask i's next foreground run at or after `counts[j]` (which starts at `pos`):
 * its index and column-major start and end, or Infinity when the mask has no more. A function of the module,
 * not a closure: a closure made anew per call is a new call target each time, and the optimised caller
 * was thrown away on the next call.
 */
function nextRun(c: Uint32Array, i: number, j: number, pos: number, run: Int32Array, start: Float64Array, end: Float64Array): void {
  for (; j < c.length; j += 2) {
    pos += c[j - 1]!;
    const len = c[j]!;
    if (len > 0) {
      run[i] = j;
      start[i] = pos;
      end[i] = pos + len;
      return;
    }
  }
  run[i] = c.length;
  start[i] = Infinity;
  end[i] = Infinity;
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

/**
 * Whether each of the pixels (xs[i], ys[i]) is foreground, in one walk over the runs that stops at the last
 * pixel: the pixels must come in column-major order (x, then y, non-decreasing), and lie inside the mask.
 */
export function foregroundAt(rle: Rle, xs: ArrayLike<number>, ys: ArrayLike<number>): Uint8Array {
  const { height: h, counts } = rle;
  const out = new Uint8Array(xs.length);
  let j = 0;
  let end = counts.length > 0 ? counts[0]! : 0; // column-major position where run j ends
  for (let i = 0; i < xs.length; i++) {
    const p = xs[i]! * h + ys[i]!;
    while (end <= p && j + 1 < counts.length) end += counts[++j]!;
    out[i] = end > p && j & 1 ? 1 : 0;
  }
  return out;
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
