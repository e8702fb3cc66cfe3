/** Paints a region geometry (./geometry.ts) into a canvas over the photo. */
import type { Geometry, Shape } from "./geometry.js";

export interface DrawOptions {
  /** Tinted and outlined strongly. */
  chosen: ReadonlySet<number>;
  hover: number | null;
  /** Thin outlines of every region. */
  outlines: boolean;
  /** Which regions get their number: every one, the chosen and hovered ones, or none. */
  numbers: "all" | "chosen" | "none";
  /** Dim what is outside the chosen regions. */
  dim: boolean;
}

const TINT = 0.45;

/** Paints the overlay into `ctx` (a canvas of the geometry's size, drawn over the photo). */
export function drawOverlay(ctx: CanvasRenderingContext2D, g: Geometry, o: DrawOptions): void {
  const { width: w, height: h } = g;
  const img = ctx.createImageData(w, h);
  const px = img.data;
  const inUnion = o.dim && o.chosen.size > 0 ? new Uint8Array(w * h) : null;
  const paint = (i: number, [r, gg, b]: readonly number[], a: number) => {
    const k = i * 4;
    const under = px[k + 3]! / 255;
    const out = a + under * (1 - a);
    if (out <= 0) return;
    px[k] = (r * a + px[k]! * under * (1 - a)) / out;
    px[k + 1] = (gg * a + px[k + 1]! * under * (1 - a)) / out;
    px[k + 2] = (b * a + px[k + 2]! * under * (1 - a)) / out;
    px[k + 3] = out * 255;
  };
  const fill = (s: Shape, colour: readonly number[], a: number) => {
    for (let k = 0; k < s.spans.length; k += 3) {
      const row = s.spans[k]! * w;
      for (let i = row + s.spans[k + 1]!, e = row + s.spans[k + 2]!; i < e; i++) paint(i, colour, a);
    }
  };
  for (const s of g.shapes) {
    if (!o.chosen.has(s.id)) continue;
    fill(s, s.colour, TINT);
    if (inUnion) for (let k = 0; k < s.spans.length; k += 3) inUnion.fill(1, s.spans[k]! * w + s.spans[k + 1]!, s.spans[k]! * w + s.spans[k + 2]!);
  }
  if (inUnion) for (let i = 0; i < w * h; i++) if (!inUnion[i]) paint(i, [0, 0, 0], 0.45);
  const hovered = o.hover === null ? undefined : g.byId.get(o.hover);
  if (hovered) fill(hovered, [255, 255, 255], 0.3);
  if (o.outlines) for (const s of g.shapes) if (!o.chosen.has(s.id)) for (const i of s.outline) paint(i, s.colour, 0.85);
  for (const s of g.shapes) {
    if (!o.chosen.has(s.id) && s !== hovered) continue;
    // A strong border: the outline and its neighbours, white under the region colour.
    for (const i of s.outline) {
      for (const j of [i - 1, i + 1, i - w, i + w]) if (j >= 0 && j < w * h) paint(j, [255, 255, 255], 0.9);
    }
    for (const i of s.outline) paint(i, s.colour, 1);
  }
  ctx.putImageData(img, 0, 0);
  const fontPx = Math.max(11, Math.round(Math.min(w, h) / 40));
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const s of g.shapes) {
    if (o.numbers === "none" || (o.numbers === "chosen" && !o.chosen.has(s.id) && s !== hovered)) continue;
    const text = String(s.id);
    const tw = ctx.measureText(text).width + fontPx * 0.6;
    const [x, y] = s.label;
    ctx.fillStyle = "rgba(20,20,20,0.78)";
    ctx.beginPath();
    ctx.roundRect(x - tw / 2, y - fontPx * 0.65, tw, fontPx * 1.3, fontPx * 0.3);
    ctx.fill();
    ctx.fillStyle = `rgb(${s.colour.map((v) => Math.max(v, 120)).join(",")})`;
    ctx.fillText(text, x, y + 1);
  }
}
