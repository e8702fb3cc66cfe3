/**
 * Tight boxes: the exact box of a mask's pixels, from its RLE or its row-major bytes. (COCO's `toBbox` in
 * rle.ts follows pycocotools' quirks instead and is what COCO files hold.)
 */
import type { BBox, BinaryMask, Rle } from "./types.js";

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

/** The exact box [x, y, w, h] of the non-zero pixels of a row-major mask; undefined when there are none. */
export function maskBbox(mask: BinaryMask): BBox | undefined {
  const { width, height, data } = mask;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? undefined : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** A box [x, y, w, h] as the pixel rectangle [x0, y0, x1, y1) of the pixels it covers, clipped to the image. */
export function pixelRect(box: BBox, width: number, height: number): [number, number, number, number] {
  const x0 = Math.max(0, Math.min(width, Math.round(box[0])));
  const y0 = Math.max(0, Math.min(height, Math.round(box[1])));
  const x1 = Math.max(x0, Math.min(width, Math.round(box[0] + box[2])));
  const y1 = Math.max(y0, Math.min(height, Math.round(box[1] + box[3])));
  return [x0, y0, x1, y1];
}
