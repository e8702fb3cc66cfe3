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
  test("same size is the identity; out buffer is used; bad sizes throw", () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const out = new Float32Array(12);
    expect(resizeBilinear(src, 3, 4, 3, 4, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(src));
    expect(() => resizeBilinear(src, 3, 3, 4, 4)).toThrow(/source/);
    expect(() => resizeBilinear(src, 3, 4, 4, 4, new Float32Array(3))).toThrow(/output buffer/);
  });
});
