/**
 * How much of one region another covers, counted on their COCO runs (column-major, background first)
 * without building the intersection mask: the walk over the covering region's runs starts at the covered
 * region's first pixel (binary search) and stops as soon as the answer is known.
 */

/** Cumulative ends of the runs: run k covers pixels [ends[k-1], ends[k]) (ends[-1] = 0). */
export function runEnds(counts: Uint32Array): Float64Array {
  const ends = new Float64Array(counts.length);
  let pos = 0;
  for (let k = 0; k < counts.length; k++) ends[k] = pos += counts[k]!;
  return ends;
}

/** Index of the run that contains pixel `p` (the first run whose end is beyond p), or ends.length. */
function runAt(ends: Float64Array, p: number): number {
  let lo = 0, hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * True when the foreground of `inner` (its runs) and of the region with run ends `outerEnds` share at least
 * `need` pixels. `innerArea` (the foreground size of `inner`) lets the walk stop once `need` is out of reach.
 * Equal to `area(merge([inner, outer], true)) >= need`.
 */
export function coversAtLeast(inner: Uint32Array, outerEnds: Float64Array, need: number, innerArea: number): boolean {
  return sharedPixelsUntil(inner, outerEnds, need, innerArea) >= need;
}

/**
 * The foreground pixels `inner` (its runs) shares with the region of run ends `outerEnds`: equal to
 * `area(merge([inner, outer], true))`, without building the intersection. The walk starts at inner's first
 * foreground run (binary search) and ends with inner's last.
 */
export function sharedPixels(inner: Uint32Array, outerEnds: Float64Array): number {
  return sharedPixelsUntil(inner, outerEnds, Infinity, Infinity);
}

/** The shared pixels, except that the walk stops as soon as the count reaches `need` (then ≥ need) or can no
 * longer reach it with the `innerArea` pixels of inner not yet walked (then < need). */
function sharedPixelsUntil(inner: Uint32Array, outerEnds: Float64Array, need: number, innerArea: number): number {
  let shared = 0;
  let left = innerArea; // inner foreground pixels not yet walked
  let pos = 0;
  let j = -1;
  for (let k = 0; k < inner.length; k++) {
    const run = inner[k]!;
    if (k % 2 === 1 && run > 0) {
      const s = pos, e = pos + run;
      if (j < 0) j = runAt(outerEnds, s);
      else while (j < outerEnds.length && outerEnds[j]! <= s) j++;
      // Walk the outer runs that overlap [s, e); the last one may also overlap the next inner run.
      while (j < outerEnds.length) {
        const os = j === 0 ? 0 : outerEnds[j - 1]!;
        const oe = outerEnds[j]!;
        if (j % 2 === 1) shared += Math.min(e, oe) - Math.max(s, os);
        if (oe >= e) break;
        j++;
      }
      if (shared >= need) return shared;
      left -= run;
      if (shared + left < need) return shared;
    }
    pos += run;
  }
  return shared;
}

/**
 * Whether pixel (x, y) of a `width` × `height` mask with run ends `ends` is foreground (false outside the
 * mask): a binary search, where `area(merge([rle, fromBbox([x, y, 1, 1], …)], true)) > 0` builds two masks.
 */
export function containsPixel(ends: Float64Array, width: number, height: number, x: number, y: number): boolean {
  if (!(x >= 0 && y >= 0 && x < width && y < height)) return false;
  const k = runAt(ends, x * height + y);
  return k < ends.length && k % 2 === 1;
}
