import { describe, expect, it } from "vitest";
import { squaredDistanceToMask } from "./distance.js";

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

describe("squaredDistanceToMask (Felzenszwalb–Huttenlocher)", () => {
  it("equals the brute-force squared Euclidean distance on random masks and windows", () => {
    const rand = rng(11);
    for (let trial = 0; trial < 40; trial++) {
      const width = 5 + Math.floor(rand() * 30);
      const height = 5 + Math.floor(rand() * 30);
      const density = [0.01, 0.05, 0.3, 0.9][trial % 4]!;
      const mask = new Uint8Array(width * height);
      for (let p = 0; p < mask.length; p++) mask[p] = rand() < density ? 1 : 0;
      mask[Math.floor(rand() * mask.length)] = 1;
      const x0 = Math.floor(rand() * 3);
      const y0 = Math.floor(rand() * 3);
      const w = width - x0 - Math.floor(rand() * 3);
      const h = height - y0 - Math.floor(rand() * 3);
      const got = squaredDistanceToMask(mask, width, x0, y0, w, h);
      const want = bruteForce(mask, width, x0, y0, w, h);
      for (let i = 0; i < want.length; i++) {
        if (Number.isFinite(want[i])) expect(got[i], `trial ${trial} pixel ${i}`).toBe(want[i]);
        else expect(got[i]).toBeGreaterThan(1e19);
      }
    }
  });

  it("gives round distances around a single pixel (no chamfer octagons)", () => {
    const mask = new Uint8Array(41 * 41);
    mask[20 * 41 + 20] = 1;
    const d = squaredDistanceToMask(mask, 41, 0, 0, 41, 41);
    expect(d[20 * 41 + 40]).toBe(400); // 20 px to the right
    expect(d[(20 + 12) * 41 + 20 + 16]).toBe(400); // 12² + 16² = 20²
    expect(d[0]).toBe(800);
  });
});
