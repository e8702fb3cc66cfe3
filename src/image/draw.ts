/**
 * Drawing primitives on interleaved RGB buffers (row-major, 3 bytes a pixel): rectangles, and anti-aliased
 * line segments and discs whose coverage comes from each pixel's distance to the shape, so leader lines
 * and dots have smooth edges at any angle. Everything is clipped to the buffer.
 */
import type { Rgb } from "./font.js";

/** Blends `colour` into pixel `p` with coverage `a` (0..1). */
export function blendPixel(out: Uint8Array, p: number, colour: Rgb, a: number): void {
  const o = p * 3;
  if (a >= 1) {
    out[o] = colour[0];
    out[o + 1] = colour[1];
    out[o + 2] = colour[2];
    return;
  }
  const k = 1 - a;
  out[o] = out[o]! * k + colour[0] * a + 0.5;
  out[o + 1] = out[o + 1]! * k + colour[1] * a + 0.5;
  out[o + 2] = out[o + 2]! * k + colour[2] * a + 0.5;
}

export function fillRect(out: Uint8Array, width: number, height: number, x: number, y: number, w: number, h: number, colour: Rgb): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(width, x + w);
  const y1 = Math.min(height, y + h);
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const o = (py * width + px) * 3;
      out[o] = colour[0];
      out[o + 1] = colour[1];
      out[o + 2] = colour[2];
    }
  }
}

/**
 * A segment from (x0, y0) to (x1, y1), `lineWidth` pixels wide with round caps, anti-aliased: a pixel's
 * coverage is how far its centre lies within half the width of the segment, ramped over one pixel.
 */
export function drawSegment(
  out: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  lineWidth: number,
  colour: Rgb,
  opacity = 1,
): void {
  const half = lineWidth / 2;
  const reach = half + 1;
  const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
  const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
  const bx1 = Math.min(width - 1, Math.ceil(Math.max(x0, x1) + reach));
  const by1 = Math.min(height - 1, Math.ceil(Math.max(y0, y1) + reach));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  // Per row, only the pixels that can be within half + 0.5 of the segment are tried (those whose centre is
  // within `near` of a point of it in both x and y, a little more than needed): a long diagonal line's box
  // is mostly far from it.
  const near = reach + 0.5;
  for (let py = by0; py <= by1; py++) {
    let xa: number;
    let xb: number;
    if (dy === 0) {
      if (Math.abs(py - y0) >= near) continue;
      xa = Math.min(x0, x1);
      xb = Math.max(x0, x1);
    } else {
      const ta = Math.max(0, Math.min((py - near - y0) / dy, (py + near - y0) / dy));
      const tb = Math.min(1, Math.max((py - near - y0) / dy, (py + near - y0) / dy));
      if (ta > tb) continue;
      xa = Math.min(x0 + ta * dx, x0 + tb * dx);
      xb = Math.max(x0 + ta * dx, x0 + tb * dx);
    }
    const from = Math.max(bx0, Math.floor(xa - near));
    const to = Math.min(bx1, Math.ceil(xb + near));
    for (let px = from; px <= to; px++) {
      // Pixel centres sit at integer coordinates, as elsewhere in gear-seg's pictures.
      let t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - (x0 + t * dx);
      const ey = py - (y0 + t * dy);
      const cover = half + 0.5 - Math.sqrt(ex * ex + ey * ey);
      if (cover <= 0) continue;
      blendPixel(out, py * width + px, colour, Math.min(1, cover) * opacity);
    }
  }
}

/** An anti-aliased filled disc of radius `r` centred on (cx, cy). */
export function fillDisc(out: Uint8Array, width: number, height: number, cx: number, cy: number, r: number, colour: Rgb): void {
  drawSegment(out, width, height, cx, cy, cx, cy, 2 * r, colour);
}
