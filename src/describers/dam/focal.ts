/**
 * Pixel work for region describers: the region's mask as an alpha channel (what DAM's server reads), and DAM's
 * focal crop rule.
 */
import type { BBox, Rle } from "../../masks/types.js";

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
 * Sets alpha = 255 on the region's pixels of an RGBA buffer whose alpha is 0. Walks the RLE's foreground runs
 * (column-major) directly, so only inside pixels are touched.
 */
export function setAlphaFromRle(rgba: Uint8Array, rle: Rle): void {
  const { height: h, width: w, counts } = rle;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if (j & 1) {
      let x = Math.floor(pos / h);
      let y = pos - x * h;
      for (let k = 0; k < len; k++) {
        rgba[(y * w + x) * 4 + 3] = 255;
        if (++y === h) {
          y = 0;
          x++;
        }
      }
    }
    pos += len;
  }
}

/**
 * DAM's focal crop (NVlabs/describe-anything, dam/describe_anything_model.py, `crop_image`, mode
 * "focal_crop"): take the mask's tight box, grow it about its centre to at least 48 px per side, then crop
 * three times that size around it (one box size of context on each side), clipped to the image. `tight` is the
 * mask's exact box [x0, y0, w, h] (exclusive end = x0 + w). Returns [left, top, width, height].
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

/**
 * The exact box of an RLE mask's pixels (not COCO's toBbox, whose box takes the full height when a run
 * crosses a column; DAM uses argwhere min/max). Undefined for an empty mask.
 */
export function tightBox(rle: Rle): BBox | undefined {
  const { height: h, counts } = rle;
  if (h === 0) return undefined;
  let xs = Infinity;
  let ys = Infinity;
  let xe = -1;
  let ye = -1;
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if (j & 1 && len > 0) {
      const start = pos;
      const end = pos + len - 1;
      const x0 = Math.floor(start / h);
      const x1 = Math.floor(end / h);
      const y0 = start - x0 * h;
      const y1 = end - x1 * h;
      if (x0 < xs) xs = x0;
      if (x1 > xe) xe = x1;
      if (x1 > x0) {
        // Column x0 is covered from y0 to the bottom and column x1 from the top to y1: every row is covered.
        ys = 0;
        ye = h - 1;
      } else {
        if (y0 < ys) ys = y0;
        if (y1 > ye) ye = y1;
      }
    }
    pos += len;
  }
  if (xe < 0) return undefined;
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}
