/**
 * Regions as the page draws them: each COCO RLE mask (decoded with the library's own src/masks code) sampled
 * once to the display resolution as row spans (for fills) and outline pixels, a label map that says which
 * region is under the pointer (the smallest one, so parts win over wholes), and a label point per region
 * (the pixel farthest from its border). Drawing (./draw.tsx) is then a few passes over those lists into one
 * ImageData. No DOM here: the geometry is tested in Node (geometry.test.ts).
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

/**
 * Nearest-neighbour sampling between image and display pixels: display column dx shows image column
 * floor((dx + 0.5) / scale). Since scale ≤ 1, each image column is shown by at most one display column
 * (`column[x]`, or -1), and the display rows showing image rows [ya, yb) are [rowStart[ya], rowStart[yb]).
 */
function sampling(size: number, displaySize: number, scale: number): { column: Int32Array; rowStart: Int32Array } {
  const column = new Int32Array(size).fill(-1);
  const rowStart = new Int32Array(size + 1);
  let d = 0;
  for (let x = 0; x <= size; x++) {
    while (d < displaySize && Math.min(size - 1, Math.floor((d + 0.5) / scale)) < x) d++;
    rowStart[x] = d;
    if (x < size && d < displaySize && Math.min(size - 1, Math.floor((d + 0.5) / scale)) === x) column[x] = d;
  }
  return { column, rowStart };
}

/** Calls `f(dx, dy0, dy1)` for every display column piece of the mask (column-major runs, image height h). */
function forEachPiece(counts: Uint32Array, h: number, cols: Int32Array, rows: Int32Array, f: (dx: number, dy0: number, dy1: number) => void): void {
  let p = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i]!;
    if (i & 1) {
      const end = p + run;
      let q = p;
      while (q < end) {
        const x = Math.floor(q / h);
        const y = q - x * h;
        const stop = Math.min(end, (x + 1) * h);
        const dx = cols[x]!;
        if (dx >= 0) {
          const a = rows[y]!;
          const b = rows[y + (stop - q)]!;
          if (a < b) f(dx, a, b);
        }
        q = stop;
      }
    }
    p += run;
  }
}

export function buildGeometry(masks: readonly MaskInput[], imageW: number, imageH: number, maxSide: number): Geometry {
  const { width: dw, height: dh, scale } = displaySize(imageW, imageH, maxSide);
  const cols = sampling(imageW, dw, scale).column;
  const rows = sampling(imageH, dh, scale).rowStart;
  const shapes: Shape[] = [];
  for (const m of masks) {
    const counts = rleFromString(m.segmentation.counts, imageH, imageW).counts;
    // The display box of the mask, then the mask in it.
    let dx0 = dw, dx1 = -1, dy0 = dh, dy1 = -1;
    forEachPiece(counts, imageH, cols, rows, (dx, a, b) => {
      if (dx < dx0) dx0 = dx;
      if (dx > dx1) dx1 = dx;
      if (a < dy0) dy0 = a;
      if (b - 1 > dy1) dy1 = b - 1;
    });
    if (dx1 < 0) continue;
    const w = dx1 - dx0 + 1;
    const hh = dy1 - dy0 + 1;
    const local = new Uint8Array(w * hh);
    let size = 0;
    forEachPiece(counts, imageH, cols, rows, (dx, a, b) => {
      for (let dy = a; dy < b; dy++) local[(dy - dy0) * w + dx - dx0] = 1;
      size += b - a;
    });
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
