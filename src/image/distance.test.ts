import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/helpers/pictures.js";
import { BEYOND, squaredDistanceWithin } from "./distance.js";

/** The definition: the smallest squared distance to any set pixel of the window, by brute force. */
function bruteForce(mask: Uint8Array, width: number, x0: number, y0: number, w: number, h: number): number[] {
  const set: [number, number][] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[(y0 + y) * width + x0 + x]) set.push([x, y]);
  const out: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let best = Infinity;
      for (const [sx, sy] of set) best = Math.min(best, (x - sx) ** 2 + (y - sy) ** 2);
      out.push(best);
    }
  }
  return out;
}

describe("squaredDistanceWithin", () => {
  it("equals the brute-force squared Euclidean distance within the reach, on random masks and windows", () => {
    const rand = seededRandom(11);
    for (let trial = 0; trial < 40; trial++) {
      const width = 5 + Math.floor(rand() * 30);
      const height = 5 + Math.floor(rand() * 30);
      const density = [0.01, 0.05, 0.3, 0.9][trial % 4]!;
      const mask = new Uint8Array(width * height);
      for (let p = 0; p < mask.length; p++) mask[p] = rand() < density ? 1 : 0;
      mask[Math.floor(rand() * mask.length)] = 1;
      const reach = 1 + rand() * 9;
      const got = squaredDistanceWithin(mask, width, height, 0, 0, width, height, reach);
      const want = bruteForce(mask, width, 0, 0, width, height);
      const band: number[] = [];
      for (let i = 0; i < want.length; i++) {
        expect(got.d2[i], `trial ${trial} pixel ${i}`).toBe(want[i]! <= reach * reach ? want[i] : BEYOND);
        if (want[i]! > 0 && want[i]! <= reach * reach) band.push(i);
      }
      expect(Array.from(got.band).sort((a, b) => a - b)).toEqual(band);
    }
  });

  it("gives round distances around a blob (no chamfer octagons), in a window of the picture", () => {
    const W = 60;
    const mask = new Uint8Array(W * W);
    for (let y = 28; y <= 32; y++) for (let x = 28; x <= 32; x++) mask[y * W + x] = 1; // a 5 × 5 square
    const { d2: d } = squaredDistanceWithin(mask, W, W, 10, 10, 40, 40, 12);
    const at = (x: number, y: number) => d[(y - 10) * 40 + (x - 10)];
    expect(at(30, 30)).toBe(0);
    expect(at(42, 30)).toBe(100); // 10 px right of the square's right column
    expect(at(32 + 6, 32 + 8)).toBe(100); // 6² + 8² from the corner
    expect(at(32 + 9, 32 + 9)).toBe(BEYOND); // √162 > 12
  });
});
