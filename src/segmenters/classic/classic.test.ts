import { describe, expect, it } from "vitest";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import type { RgbImage } from "../../image/types.js";
import type { Region } from "../../pipeline/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { createBackend } from "../../stack/registry.js";
import { classicProposals, parseClassicOptions } from "./index.js";
import { firstIndex } from "./refine.js";
import { area as rleArea, decode as rleDecode, encode as rleEncode, iou as rleIou, toBbox } from "../../masks/index.js";
import { conformance, squaresScene } from "../../../test/helpers/conformance.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const photos = path.join(repoRoot, "../shared/data/photos");

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 300×200 scene on a noisy grey background: a red disc touching a blue rectangle, a green triangle apart.
 * Returns the image and the row-major truth masks.
 */
function scene(): { image: RgbImage; truth: Record<string, Uint8Array> } {
  const W = 300, H = 200;
  const data = new Uint8Array(W * H * 3);
  const truth = { disc: new Uint8Array(W * H), rect: new Uint8Array(W * H), tri: new Uint8Array(W * H) };
  const rand = rng(7);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      let c: [number, number, number] = [128, 128, 128];
      if ((x - 70) ** 2 + (y - 80) ** 2 <= 40 ** 2) { c = [210, 30, 30]; truth.disc[p] = 1; }
      else if (x >= 110 && x < 170 && y >= 50 && y < 130) { c = [30, 40, 200]; truth.rect[p] = 1; }
      else if (y >= 60 && y < 170 && x >= 200 && x - 200 <= (y - 60) * 0.8 && 288 - x >= (y - 60) * 0.0) {
        // right triangle: vertices (200,60), (200,170), (288,170)
        c = [40, 170, 50]; truth.tri[p] = 1;
      }
      const noise = Math.round((rand() - 0.5) * 24);
      for (let k = 0; k < 3; k++) data[3 * p + k] = Math.max(0, Math.min(255, c[k]! + noise));
    }
  }
  return { image: { width: W, height: H, data, source: "scene" }, truth };
}

/** Decode a column-major RLE to a row-major mask, checking its structure on the way. */
function decode(region: Region): Uint8Array {
  const { height: H, width: W, counts } = region.rle;
  const mask = new Uint8Array(W * H);
  let pos = 0, on = false;
  for (const c of counts) {
    if (on) for (let k = pos; k < pos + c; k++) mask[(k % H) * W + Math.floor(k / H)] = 1;
    pos += c;
    on = !on;
  }
  expect(pos).toBe(W * H);
  return mask;
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let i = 0, u = 0;
  for (let p = 0; p < a.length; p++) { i += a[p]! & b[p]!; u += a[p]! | b[p]!; }
  return u === 0 ? 1 : i / u;
}

function bestIou(regions: Region[], truth: Uint8Array): number {
  return Math.max(...regions.map((r) => iou(decode(r), truth)));
}

describe("classic segmenter on a synthetic scene", () => {
  const { image, truth } = scene();
  const run = classicProposals(image, parseClassicOptions("", {}, "classic"));

  it("recovers every object (IoU >= 0.9) and their union (nested proposals)", async () => {
    const regions = await run;
    expect(bestIou(regions, truth.disc)).toBeGreaterThanOrEqual(0.9);
    expect(bestIou(regions, truth.rect)).toBeGreaterThanOrEqual(0.9);
    expect(bestIou(regions, truth.tri)).toBeGreaterThanOrEqual(0.9);
    const pair = truth.disc.map((v, p) => v | truth.rect[p]!);
    expect(bestIou(regions, pair)).toBeGreaterThanOrEqual(0.9);
  });

  it("returns valid regions: area, bbox and scores agree with the mask", async () => {
    const regions = await run;
    expect(regions.length).toBeGreaterThan(3);
    for (const r of regions) {
      const m = decode(r);
      let area = 0, x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let y = 0; y < 200; y++) for (let x = 0; x < 300; x++) {
        if (m[y * 300 + x]) { area++; x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
      }
      expect(r.area).toBe(area);
      expect(r.bbox).toEqual([x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
      expect(r.predictedIou).toBeGreaterThanOrEqual(0);
      expect(r.predictedIou).toBeLessThanOrEqual(1);
      expect(r.stabilityScore).toBeGreaterThan(0);
      expect(r.stabilityScore).toBeLessThanOrEqual(1);
      expect(area).toBeGreaterThanOrEqual(0.001 * 300 * 200);
    }
  });

  it("has no near-duplicates (pairwise IoU <= 0.9)", async () => {
    const masks = (await run).map(decode);
    let worst = 0;
    for (let i = 0; i < masks.length; i++) {
      for (let j = i + 1; j < masks.length; j++) worst = Math.max(worst, iou(masks[i]!, masks[j]!));
    }
    expect(worst).toBeGreaterThan(0); // nested proposals overlap
    expect(worst).toBeLessThanOrEqual(0.9 + 1e-9);
  });

  it("is deterministic", async () => {
    const again = await classicProposals(image, parseClassicOptions("", {}, "classic"));
    const first = await run;
    expect(again.length).toBe(first.length);
    again.forEach((r, i) => {
      expect(Array.from(r.rle.counts)).toEqual(Array.from(first[i]!.rle.counts));
      expect(r.predictedIou).toBe(first[i]!.predictedIou);
    });
  });

  it("drops proposals under minAreaFraction and caps the count", async () => {
    const big = await classicProposals(image, parseClassicOptions("minAreaFraction=0.1", {}, "classic"));
    expect(big.length).toBeGreaterThan(0);
    for (const r of big) expect(r.area).toBeGreaterThanOrEqual(0.1 * 300 * 200);
    const capped = await classicProposals(image, parseClassicOptions("maxRegions=3", {}, "classic"));
    expect(capped.length).toBe(3);
  });

  it("maps masks from a downscaled working copy back to full resolution", async () => {
    // the same scene at 2× (each pixel a 2×2 block), segmented at a 300-px working size
    const W = 600, H = 400;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const s = ((y >> 1) * 300 + (x >> 1)) * 3, d = (y * W + x) * 3;
      data[d] = image.data[s]!; data[d + 1] = image.data[s + 1]!; data[d + 2] = image.data[s + 2]!;
    }
    const regions = await classicProposals({ width: W, height: H, data }, parseClassicOptions("maxSide=300", {}, "classic"));
    const disc = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) disc[y * W + x] = truth.disc[(y >> 1) * 300 + (x >> 1)]!;
    expect(regions[0]!.rle.width).toBe(W);
    expect(regions[0]!.rle.height).toBe(H);
    expect(bestIou(regions, disc)).toBeGreaterThanOrEqual(0.9);
  });

  it("reports progress and stops when aborted", async () => {
    const seen: [number, number][] = [];
    await classicProposals(image, parseClassicOptions("", {}, "classic"), { onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[seen.length - 1]![0]).toBe(seen[seen.length - 1]![1]);
    const controller = new AbortController();
    const pending = classicProposals(image, parseClassicOptions("", {}, "classic"), {
      signal: controller.signal,
      onProgress: (d) => { if (d === 1) controller.abort(); },
    });
    await expect(pending).rejects.toThrow(/aborted/);
    await expect(pending).rejects.toBeInstanceOf(GearSegError);
  });
});

describe("full-resolution edges", () => {
  it("places boundaries on the photo's own pixels, not on the working grid (a disc and a rotated box at 4× the working size)", async () => {
    const W = 1600, H = 1200;
    const data = new Uint8Array(W * H * 3);
    const disc = new Uint8Array(W * H);
    const box = new Uint8Array(W * H);
    const rand = rng(3);
    const c = Math.cos(0.5), s = Math.sin(0.5);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        let col = [128, 128, 128];
        const u = (x + 0.5 - 1150) * c + (y + 0.5 - 600) * s;
        const v = -(x + 0.5 - 1150) * s + (y + 0.5 - 600) * c;
        if ((x + 0.5 - 500) ** 2 + (y + 0.5 - 600) ** 2 <= 300 ** 2) { col = [200, 40, 40]; disc[p] = 1; }
        else if (Math.abs(u) <= 220 && Math.abs(v) <= 130) { col = [40, 60, 190]; box[p] = 1; }
        const noise = Math.round((rand() - 0.5) * 20);
        for (let k = 0; k < 3; k++) data[3 * p + k] = Math.max(0, Math.min(255, col[k]! + noise));
      }
    }
    const regions = await classicProposals({ width: W, height: H, data }, parseClassicOptions("maxSide=400", {}, "classic"));
    const rles = regions.map((r) => r.rle);
    for (const [truth, name] of [[disc, "disc"], [box, "box"]] as const) {
      const t = rleEncode({ height: H, width: W, data: truth });
      const ta = rleArea(t);
      let perimeter = 0; // truth pixels with a 4-neighbour outside
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const p = y * W + x;
        if (truth[p] && (x === 0 || !truth[p - 1] || x === W - 1 || !truth[p + 1] || y === 0 || !truth[p - W] || y === H - 1 || !truth[p + W])) perimeter++;
      }
      const ious = rleIou(rles, [t], [false]).map((row) => row[0]!);
      const best = ious.indexOf(Math.max(...ious));
      const ra = regions[best]!.area;
      const inter = (ious[best]! * (ra + ta)) / (1 + ious[best]!);
      const wrong = ra + ta - 2 * inter;
      // Nearest-neighbour upsampling from the 400-px working copy misplaces about one pixel per boundary pixel
      // (stairs of 4); placed on the photo's pixels, the boundary is off by a fraction of a pixel.
      expect(wrong / perimeter, name).toBeLessThan(0.4);
    }
  }, 60_000);
});

describe("classic options", () => {
  it("parses the spec argument and the options object", () => {
    const o = parseClassicOptions("k=50/150,maxSide=256", { maxRegions: 50, sigma: 0.5 }, "classic:k=50/150,maxSide=256");
    expect(o.scales).toEqual([50, 150]);
    expect(o.maxSide).toBe(256);
    expect(o.maxRegions).toBe(50);
    expect(o.sigma).toBe(0.5);
    expect(parseClassicOptions("", { scales: [10, 20] }, "classic").scales).toEqual([10, 20]);
  });

  it("rejects unknown keys and bad values with a UsageError naming the key", async () => {
    expect(() => parseClassicOptions("colour=1", {}, "classic:colour=1")).toThrow(UsageError);
    expect(() => parseClassicOptions("colour=1", {}, "classic:colour=1")).toThrow(/"colour"/);
    expect(() => parseClassicOptions("", { foo: 1 } as never, "classic")).toThrow(/unknown option "foo"/);
    expect(() => parseClassicOptions("maxSide=abc", {}, "x")).toThrow(/"maxSide" must be an integer ≥ 16, got "abc"/);
    expect(() => parseClassicOptions("k=-3", {}, "x")).toThrow(/"scales.0" must be a positive number, got -3/);
    // Numbers are numbers in an options object; text is accepted only in the spec argument.
    expect(() => parseClassicOptions("", { maxSide: "256" } as never, "x")).toThrow(/"maxSide" must be an integer ≥ 16, got "256"/);
    expect(() => parseClassicOptions("maxRegions", {}, "x")).toThrow(/not key=value/);
    await expect(createBackend("segmenter", "classic:bogus=2")).rejects.toThrow(UsageError);
  });

  it("is registered in the backend table", async () => {
    const s = await createBackend("segmenter", "classic:maxRegions=10");
    expect(s.spec).toBe("classic:maxRegions=10");
  });

  it("rejects an image whose buffer does not match its size", async () => {
    const s = await createBackend("segmenter", "classic", {});
    await expect(s.segment({ width: 10, height: 10, data: new Uint8Array(5), source: "bad.png" })).rejects.toThrow(/bad\.png/);
  });
});

describe("nearest-neighbour row map", () => {
  it("gives, for each working row, the first full-resolution row mapping to it", () => {
    const map = Int32Array.from([0, 0, 1, 1, 1, 2]);
    expect(Array.from(firstIndex(map, 3))).toEqual([0, 2, 5, 6]);
  });
});

describe("classic segmenter on a real photo", () => {
  it("returns at most 200 valid regions for groceries.jpg", async () => {
    const { data, info } = await sharp(path.join(photos, "groceries.jpg")).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const image: RgbImage = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    const s = await createBackend("segmenter", "classic", {});
    const regions = await s.segment(image);
    expect(regions.length).toBeGreaterThan(20);
    expect(regions.length).toBeLessThanOrEqual(200);
    for (const r of regions) {
      let sum = 0, fg = 0;
      r.rle.counts.forEach((c, i) => { sum += c; if (i % 2 === 1) fg += c; });
      expect(sum).toBe(info.width * info.height);
      expect(fg).toBe(r.area);
      expect(r.rle.width).toBe(info.width);
      expect(r.rle.height).toBe(info.height);
      // agrees with the mask module (pycocotools-exact): area, bbox, and a decode/encode round trip
      expect(rleArea(r.rle)).toBe(r.area);
      expect(toBbox(r.rle)).toEqual(r.bbox);
    }
    for (const r of regions.slice(0, 10)) expect(Array.from(rleEncode(rleDecode(r.rle)).counts)).toEqual(Array.from(r.rle.counts));
  });
});

conformance("classic", { kind: "segmenter", spec: "classic", variant: { sigma: 0.5 }, input: squaresScene });
