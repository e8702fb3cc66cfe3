/**
 * Regions as the page draws them: each COCO RLE mask (decoded with the library's own src/masks code) sampled
 * once to the display resolution as row spans (for fills) and outline pixels, a label map that says which
 * region is under the pointer (the smallest one, so parts win over wholes), and a label point per region
 * (the pixel farthest from its border). Drawing is then a few passes over those lists into one ImageData.
 */
import { rleFromString } from "../../masks/rle-string.js";
import { regionColour } from "../../image/palette.js";

export interface MaskInput {
  id: number;
  segmentation: { size: [number, number]; counts: string };
}

export interface Shape {
  id: number;
  colour: [number, number, number];
  /** Display-resolution row spans: y, x0, x1 (exclusive) triples. */
  spans: Int32Array;
  /** Display pixel indices on the border. */
  outline: Int32Array;
  /** Where its number goes (display pixels). */
  label: [number, number];
  /** Display pixels inside. */
  size: number;
}

export interface Geometry {
  width: number;
  height: number;
  /** Display pixels per image pixel. */
  scale: number;
  shapes: Shape[];
  byId: Map<number, Shape>;
  /** Per display pixel: the index in `shapes` of the smallest region there, or -1. */
  under: Int32Array;
}

/** Display size for an image: the longest side at most `max` pixels, never upscaled. */
export function displaySize(width: number, height: number, max: number): { width: number; height: number; scale: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

let scratch = new Uint8Array(1 << 16);

/** The mask inside its image-pixel box [x0, y0, x1, y1), row-major, from column-major runs. */
function decodeBox(counts: Uint32Array, h: number, box: [number, number, number, number]): Uint8Array {
  const [x0, y0, x1, y1] = box;
  const bw = x1 - x0;
  const n = bw * (y1 - y0);
  if (scratch.length < n) scratch = new Uint8Array(n * 2);
  const out = scratch;
  out.fill(0, 0, n);
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i]!;
    if (i & 1) {
      let q = p;
      const end = p + run;
      while (q < end) {
        const x = Math.floor(q / h);
        const y = q - x * h;
        const stop = Math.min(end, (x + 1) * h);
        if (x >= x0 && x < x1) for (let yy = Math.max(y, y0), ye = Math.min(y + (stop - q), y1); yy < ye; yy++) out[(yy - y0) * bw + (x - x0)] = 1;
        q = stop;
      }
    }
    p += run;
  }
  return out;
}

/** The image-pixel box of the foreground runs. */
function runsBox(counts: Uint32Array, h: number): [number, number, number, number] | null {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i]!;
    if (i & 1 && run > 0) {
      const a = p;
      const b = p + run - 1;
      const xa = Math.floor(a / h);
      const xb = Math.floor(b / h);
      x0 = Math.min(x0, xa);
      x1 = Math.max(x1, xb);
      if (xa === xb) {
        y0 = Math.min(y0, a - xa * h);
        y1 = Math.max(y1, b - xb * h);
      } else {
        y0 = 0;
        y1 = h - 1;
      }
    }
    p += run;
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

export function buildGeometry(masks: readonly MaskInput[], imageW: number, imageH: number, maxSide: number): Geometry {
  const { width: dw, height: dh, scale } = displaySize(imageW, imageH, maxSide);
  const shapes: Shape[] = [];
  for (const m of masks) {
    const rle = rleFromString(m.segmentation.counts, imageH, imageW);
    const box = runsBox(rle.counts, imageH);
    if (!box) continue;
    const bits = decodeBox(rle.counts, imageH, box);
    const bw = box[2] - box[0];
    // Display pixels whose centre falls inside the box.
    const dx0 = Math.max(0, Math.ceil(box[0] * scale - 0.5));
    const dx1 = Math.min(dw, Math.ceil(box[2] * scale - 0.5));
    const dy0 = Math.max(0, Math.ceil(box[1] * scale - 0.5));
    const dy1 = Math.min(dh, Math.ceil(box[3] * scale - 0.5));
    const w = dx1 - dx0;
    const hh = dy1 - dy0;
    if (w <= 0 || hh <= 0) continue;
    const local = new Uint8Array(w * hh);
    let size = 0;
    for (let y = 0; y < hh; y++) {
      const iy = Math.min(box[3] - 1, Math.floor((dy0 + y + 0.5) / scale)) - box[1];
      for (let x = 0; x < w; x++) {
        const ix = Math.min(box[2] - 1, Math.floor((dx0 + x + 0.5) / scale)) - box[0];
        if (iy >= 0 && ix >= 0 && bits[iy * bw + ix]) {
          local[y * w + x] = 1;
          size++;
        }
      }
    }
    if (size === 0) continue;
    const spans: number[] = [];
    const outline: number[] = [];
    for (let y = 0; y < hh; y++) {
      let start = -1;
      for (let x = 0; x <= w; x++) {
        const on = x < w && local[y * w + x] === 1;
        if (on && start < 0) start = x;
        if (!on && start >= 0) {
          spans.push(dy0 + y, dx0 + start, dx0 + x);
          start = -1;
        }
        if (on) {
          const edge = x === 0 || y === 0 || x === w - 1 || y === hh - 1 || !local[y * w + x - 1] || !local[y * w + x + 1] || !local[(y - 1) * w + x] || !local[(y + 1) * w + x];
          if (edge) outline.push((dy0 + y) * dw + dx0 + x);
        }
      }
    }
    const c = regionColour(m.id);
    shapes.push({ id: m.id, colour: [c[0], c[1], c[2]], spans: Int32Array.from(spans), outline: Int32Array.from(outline), label: labelPoint(local, w, hh, dx0, dy0), size });
  }
  const under = new Int32Array(dw * dh).fill(-1);
  const order = shapes.map((_, i) => i).sort((a, b) => shapes[b]!.size - shapes[a]!.size);
  for (const i of order) {
    const s = shapes[i]!.spans;
    for (let k = 0; k < s.length; k += 3) under.fill(i, s[k]! * dw + s[k + 1]!, s[k]! * dw + s[k + 2]!);
  }
  return { width: dw, height: dh, scale, shapes, byId: new Map(shapes.map((s) => [s.id, s])), under };
}

/** The inside pixel farthest from the border (a two-pass chamfer distance), in display pixels. */
function labelPoint(local: Uint8Array, w: number, h: number, ox: number, oy: number): [number, number] {
  const d = new Uint16Array(w * h);
  const big = 65535;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!local[i]) continue;
      const up = y > 0 ? d[i - w]! : 0;
      const left = x > 0 ? d[i - 1]! : 0;
      d[i] = Math.min(big, Math.min(up, left) + 1);
    }
  let best = 0;
  let bi = 0;
  for (let y = h - 1; y >= 0; y--)
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      if (!local[i]) continue;
      const down = y < h - 1 ? d[i + w]! : 0;
      const right = x < w - 1 ? d[i + 1]! : 0;
      const v = Math.min(d[i]!, Math.min(down, right) + 1);
      d[i] = v;
      if (v > best) {
        best = v;
        bi = i;
      }
    }
  return [ox + (bi % w), oy + Math.floor(bi / w)];
}

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
