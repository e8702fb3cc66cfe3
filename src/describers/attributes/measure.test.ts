import { describe, expect, it } from "vitest";
import { area, encode, merge } from "../../masks/index.js";
import type { Rle } from "../../masks/types.js";
import type { RgbImage } from "../../image/types.js";
import { binTables, nearestColour, srgbToLab } from "../../vocabulary/colour-names.js";
import { measureRegion } from "../../../test/oracles/measure-region.js";
import { measureAll, measureImage, measureRegions, sequentialMeans } from "./measure.js";
import { coversAtLeast, runEnds } from "../../masks/cover.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
}

/** A noisy image and masks of many kinds (blobs, stripes, scattered pixels, full, empty, edge columns). */
function fixture(W: number, H: number, seed: number): { image: RgbImage; rles: Rle[] } {
  const rnd = lcg(seed);
  const data = new Uint8Array(W * H * 3);
  for (let p = 0; p < data.length; p++) data[p] = Math.floor(rnd() * 256);
  const rles: Rle[] = [];
  const add = (f: (x: number, y: number) => boolean) => {
    const m = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = f(x, y) ? 1 : 0;
    rles.push(encode({ height: H, width: W, data: m }));
  };
  add(() => true);
  add(() => false);
  add((x) => x === W - 1);
  add((x) => x === 0);
  add((_, y) => y === H - 1 || y === 0);
  add(() => rnd() < 0.3);
  for (let k = 0; k < 12; k++) {
    const cx = rnd() * W, cy = rnd() * H, rx = 1 + rnd() * W / 2, ry = 1 + rnd() * H / 2;
    add((x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1);
  }
  return { image: { width: W, height: H, data }, rles };
}

describe("measureRegions", () => {
  it("gives measureRegion's numbers for every region, whatever the band width", () => {
    for (const [W, H, seed] of [[37, 29, 1], [64, 48, 2], [5, 70, 3], [90, 1, 4]] as const) {
      const { image, rles } = fixture(W, H, seed);
      const reference = rles.map((r) => measureRegion(image, r));
      // One band, bands of 3 columns, a band per column (runs cut at band edges must add up the same); bands
      // read into tables, walked pixel by pixel, or each as its coverage decides.
      for (const bandPixels of [1 << 19, 3 * H, 1, 2 * H]) {
        const got = measureRegions(image, rles, bandPixels);
        got.forEach((m, i) => {
          const ref = reference[i]!;
          const what = `${W}x${H} band ${bandPixels} region ${i}`;
          expect(m.area, what).toBe(ref.area);
          expect([...m.colourCounts], what).toEqual([...ref.colourCounts]);
          expect([m.cx, m.cy, m.varX, m.varY, m.covXY], what).toEqual([ref.cx, ref.cy, ref.varX, ref.varY, ref.covXY]);
          expect(m.gradient, what).toBe(ref.gradient);
          expect(m.meanLightness, what).toBe(ref.meanLightness); // exact: sums of float32 L* ≥ 1
          expect(m.meanChroma, what).toBeCloseTo(ref.meanChroma, 9);
        });
      }
    }
  });
});

describe("measureAll", () => {
  it("counts the pixels every pair of regions shares, and measures the whole image", () => {
    for (const [W, H, seed] of [[37, 29, 6], [5, 70, 7]] as const) {
      const { image, rles } = fixture(W, H, seed);
      for (const bandPixels of [1 << 19, 3 * H, 1]) {
        const all = measureAll(image, rles, bandPixels);
        const n = rles.length;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) expect(all.shared![i * n + j], `${i} ${j}`).toBe(area(merge([rles[i]!, rles[j]!], true)));
        }
        const whole = measureImage(image);
        expect([...all.image.colourCounts]).toEqual([...whole.colourCounts]);
        expect([all.image.area, all.image.meanLightness]).toEqual([whole.area, whole.meanLightness]);
        expect(all.image.meanChroma).toBeCloseTo(whole.meanChroma, 9);
      }
    }
  });
});

describe("sequentialMeans (the recount used near a tone word's threshold)", () => {
  it("reproduces measureRegion's mean L* and chroma bit for bit", () => {
    const { image, rles } = fixture(53, 41, 5);
    for (const rle of rles) {
      const ref = measureRegion(image, rle);
      expect(sequentialMeans(image, rle)).toEqual({ meanLightness: ref.meanLightness, meanChroma: ref.meanChroma });
    }
  });
});

describe("coversAtLeast", () => {
  it("agrees with the area of the merged intersection for every pair and threshold", () => {
    const { rles } = fixture(41, 33, 9);
    for (const a of rles) {
      const aArea = area(a);
      for (const b of rles) {
        const shared = area(merge([a, b], true));
        const ends = runEnds(b.counts);
        for (const need of [0, 1, shared - 0.5, shared, shared + 0.5, 0.9 * aArea, aArea]) {
          expect(coversAtLeast(a.counts, ends, need, aArea), `shared ${shared} need ${need}`).toBe(shared >= need);
        }
      }
    }
  });
});

describe("bin tables", () => {
  it("hold srgbToLab's L*, chroma and nearestColour's name at every bin centre", () => {
    const { name, lightness, chroma } = binTables();
    for (let bin = 0; bin < 32768; bin += 7) {
      const r = ((bin >> 10) << 3) + 4, g = (((bin >> 5) & 31) << 3) + 4, b = ((bin & 31) << 3) + 4;
      const [L, A, B] = srgbToLab(r, g, b);
      expect(name[bin]).toBe(nearestColour(r, g, b));
      expect(lightness[bin]).toBe(Math.fround(L));
      expect(chroma[bin]).toBe(Math.fround(Math.hypot(A, B)));
    }
  });
});
