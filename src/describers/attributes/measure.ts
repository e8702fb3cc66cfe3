/**
 * Measurements of one region, read by walking its RLE runs (column-major, as COCO) over the image without
 * decoding the mask: colour-name histogram, mean lightness and chroma, centroid and second moments,
 * and luminance gradient energy inside the mask.
 */
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { COLOUR_NAMES, binTables } from "./colour.js";

export interface RegionMeasures {
  area: number;
  /** Pixels per colour name (index into COLOUR_NAMES). */
  colourCounts: Float64Array;
  meanLightness: number;
  meanChroma: number;
  /** Centroid in pixels. */
  cx: number;
  cy: number;
  /** Central second moments (variances and covariance) in pixels². */
  varX: number;
  varY: number;
  covXY: number;
  /** Mean absolute luminance (0..255) difference between neighbouring pixels inside the mask. */
  gradient: number;
}

/** Walk the foreground runs of `rle` and measure `image` under them. */
export function measureRegion(image: RgbImage, rle: Rle): RegionMeasures {
  const { name, lightness, chroma } = binTables();
  const H = rle.height;
  const W = rle.width;
  const data = image.data;
  const colourCounts = new Float64Array(COLOUR_NAMES.length);
  let area = 0, sumX = 0, sumY = 0, sumXX = 0, sumYY = 0, sumXY = 0, sumL = 0, sumC = 0, grad = 0, gradN = 0;
  let pos = 0;
  const counts = rle.counts;
  for (let k = 0; k < counts.length; k++) {
    const run = counts[k]!;
    if (k % 2 === 1 && run > 0) {
      let i = pos;
      let left = run;
      while (left > 0) {
        const x = Math.floor(i / H);
        const y0 = i - x * H;
        const len = Math.min(left, H - y0);
        // One column segment: rows y0 .. y0+len-1 of column x. Moments in closed form.
        const y1 = y0 + len - 1;
        const sy = ((y0 + y1) * len) / 2;
        const syy = (y1 * (y1 + 1) * (2 * y1 + 1) - (y0 - 1) * y0 * (2 * y0 - 1)) / 6;
        area += len;
        sumX += x * len;
        sumXX += x * x * len;
        sumY += sy;
        sumYY += syy;
        sumXY += x * sy;
        let prevLum = -1;
        for (let y = y0; y <= y1; y++) {
          const p = (y * W + x) * 3;
          const r = data[p]!, g = data[p + 1]!, b = data[p + 2]!;
          const bin = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
          colourCounts[name[bin]!]!++;
          sumL += lightness[bin]!;
          sumC += chroma[bin]!;
          const lum = (r * 77 + g * 150 + b * 29) >> 8;
          if (prevLum >= 0) {
            grad += Math.abs(lum - prevLum);
            gradN++;
          }
          prevLum = lum;
          if (x + 1 < W) {
            const q = p + 3;
            grad += Math.abs(lum - ((data[q]! * 77 + data[q + 1]! * 150 + data[q + 2]! * 29) >> 8));
            gradN++;
          }
        }
        left -= len;
        i += len;
      }
    }
    pos += run;
  }
  const n = Math.max(1, area);
  const cx = sumX / n, cy = sumY / n;
  return {
    area,
    colourCounts,
    meanLightness: sumL / n,
    meanChroma: sumC / n,
    cx,
    cy,
    varX: sumXX / n - cx * cx,
    varY: sumYY / n - cy * cy,
    covXY: sumXY / n - cx * cy,
    gradient: gradN ? grad / gradN : 0,
  };
}

/** Colour-name histogram, lightness and chroma of a whole image (every pixel). */
export function measureImage(image: RgbImage): Pick<RegionMeasures, "colourCounts" | "meanLightness" | "meanChroma" | "area"> {
  const { name, lightness, chroma } = binTables();
  const data = image.data;
  const colourCounts = new Float64Array(COLOUR_NAMES.length);
  let sumL = 0, sumC = 0;
  const n = image.width * image.height;
  for (let p = 0; p < n * 3; p += 3) {
    const bin = ((data[p]! >> 3) << 10) | ((data[p + 1]! >> 3) << 5) | (data[p + 2]! >> 3);
    colourCounts[name[bin]!]!++;
    sumL += lightness[bin]!;
    sumC += chroma[bin]!;
  }
  return { area: n, colourCounts, meanLightness: sumL / Math.max(1, n), meanChroma: sumC / Math.max(1, n) };
}
