/**
 * A bar chart drawn straight into an RGB buffer with the built-in bitmap font and written with our PNG
 * encoder: no plotting library, no system fonts.
 */
import { encodePng } from "../image/encode.js";
import { drawText, measureText, type Rgb } from "../image/font.js";

export interface Bar {
  label: string;
  value: number;
}

const BAR_COLOURS: Rgb[] = [
  [66, 133, 244],
  [219, 68, 55],
  [244, 180, 0],
  [15, 157, 88],
  [171, 71, 188],
  [0, 172, 193],
  [255, 112, 67],
  [124, 179, 66],
];

export interface BarChartOptions {
  title?: string;
  width?: number;
  height?: number;
}

/** The chart as RGB pixels. */
export function renderBarChartRgb(bars: readonly Bar[], options: BarChartOptions = {}): { width: number; height: number; data: Uint8Array } {
  const width = options.width ?? 720;
  const height = options.height ?? 400;
  const data = new Uint8Array(width * height * 3).fill(255);
  const fillRect = (x0: number, y0: number, x1: number, y1: number, c: Rgb) => {
    const xa = Math.max(0, Math.round(x0));
    const xb = Math.min(width, Math.round(x1));
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(height, Math.round(y1)); y++) {
      for (let x = xa; x < xb; x++) {
        const i = (y * width + x) * 3;
        data[i] = c[0];
        data[i + 1] = c[1];
        data[i + 2] = c[2];
      }
    }
  };
  const ink: Rgb = [40, 40, 40];
  const top = options.title ? 40 : 16;
  if (options.title) {
    const size = measureText(options.title, 2);
    drawText(data, width, height, (width - size.width) / 2, 10, options.title, { color: ink, scale: 2 });
  }
  const left = 48;
  const right = width - 16;
  const bottom = height - 40;
  const max = Math.max(1, ...bars.map((b) => b.value));
  // Axis and light grid lines at quarters of the maximum.
  for (let q = 0; q <= 4; q++) {
    const y = bottom - ((bottom - top - 16) * q) / 4;
    fillRect(left, y, right, y + 1, q === 0 ? ink : [225, 225, 225]);
    const label = String(Math.round((max * q) / 4));
    drawText(data, width, height, left - 6 - measureText(label).width, y - 4, label, { color: [110, 110, 110] });
  }
  fillRect(left, top, left + 1, bottom, ink);
  const slot = (right - left) / Math.max(1, bars.length);
  bars.forEach((bar, i) => {
    const h = ((bottom - top - 16) * bar.value) / max;
    const x0 = left + i * slot + slot * 0.2;
    const x1 = left + (i + 1) * slot - slot * 0.2;
    fillRect(x0, bottom - h, x1, bottom, BAR_COLOURS[i % BAR_COLOURS.length]!);
    const value = String(bar.value);
    drawText(data, width, height, (x0 + x1) / 2 - measureText(value).width / 2, bottom - h - 14, value, { color: ink });
    const lw = measureText(bar.label).width;
    drawText(data, width, height, (x0 + x1) / 2 - lw / 2, bottom + 8, bar.label, { color: ink });
  });
  return { width, height, data };
}

export async function renderBarChartPng(bars: readonly Bar[], options: BarChartOptions = {}): Promise<Buffer> {
  return encodePng(renderBarChartRgb(bars, options));
}
