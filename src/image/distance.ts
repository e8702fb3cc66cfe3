/**
 * Exact Euclidean distance transform, for outlines drawn at a sub-pixel-smooth distance from a mask.
 *
 * The algorithm is the lower envelope of parabolas of P. F. Felzenszwalb and D. P. Huttenlocher,
 * "Distance Transforms of Sampled Functions", Theory of Computing 8 (2012): a 1-D pass down every column,
 * then one along every row, each linear in the number of pixels.
 */

/** Larger than any squared distance in an image, small enough that sums stay exact in float64. */
const FAR = 1e20;

/**
 * Squared distance from every pixel of the window [x0, x0 + w) × [y0, y0 + h) to the nearest non-zero
 * pixel of the row-major `mask` (of width `width`) inside the same window; `FAR`-sized values where the
 * window holds none. Returns `out` (w * h values, row-major in the window).
 */
export function squaredDistanceToMask(
  mask: Uint8Array,
  width: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  out: Float64Array = new Float64Array(w * h),
): Float64Array {
  const n = Math.max(w, h);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = mask[(y0 + y) * width + x0 + x] ? 0 : FAR;
    envelope(f, h, d, v, z);
    for (let y = 0; y < h; y++) out[y * w + x] = d[y]!;
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) f[x] = out[row + x]!;
    envelope(f, w, d, v, z);
    for (let x = 0; x < w; x++) out[row + x] = d[x]!;
  }
  return out;
}

/** d[q] = min over p of (q - p)² + f[p], for q < n (the paper's DT(f) in one dimension). */
function envelope(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = f[q]! + q * q;
    let p = v[k]!;
    let s = (fq - (f[p]! + p * p)) / (2 * (q - p));
    // z[0] is -Infinity, so this stops at k = 0 at the latest.
    while (s <= z[k]!) {
      k--;
      p = v[k]!;
      s = (fq - (f[p]! + p * p)) / (2 * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1]! < q) k++;
    const p = v[k]!;
    d[q] = (q - p) * (q - p) + f[p]!;
  }
}
