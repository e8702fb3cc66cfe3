import { describe, expect, it } from "vitest";
import { adler32 } from "./region-png.js";
import { PaethRows } from "./paeth-rows.js";

/** PNG's Paeth filter of RGB rows as RGBA with alpha 0, byte by byte as the specification (9.4) writes it. */
function paethBySpec(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const stride = 1 + 4 * width;
  const out = new Uint8Array(height * stride);
  const at = (x: number, y: number, ch: number) => (x < 0 || y < 0 ? 0 : ch === 3 ? 0 : rgb[3 * (y * width + x) + ch]!);
  for (let y = 0; y < height; y++) {
    out[y * stride] = 4;
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 4; ch++) {
        const a = at(x - 1, y, ch);
        const b = at(x, y - 1, ch);
        const c = at(x - 1, y - 1, ch);
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        out[y * stride + 1 + 4 * x + ch] = (at(x, y, ch) - pred) & 255;
      }
    }
  }
  return out;
}

function randomRgb(seed: number, n: number): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // smooth stretches and jumps, so that every one of Paeth's three choices is taken
    out[i] = s >>> 24 < 64 ? s >>> 24 : i > 3 ? (out[i - 3]! + (s >>> 29)) & 255 : 0;
  }
  return out;
}

describe("PaethRows (WebAssembly)", () => {
  it("filters every width, narrow ones included, as the specification does, with the rows' Adler-32", () => {
    for (let width = 1; width <= 21; width++) {
      for (const height of [1, 2, 5]) {
        const rgb = randomRgb(width * 7 + height, 3 * width * height);
        const want = paethBySpec(rgb, width, height);
        const whole = new PaethRows(rgb, width, height);
        expect(whole.filter(0, height)).toBe(adler32(want));
        expect(Buffer.from(whole.filtered).equals(Buffer.from(want)), `${width}x${height}`).toBe(true);
        // row by row: each call's sums start anew
        const rows = new PaethRows(rgb, width, height);
        const stride = 1 + 4 * width;
        for (let y = 0; y < height; y++) expect(rows.filter(y, y + 1)).toBe(adler32(want.subarray(y * stride, (y + 1) * stride)));
        expect(Buffer.from(rows.filtered).equals(Buffer.from(want)), `${width}x${height} row by row`).toBe(true);
      }
    }
  });

  it("filters rows in pieces as in one go, and sums rows longer than 5552 bytes (Adler's reductions)", () => {
    const width = 3001; // a row of 12 005 bytes: two reductions and a tail
    const height = 7;
    const rgb = randomRgb(3, 3 * width * height);
    const stride = 1 + 4 * width;
    const want = paethBySpec(rgb, width, height);
    const whole = new PaethRows(rgb, width, height);
    expect(whole.filter(0, height)).toBe(adler32(want));
    const pieces = new PaethRows(rgb, width, height);
    for (const [y0, y1] of [[0, 3], [3, 4], [4, height]] as const) {
      expect(pieces.filter(y0, y1)).toBe(adler32(want.subarray(y0 * stride, y1 * stride)));
    }
    expect(Buffer.from(pieces.filtered).equals(Buffer.from(whole.filtered))).toBe(true);
    expect(Buffer.from(whole.filtered).equals(Buffer.from(want))).toBe(true);
  });

  it("hands a released memory to the next image, whose rows are then as in a fresh one; a huge one is let go", () => {
    const first = new PaethRows(randomRgb(11, 3 * 50 * 40), 50, 40);
    first.filter(0, 40);
    first.release();
    first.release(); // once only: two images never get the same memory
    expect(() => first.filter(0, 1)).toThrow(/released/);
    // smaller: no growing, so the same memory, with the first image's bytes where this one's zero row goes
    const rgb = randomRgb(12, 3 * 13 * 9);
    const next = new PaethRows(rgb, 13, 9);
    const other = new PaethRows(rgb, 13, 9);
    expect(next.filtered.buffer).toBe(first.filtered.buffer);
    expect(other.filtered.buffer).not.toBe(next.filtered.buffer);
    const want = paethBySpec(rgb, 13, 9);
    expect(next.filter(0, 9)).toBe(adler32(want));
    expect(Buffer.from(next.filtered).equals(Buffer.from(want))).toBe(true);
    next.release();
    other.release();
    // more than 64 MB of rows: not kept
    const huge = new PaethRows(new Uint8Array(3 * 3200 * 3200), 3200, 3200);
    huge.release();
    const after = [new PaethRows(rgb, 13, 9), new PaethRows(rgb, 13, 9), new PaethRows(rgb, 13, 9)];
    for (const rows of after) expect(rows.filtered.buffer).not.toBe(huge.filtered.buffer);
  });

  it("refuses RGB bytes that do not fit the size", () => {
    expect(() => new PaethRows(new Uint8Array(10), 2, 2)).toThrow(/^PNG rows: 10 RGB bytes for a 2x2 image$/);
    expect(() => new PaethRows(new Uint8Array(0), 0, 0)).toThrow(/0x0/);
  });
});
