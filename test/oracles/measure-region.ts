// The oracle of the attributes describer's measurements: one region's pixels walked one by one in run order,
// everything summed as plainly as it can be written. `measureRegions` (src/describers/attributes/measure.ts)
// must give the same numbers for many regions at once without visiting their pixels; its tests check that.
import type { RgbImage } from "../../src/image/types.js";
import type { Rle } from "../../src/masks/types.js";
import type { RegionMeasures } from "../../src/describers/attributes/measure.js";
import { COLOUR_NAMES, binOf, binTables } from "../../src/vocabulary/colour-names.js";

/** Walk the foreground runs of `rle` and measure `image` under them, pixel by pixel. */
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
          const bin = binOf(r, g, b);
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
