/**
 * NanoDet's input, as upstream builds it at inference (RangiLyu/nanodet):
 * - nanodet/data/transform/warp.py, get_resize_matrix with keep_ratio: scale by min(D/w, D/h) about the image
 *   centre and place it at the centre of the D×D input; cv2.warpPerspective (bilinear, constant border 0)
 *   samples each input pixel (u, v) at x = (u − D/2)/r + w/2, y = (v − D/2)/r + h/2 and rounds to 8 bits;
 * - nanodet/data/transform/color.py, _normalize: OpenCV's BGR channel order, (value − mean) / std with the
 *   means and deviations of config/legacy_v0.x_configs/nanodet-g.yml;
 * - channels first, [1, 3, D, D].
 * (Human's own NanoDet code feeds RGB / 255 stretched to the square: the model then calls a dog a bear.)
 */
import type { RgbImage } from "../../image/types.js";

/** B, G, R means and standard deviations (nanodet-g.yml `normalize`). */
const MEAN_BGR = [103.53, 116.28, 123.675] as const;
const STD_BGR = [57.375, 57.12, 58.395] as const;

/** How the image sits in the square input: input = (image − centre) · ratio + size / 2. */
export interface Letterbox {
  size: number;
  ratio: number;
  width: number;
  height: number;
}

export function letterboxOf(width: number, height: number, size: number): Letterbox {
  return { size, ratio: Math.min(size / width, size / height), width, height };
}

/** Input-space x or y back to image pixels (the inverse warp upstream applies to boxes). */
export const toImageX = (lb: Letterbox, x: number) => (x - lb.size / 2) / lb.ratio + lb.width / 2;
export const toImageY = (lb: Letterbox, y: number) => (y - lb.size / 2) / lb.ratio + lb.height / 2;

/** Per output coordinate along one axis: the two source taps (−1 = outside, reads 0) and the weight of the second. */
function axisTaps(outSize: number, srcSize: number, lb: Letterbox, toSource: (lb: Letterbox, v: number) => number) {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const s = toSource(lb, o);
    const s0 = Math.floor(s);
    lo[o] = s0 >= 0 && s0 < srcSize ? s0 : -1;
    hi[o] = s0 + 1 >= 0 && s0 + 1 < srcSize ? s0 + 1 : -1;
    w[o] = s - s0;
  }
  return { lo, hi, w };
}

/**
 * Writes the normalised, letterboxed BGR planes of `image` into `out` (length 3·size², reused between images)
 * and returns where the image sits.
 */
export function nanodetInput(image: RgbImage, size: number, out: Float32Array): Letterbox {
  const { width, height, data } = image;
  if (out.length !== 3 * size * size) throw new Error(`input buffer holds ${out.length} values, ${3 * size * size} needed`);
  const lb = letterboxOf(width, height, size);
  const xs = axisTaps(size, width, lb, toImageX);
  const ys = axisTaps(size, height, lb, toImageY);
  const plane = size * size;
  const norm = normalisedValues();
  const stride = width * 3;
  for (let v = 0; v < size; v++) {
    const r0 = ys.lo[v]! >= 0 ? ys.lo[v]! * stride : -1;
    const r1 = ys.hi[v]! >= 0 ? ys.hi[v]! * stride : -1;
    const wy = ys.w[v]!;
    const row = v * size;
    for (let u = 0; u < size; u++) {
      const x0 = xs.lo[u]!;
      const x1 = xs.hi[u]!;
      const wx = xs.w[u]!;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      // A tap outside the image reads 0 (the constant border); the sum keeps the order of the taps, so that each
      // value rounds as cv2.warpPerspective's reference computation here always has.
      const a = r0 >= 0 && x0 >= 0 ? r0 + x0 * 3 : -1;
      const b = r0 >= 0 && x1 >= 0 ? r0 + x1 * 3 : -1;
      const c = r1 >= 0 && x0 >= 0 ? r1 + x0 * 3 : -1;
      const d = r1 >= 0 && x1 >= 0 ? r1 + x1 * 3 : -1;
      const at = row + u;
      // Input plane k is BGR channel k, i.e. image channel 2 − k; norm holds plane k's values at k·256.
      for (let k = 0; k < 3; k++) {
        const ch = 2 - k;
        let sum = a >= 0 ? data[a + ch]! * w00 : 0;
        if (b >= 0) sum += data[b + ch]! * w01;
        if (c >= 0) sum += data[c + ch]! * w10;
        if (d >= 0) sum += data[d + ch]! * w11;
        out[k * plane + at] = norm[k * 256 + Math.min(255, Math.round(sum))]!;
      }
    }
  }
  return lb;
}

let normalised: Float64Array | undefined;

/** (value − mean) / std of each 8-bit value, per input plane (B, G, R): 3 × 256 entries. */
function normalisedValues(): Float64Array {
  if (!normalised) {
    normalised = new Float64Array(3 * 256);
    for (let k = 0; k < 3; k++) for (let value = 0; value < 256; value++) normalised[k * 256 + value] = (value - MEAN_BGR[k]!) / STD_BGR[k]!;
  }
  return normalised;
}
