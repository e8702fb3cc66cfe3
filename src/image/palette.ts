/**
 * Region colours. The first 17 are hand-picked, mutually distinct colours (after Sasha Trubetskoy's list
 * of 20 distinct colours, without the greys and pastels that vanish as a tint); beyond them hues step by
 * the golden angle with alternating lightness, so neighbouring ids never look alike.
 */
import type { Rgb } from "./font.js";

const BASE: readonly Rgb[] = [
  [230, 25, 75], // red
  [60, 180, 75], // green
  [0, 130, 200], // blue
  [255, 225, 25], // yellow
  [245, 130, 48], // orange
  [145, 30, 180], // purple
  [70, 240, 240], // cyan
  [240, 50, 230], // magenta
  [210, 245, 60], // lime
  [0, 128, 128], // teal
  [250, 190, 212], // pink
  [170, 110, 40], // brown
  [220, 190, 255], // lavender
  [128, 0, 0], // maroon
  [170, 255, 195], // mint
  [128, 128, 0], // olive
  [0, 0, 128], // navy
];

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** The colour of region `index` (any integer; negative values are folded). */
export function regionColour(index: number): Rgb {
  const k = Math.abs(Math.trunc(index));
  if (k < BASE.length) return BASE[k]!;
  const j = k - BASE.length;
  const hue = (0.07 + j * 0.381966) % 1; // golden angle as a fraction of a turn
  return hsvToRgb(hue, j % 2 ? 0.65 : 0.9, j % 3 === 1 ? 0.75 : 0.95);
}

/** Black or white, whichever reads better on `bg`. */
export function contrastingText(bg: Rgb): Rgb {
  const luma = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2];
  return luma > 150 ? [0, 0, 0] : [255, 255, 255];
}
