import { describe, expect, test } from "vitest";
import { GearSegError } from "../util/errors.js";
import { resizeBilinear, resizeMaskNearest } from "./index.js";

describe("resizeMaskNearest (OpenCV INTER_NEAREST)", () => {
  test("upsampling repeats, downsampling takes floor(dst * in / out)", () => {
    const m = { height: 2, width: 3, data: Uint8Array.from([1, 0, 1, 0, 1, 0]) };
    const up = resizeMaskNearest(m, 4, 6);
    expect(Array.from(up.data)).toEqual([
      1, 1, 0, 0, 1, 1,
      1, 1, 0, 0, 1, 1,
      0, 0, 1, 1, 0, 0,
      0, 0, 1, 1, 0, 0,
    ]);
    // 5 → 2 columns: sources floor(0 * 2.5) = 0, floor(1 * 2.5) = 2.
    const row = { height: 1, width: 5, data: Uint8Array.from([1, 0, 0, 1, 1]) };
    expect(Array.from(resizeMaskNearest(row, 1, 2).data)).toEqual([1, 0]);
    // 3 → 7: floor(d * 3/7) = 0,0,0,1,1,2,2.
    const r3 = { height: 1, width: 3, data: Uint8Array.from([1, 0, 1]) };
    expect(Array.from(resizeMaskNearest(r3, 1, 7).data)).toEqual([1, 1, 1, 0, 0, 1, 1]);
    expect(() => resizeMaskNearest(m, 0, 3)).toThrow(GearSegError);
  });
});

describe("resizeBilinear (torch bilinear, align_corners=False)", () => {
  test("2×2 → 4×4 equals torch's known output", () => {
    const out = resizeBilinear(Float32Array.from([1, 2, 3, 4]), 2, 2, 4, 4);
    expect(Array.from(out)).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });
  test("4×4 → 2×2 averages the middle pairs; 1×3 → 1×5 clamps the source at 0 and at the end", () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(resizeBilinear(src, 4, 4, 2, 2))).toEqual([2.5, 4.5, 10.5, 12.5]);
    const r = resizeBilinear(Float32Array.from([0, 10, 20]), 1, 3, 1, 5);
    // sources: max(0, -0.2) = 0, 0.4, 1.0, 1.6, 2.2 → clamped to the last pixel
    const want = [0, 4, 10, 16, 20];
    r.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });
  test("agrees with a plain double-precision implementation of the torch formula (7×5 → 17×12, 16×16 → 6×9)", () => {
    const plain = (src: Float32Array, ih: number, iw: number, oh: number, ow: number) => {
      const taps = (n: number, m: number, d: number) => {
        const s = Math.max(0, (d + 0.5) * (n / m) - 0.5);
        const i0 = Math.floor(s);
        return [i0, Math.min(i0 + 1, n - 1), s - i0] as const;
      };
      const out: number[] = [];
      for (let y = 0; y < oh; y++) {
        const [y0, y1, ly] = taps(ih, oh, y);
        for (let x = 0; x < ow; x++) {
          const [x0, x1, lx] = taps(iw, ow, x);
          const v = (r: number, c: number) => src[r * iw + c]!;
          out.push((1 - ly) * ((1 - lx) * v(y0, x0) + lx * v(y0, x1)) + ly * ((1 - lx) * v(y1, x0) + lx * v(y1, x1)));
        }
      }
      return out;
    };
    for (const [ih, iw, oh, ow] of [[7, 5, 17, 12], [16, 16, 6, 9]] as const) {
      const src = Float32Array.from({ length: ih * iw }, (_, i) => Math.sin(i * 0.7) * 10);
      const got = resizeBilinear(src, ih, iw, oh, ow);
      const want = plain(src, ih, iw, oh, ow);
      got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
    }
  });
  test("same size is the identity; out buffer is used; bad sizes throw", () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const out = new Float32Array(12);
    expect(resizeBilinear(src, 3, 4, 3, 4, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(src));
    expect(() => resizeBilinear(src, 3, 3, 4, 4)).toThrow(/source/);
    expect(() => resizeBilinear(src, 3, 4, 4, 4, new Float32Array(3))).toThrow(/output buffer/);
  });
});
