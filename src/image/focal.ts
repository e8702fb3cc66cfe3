/**
 * Pixel work for region describers (dam, openai-vision): the region's mask as an alpha channel (what DAM's
 * server reads), and DAM's focal crop rule (the box around a region that a describer looks at).
 */
import { forEachColumnSpan } from "../masks/runs.js";
import type { BBox, Rle } from "../masks/types.js";

/** Interleaved RGB → RGBA with alpha 0 everywhere (copied per region, then `setAlphaFromRle`). */
export function rgbToRgbaBase(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const out = new Uint8Array(n * 4);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const k = i * 3;
    out[j] = rgb[k]!;
    out[j + 1] = rgb[k + 1]!;
    out[j + 2] = rgb[k + 2]!;
  }
  return out;
}

/**
 * Sets alpha = 255 on the region's pixels of an RGBA buffer whose alpha is 0: only inside pixels are touched,
 * one column span at a time.
 */
export function setAlphaFromRle(rgba: Uint8Array, rle: Rle): void {
  const stride = rle.width * 4;
  forEachColumnSpan(rle, (x, y0, len) => {
    for (let p = (y0 * rle.width + x) * 4 + 3, end = p + len * stride; p < end; p += stride) rgba[p] = 255;
  });
}

/**
 * DAM's focal crop (NVlabs/describe-anything, dam/describe_anything_model.py, `crop_image`, mode
 * "focal_crop"): take the mask's tight box, grow it about its centre to at least 48 px per side, then crop
 * three times that size around it (one box size of context on each side), clipped to the image. `tight` is the
 * mask's exact box [x0, y0, w, h] (`tightBbox` in src/masks; exclusive end = x0 + w). Returns [left, top,
 * width, height].
 */
export function focalCropBox(tight: BBox, imageWidth: number, imageHeight: number, minSide = 48): BBox {
  const [bx, by, bw, bh] = tight;
  const xc = bx + bw / 2;
  const yc = by + bh / 2;
  const w = Math.max(bw, minSide);
  const h = Math.max(bh, minSide);
  // Python's int() truncates toward zero.
  const x0 = Math.trunc(xc - w / 2);
  const y0 = Math.trunc(yc - h / 2);
  const left = Math.max(x0 - w, 0);
  const top = Math.max(y0 - h, 0);
  const right = Math.min(x0 + 2 * w, imageWidth);
  const bottom = Math.min(y0 + 2 * h, imageHeight);
  return [left, top, right - left, bottom - top];
}
