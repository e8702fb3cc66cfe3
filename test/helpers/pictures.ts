// Shared by the image tests: checks on the number labels of gear-seg's pictures, seeded random numbers.
import { expect } from "vitest";
import type { LabelBox, PlacedLabel } from "../../src/image/labels.js";

/** Whether two label boxes touch, their 1-px dark rims included. */
export const boxesTouch = (a: LabelBox, b: LabelBox) =>
  a.x - 1 < b.x + b.w + 1 && b.x - 1 < a.x + a.w + 1 && a.y - 1 < b.y + b.h + 1 && b.y - 1 < a.y + a.h + 1;

/** No two labels overlap (rims included). */
export function expectNoOverlaps(placed: readonly PlacedLabel[]): void {
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      expect(boxesTouch(placed[i]!.box, placed[j]!.box), `labels ${placed[i]!.request.text} and ${placed[j]!.request.text}`).toBe(false);
    }
  }
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
