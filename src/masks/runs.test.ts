import { describe, expect, test } from "vitest";
import { area, decode, encode, merge } from "./rle.js";
import { containsPixel, runEnds, sharedPixels } from "./cover.js";
import { maskBbox, tightBbox } from "./bbox.js";
import { forEachColumnSpan, foregroundAt, paintColumnMajor, paintRowMajor, paintStackRowMajor, pointInside } from "./runs.js";
import type { BinaryMask } from "./types.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
}

/** Masks that start, end and wrap runs in every way: empty, full, single pixels, edge columns and rows,
 * runs crossing several columns, scattered noise and ellipses, on odd sizes. */
function masks(): BinaryMask[] {
  const out: BinaryMask[] = [];
  const rnd = lcg(3);
  for (const [W, H] of [[1, 1], [7, 5], [13, 1], [1, 9], [31, 17]] as const) {
    const add = (f: (x: number, y: number) => boolean) => {
      const data = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = f(x, y) ? 1 : 0;
      out.push({ height: H, width: W, data });
    };
    add(() => false);
    add(() => true);
    add((x, y) => x === W - 1 && y === H - 1);
    add((x, y) => x === 0 && y === 0);
    add((x) => x === W - 1);
    add((_, y) => y === 0);
    add((x, y) => (x === 1 && y >= H - 2) || (x === 2 && y <= 1)); // one run from column 1 into column 2
    add((x, y) => (x > 0 && x < W - 1) || (x === 0 && y === H - 1) || (x === W - 1 && y === 0)); // crosses many columns
    for (let k = 0; k < 6; k++) {
      const p = rnd() * 0.6;
      add(() => rnd() < p);
      const cx = rnd() * W, cy = rnd() * H, rx = 0.5 + (rnd() * W) / 2, ry = 0.5 + (rnd() * H) / 2;
      add((x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1);
    }
  }
  return out;
}

function plainBox(m: BinaryMask): [number, number, number, number] | undefined {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < m.height; y++)
    for (let x = 0; x < m.width; x++)
      if (m.data[y * m.width + x]) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
  return x1 < 0 ? undefined : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

describe("run walks", () => {
  test("tightBbox and maskBbox are the exact box of the mask's pixels (undefined when empty)", () => {
    for (const m of masks()) {
      expect(tightBbox(encode(m))).toEqual(plainBox(m));
      expect(maskBbox(m)).toEqual(plainBox(m));
    }
  });

  test("forEachColumnSpan visits every foreground pixel once, within one column per span", () => {
    for (const m of masks()) {
      const seen = new Uint8Array(m.data.length);
      forEachColumnSpan(encode(m), (x, y0, len) => {
        expect(len).toBeGreaterThan(0);
        expect(y0 + len).toBeLessThanOrEqual(m.height);
        for (let y = y0; y < y0 + len; y++) seen[y * m.width + x]!++;
      });
      expect(Buffer.from(seen).equals(Buffer.from(m.data))).toBe(true);
    }
  });

  test("paintColumnMajor paints decode's pixels, transposed, with the given value", () => {
    for (const m of masks()) {
      const rle = encode(m);
      const col = new Uint16Array(m.data.length).fill(9);
      paintColumnMajor(col, rle, 300);
      const want = new Uint16Array(m.data.length);
      const rows = decode(rle).data;
      for (let y = 0; y < m.height; y++) for (let x = 0; x < m.width; x++) want[x * m.height + y] = rows[y * m.width + x] ? 300 : 9;
      expect(Buffer.from(col.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  test("paintRowMajor paints decode's pixels in place, leaving the others as they were", () => {
    for (const m of masks()) {
      const rle = encode(m);
      const rows = new Uint16Array(m.data.length).fill(9);
      paintRowMajor(rows, rle, 300);
      const decoded = decode(rle).data;
      const want = new Uint16Array(m.data.length);
      for (let p = 0; p < want.length; p++) want[p] = decoded[p] ? 300 : 9;
      expect(Buffer.from(rows.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  test("painted in turn, paintRowMajor gives the transpose of paintColumnMajor's label map", () => {
    const all = masks().filter((m) => m.width === 31);
    const col = new Uint16Array(31 * 17);
    const rows = new Uint16Array(31 * 17);
    all.forEach((m, k) => {
      paintColumnMajor(col, encode(m), k + 1);
      paintRowMajor(rows, encode(m), k + 1);
    });
    const want = new Uint16Array(rows.length);
    for (let y = 0; y < 17; y++) for (let x = 0; x < 31; x++) want[y * 31 + x] = col[x * 17 + y]!;
    expect(Buffer.from(rows.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(new Set(rows).size).toBeGreaterThan(3); // several masks show, on top of each other
  });

  test("paintStackRowMajor gives the map of painting the masks in turn, and each value's pixel count", () => {
    for (const [W, H] of [[31, 17], [7, 5], [13, 1], [1, 9]] as const) {
      const all = masks().filter((m) => m.width === W && m.height === H);
      // Stacks in several orders, with repeated masks, so that runs are hidden in every way.
      for (const order of [all.map((_, k) => k), all.map((_, k) => all.length - 1 - k), [...all.keys(), ...all.keys()].filter((k) => k % 3 !== 1)]) {
        const want = new Uint16Array(W * H);
        order.forEach((k, i) => paintRowMajor(want, encode(all[k]!), i + 1));
        const got = new Uint16Array(W * H);
        const counts = new Float64Array(order.length + 1);
        paintStackRowMajor(got, order.map((k) => encode(all[k]!)), order.map((_, i) => i + 1), W, H, counts);
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
        const wantCounts = new Float64Array(order.length + 1);
        for (const l of want) wantCounts[l]!++;
        expect([...counts]).toEqual([...wantCounts]);
      }
    }
  });

  test("foregroundAt says whether each pixel (in column order) is foreground", () => {
    for (const m of masks()) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let x = 0; x < m.width; x++) for (let y = 0; y < m.height; y++) if ((x * 7 + y * 3) % 4 !== 1) xs.push(x), ys.push(y);
      const got = foregroundAt(encode(m), xs, ys);
      expect([...got]).toEqual(xs.map((x, i) => m.data[ys[i]! * m.width + x]));
    }
  });

  test("pointInside is a foreground pixel, undefined for an empty mask", () => {
    for (const m of masks()) {
      const p = pointInside(encode(m));
      if (!plainBox(m)) expect(p).toBeUndefined();
      else expect(m.data[p![1] * m.width + p![0]]).toBe(1);
    }
  });

  test("sharedPixels is the area of the intersection, for every pair of masks of one size", () => {
    const all = masks();
    let pairs = 0;
    for (const a of all) {
      for (const b of all) {
        if (a.width !== b.width || a.height !== b.height) continue;
        const ra = encode(a), rb = encode(b);
        expect(sharedPixels(ra.counts, runEnds(rb.counts))).toBe(area(merge([ra, rb], true)));
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(500);
  });

  test("containsPixel says whether a pixel is foreground, and false outside the mask", () => {
    for (const m of masks()) {
      const rle = encode(m);
      const ends = runEnds(rle.counts);
      for (let y = -1; y <= m.height; y++) {
        for (let x = -1; x <= m.width; x++) {
          const inside = x >= 0 && y >= 0 && x < m.width && y < m.height && m.data[y * m.width + x] === 1;
          expect(containsPixel(ends, m.width, m.height, x, y)).toBe(inside);
        }
      }
    }
  });
});
