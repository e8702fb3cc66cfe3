import { describe, expect, it } from "vitest";
import { blendPixel, drawSegment, fillDisc } from "./draw.js";
import type { Rgb } from "./font.js";

/** drawSegment as it was, trying every pixel of the segment's box: the reference for the row-range one. */
function plainSegment(out: Uint8Array, width: number, height: number, x0: number, y0: number, x1: number, y1: number, lineWidth: number, colour: Rgb, opacity = 1): void {
  const half = lineWidth / 2;
  const reach = half + 1;
  const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
  const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
  const bx1 = Math.min(width - 1, Math.ceil(Math.max(x0, x1) + reach));
  const by1 = Math.min(height - 1, Math.ceil(Math.max(y0, y1) + reach));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  for (let py = by0; py <= by1; py++) {
    for (let px = bx0; px <= bx1; px++) {
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

describe("drawSegment", () => {
  it("paints the same pixels as trying every pixel of its box, at any angle, width and clipping", () => {
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
    const W = 61;
    const H = 47;
    for (let k = 0; k < 400; k++) {
      const x0 = rnd() * 80 - 10;
      const y0 = rnd() * 60 - 6;
      // Some horizontal, vertical and zero-length ones, and integer endpoints as the leaders have.
      let x1 = k % 7 === 0 ? x0 : rnd() * 80 - 10;
      let y1 = k % 5 === 0 ? y0 : rnd() * 60 - 6;
      if (k % 11 === 0) [x1, y1] = [x0, y0];
      const ends = k % 2 ? [x0, y0, x1, y1].map(Math.round) : [x0, y0, x1, y1];
      const w = 0.5 + rnd() * 8;
      const colour: Rgb = [Math.floor(rnd() * 256), Math.floor(rnd() * 256), Math.floor(rnd() * 256)];
      const a = new Uint8Array(W * H * 3).fill(90);
      const b = a.slice();
      drawSegment(a, W, H, ends[0]!, ends[1]!, ends[2]!, ends[3]!, w, colour, k % 3 ? 1 : 0.8);
      plainSegment(b, W, H, ends[0]!, ends[1]!, ends[2]!, ends[3]!, w, colour, k % 3 ? 1 : 0.8);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    }
  });

  it("fills a disc as a zero-length segment", () => {
    const a = new Uint8Array(20 * 20 * 3);
    fillDisc(a, 20, 20, 10, 9, 3.5, [255, 0, 0]);
    const b = new Uint8Array(20 * 20 * 3);
    plainSegment(b, 20, 20, 10, 9, 10, 9, 7, [255, 0, 0]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.some((v) => v > 0)).toBe(true);
  });
});
