/**
 * A histogram of per-sample IoU drawn into a raw RGB buffer (bars, axis, counts and bin labels with the
 * built-in bitmap font), for report.md.
 */
import { encodePng } from "../image/encode.js";
import { drawText, measureText } from "../image/font.js";
import type { RgbImage } from "../image/types.js";

export function histogramCounts(values: readonly number[], bins = 10): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    counts[b]!++;
  }
  return counts;
}

function fillRect(img: RgbImage, x0: number, y0: number, w: number, h: number, rgb: readonly [number, number, number]): void {
  const d = img.data;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x0 + w); x++) {
      const o = (y * img.width + x) * 3;
      d[o] = rgb[0];
      d[o + 1] = rgb[1];
      d[o + 2] = rgb[2];
    }
  }
}

export function renderIouHistogram(values: readonly number[], title = "per-sample IoU", bins = 10): RgbImage {
  const width = 720;
  const height = 400;
  const img: RgbImage = { width, height, data: new Uint8Array(width * height * 3).fill(255) };
  const left = 50;
  const right = 20;
  const top = 50;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const counts = histogramCounts(values, bins);
  const max = Math.max(1, ...counts);
  const ink = [40, 40, 40] as const;
  const barW = Math.floor(plotW / bins);
  counts.forEach((c, b) => {
    const h = Math.round((c / max) * (plotH - 20));
    const x = left + b * barW;
    fillRect(img, x + 3, top + plotH - h, barW - 6, h, [46, 125, 196]);
    const label = String(c);
    drawText(img.data, width, height, x + (barW - measureText(label, 2).width) / 2, top + plotH - h - 22, label, { scale: 2, color: ink });
    const tick = (b / bins).toFixed(1);
    drawText(img.data, width, height, x - measureText(tick, 2).width / 2, top + plotH + 10, tick, { scale: 2, color: ink });
  });
  drawText(img.data, width, height, left + bins * barW - measureText("1.0", 2).width / 2, top + plotH + 10, "1.0", { scale: 2, color: ink });
  fillRect(img, left, top + plotH, bins * barW, 2, ink); // x axis
  fillRect(img, left - 2, top, 2, plotH + 2, ink); // y axis
  const heading = `${title} (n = ${values.length})`;
  drawText(img.data, width, height, (width - measureText(heading, 2).width) / 2, 14, heading, { scale: 2, color: ink });
  return img;
}

export async function renderIouHistogramPng(values: readonly number[], title?: string): Promise<Buffer> {
  return encodePng(renderIouHistogram(values, title));
}
