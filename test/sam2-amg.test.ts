// Unit tests of each step of the SAM 2 automatic mask generator port against values worked out by hand
// (facebookresearch/sam2 sam2/utils/amg.py, sam2/automatic_mask_generator.py, sam2/utils/transforms.py).
import { describe, expect, test } from "vitest";
import { resizeBilinear } from "../src/masks/resize.js";
import { encode } from "../src/masks/rle.js";
import {
  buildAllLayerPointGrids,
  buildPointGrid,
  calculateStabilityScore,
  generateCropBoxes,
  isBoxNearCropEdge,
  maskToBox,
  toModelFrame,
  type Xyxy,
} from "../src/segmenters/sam2/amg.js";
import { generateMasks, type PromptModel } from "../src/segmenters/sam2/generator.js";
import { RunLabeler } from "../src/segmenters/sam2/holes.js";
import { resolveAmgParams, SAM2_DEFAULT } from "../src/segmenters/sam2/params.js";
import { BatchPostprocessor, type Candidate, type DecodedBatch } from "../src/segmenters/sam2/postprocess.js";
import { CLAIMED_BY_MAIN, CLAIMED_BY_WORKER, CLOSED, COPIED, TAKEN_FROM_BACK, takeFromBack } from "../src/segmenters/sam2/worker.js";
import { ReferenceBatchPostprocessor } from "./oracles/sam2-reference.js";
import { UpscaleKernel, kernelFrame } from "../src/segmenters/sam2/upscale.js";
import { preprocessImage } from "../src/segmenters/sam2/preprocess.js";

describe("point grid", () => {
  test("2 per side: linspace(1/4, 3/4, 2), x varies fastest", () => {
    expect(Array.from(buildPointGrid(2))).toEqual([0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]);
  });
  test("4 per side and 1 per side", () => {
    const g = buildPointGrid(4);
    expect(Array.from(g.filter((_, i) => i % 2 === 0).slice(0, 4))).toEqual([0.125, 0.375, 0.625, 0.875]);
    expect(Array.from(buildPointGrid(1))).toEqual([0.5, 0.5]);
  });
  test("layers shrink by the downscale factor", () => {
    expect(buildAllLayerPointGrids(32, 2, 2).map((g) => g.length / 2)).toEqual([1024, 256, 64]);
    expect(buildAllLayerPointGrids(32, 1, 1).map((g) => g.length / 2)).toEqual([1024, 1024]);
  });
  test("1024 frame in float32", () => {
    expect(toModelFrame(400, 800)).toBe(512);
    expect(toModelFrame(0.25 * 534, 534)).toBe(256);
  });
});

describe("crop boxes", () => {
  test("800×534, one layer: overlap int(512/1500·534) = 182, crops 491×358", () => {
    const { boxes, layers } = generateCropBoxes(534, 800, 1, 512 / 1500);
    expect(boxes).toEqual([
      [0, 0, 800, 534],
      [0, 0, 491, 358],
      [0, 176, 491, 534],
      [309, 0, 800, 358],
      [309, 176, 800, 534],
    ]);
    expect(layers).toEqual([0, 1, 1, 1, 1]);
  });
  test("layer 2 has 16 crops", () => {
    expect(generateCropBoxes(100, 100, 2, 512 / 1500).boxes.length).toBe(1 + 4 + 16);
  });
});

describe("edge filter (atol 20, crop edges that are not image edges)", () => {
  const crop: Xyxy = [309, 0, 800, 358];
  const orig: Xyxy = [0, 0, 800, 534];
  test("near the crop's left edge (inside the image) → dropped", () => {
    expect(isBoxNearCropEdge([0, 10, 50, 100], crop, orig)).toBe(true);
  });
  test("near the crop's top edge, which is the image's → kept", () => {
    expect(isBoxNearCropEdge([100, 5, 200, 100], crop, orig)).toBe(false);
  });
  test("20 px from the bottom crop edge → dropped; 21 px → kept", () => {
    expect(isBoxNearCropEdge([100, 100, 200, 338], crop, orig)).toBe(true);
    expect(isBoxNearCropEdge([100, 100, 200, 337], crop, orig)).toBe(false);
  });
  test("layer 0 never drops", () => {
    expect(isBoxNearCropEdge([0, 0, 799, 533], orig, orig)).toBe(false);
  });
});

describe("stability score", () => {
  test("|>1| / |>−1| with strict comparisons", () => {
    expect(calculateStabilityScore([-2, -1, -0.5, 0.5, 1, 1.5, 3], 0, 1)).toBe(Math.fround(2 / 5));
  });
  test("0/0 is NaN and fails every threshold", () => {
    const s = calculateStabilityScore([-5, -4], 0, 1);
    expect(Number.isNaN(s)).toBe(true);
    expect(s >= 0.95).toBe(false);
  });
  test("box is inclusive; empty → zeros", () => {
    const m = new Uint8Array(20);
    m[1 * 5 + 2] = 1;
    m[3 * 5 + 4] = 1;
    expect(maskToBox(m, 4, 5)).toEqual([2, 1, 4, 3]);
    expect(maskToBox(new Uint8Array(20), 4, 5)).toEqual([0, 0, 0, 0]);
  });
});

describe("holes and sprinkles on the low-resolution logits", () => {
  const grid = (rows: string[]) => Float32Array.from(rows.join("").split(""), (c) => (c === "#" ? 5 : -5));
  const show = (a: Float32Array, w: number) => Array.from({ length: a.length / w }, (_, r) => Array.from(a.subarray(r * w, r * w + w), (v) => (v > 0 ? "#" : ".")).join(""));
  test("area ≤ max is filled (holes → t+10) or removed (sprinkles → t−10), 8-connected", () => {
    const a = grid([
      "......", //
      ".####.",
      ".#.##.",
      ".####.",
      "......",
      "#....#",
    ]);
    // Background: the outer ring (20 px) and the 1-px hole. Foreground: the ring (11 px), and two 1-px specks.
    const changed = new RunLabeler().fill(a, 0, 6, 6, 0, 1, 1);
    expect(changed).toBe(true);
    expect(show(a, 6)).toEqual(["......", ".####.", ".####.", ".####.", "......", "......"]);
    expect(a[2 * 6 + 2]).toBe(10);
    expect(a[5 * 6]).toBe(-10);
  });
  test("diagonal neighbours are one component; a border-touching background component counts as a hole", () => {
    const a = grid([
      "#...", //
      ".#..",
      "####",
      "####",
    ]);
    // Foreground: (0,0)–(1,1) diagonal, (1,1) touches row 2 → one 10-px component.
    // Background: (0,1..3), (1,0), (1,2..3); (1,0) touches (0,1) diagonally → one 6-px component.
    const b = a.slice();
    new RunLabeler().fill(b, 0, 4, 4, 0, 6, 0);
    expect(show(b, 4)).toEqual(["####", "####", "####", "####"]);
    const c = a.slice();
    expect(new RunLabeler().fill(c, 0, 4, 4, 0, 5, 9)).toBe(false);
    expect(show(c, 4)).toEqual(show(a, 4));
  });
  test("components come from the logits before either change", () => {
    // A 2-px hole inside a 10-px ring: with max 2 the hole is filled and the ring (measured on the original
    // map) stays.
    const a = grid(["####", "#..#", "####"]);
    new RunLabeler().fill(a, 0, 3, 4, 0, 2, 2);
    expect(show(a, 4)).toEqual(["####", "####", "####"]);
  });
});

describe("fused upscale kernel equals full upscaling", () => {
  function smoothMap(h: number, w: number, seed: number): Float32Array {
    const a = new Float32Array(h * w);
    let s = seed;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const blobs = Array.from({ length: 3 }, () => [rnd() * w, rnd() * h, 2 + rnd() * w * 0.3, rnd() * 6 - 1]);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = -4;
        for (const [bx, by, r, amp] of blobs) v += (amp! + 4) * Math.exp(-((x - bx!) ** 2 + (y - by!) ** 2) / (r! * r!));
        // Later seeds scale up, so that long runs lie safely above every threshold (the kernel's skipped runs);
        // the last ones past the kernel's first rounding bound (|v| > 256), so it must widen its margin.
        a[y * w + x] = (v + (rnd() - 0.5) * 0.5) * (seed > 10 ? 300 : seed > 6 ? 8 : 1);
      }
    }
    return a;
  }
  const cases: [number, number, Xyxy, number, number][] = [
    [16, 16, [0, 0, 53, 37], 37, 53],
    [16, 16, [7, 3, 40, 30], 37, 53],
    [32, 24, [0, 0, 24, 100], 100, 24],
    [256, 256, [0, 0, 200, 133], 133, 200],
    [64, 64, [10, 0, 64, 50], 50, 64],
  ];
  test.each(cases)("%i×%i → crop %j of %i×%i", (lh, lw, crop, H, W) => {
    const kernel = new UpscaleKernel();
    const frame = kernelFrame(lh, lw, crop, H, W);
    const cw = crop[2] - crop[0];
    const ch = crop[3] - crop[1];
    for (let seed = 1; seed <= 13; seed++) {
      const low = smoothMap(lh, lw, seed);
      if (seed === 13) {
        // Non-finite logits: NaN compares false with every threshold, infinities follow the arithmetic.
        low[Math.floor(lh / 2) * lw + Math.floor(lw / 3)] = NaN;
        low[Math.floor(lh / 3) * lw + Math.floor(lw / 2)] = Infinity;
        low[(lh - 2) * lw + 1] = -Infinity;
        low[3 * lw + lw - 3] = NaN;
      }
      for (const [t, off] of [[0, 1], [0, 0.7], [0.5, 0.25]] as const) {
        const s = kernel.run(low, 0, frame, t, off);
        const full = resizeBilinear(low, lh, lw, ch, cw);
        expect(s.intersections).toBe(full.filter((v) => v > t + off).length);
        expect(s.unions).toBe(full.filter((v) => v > t - off).length);
        const bin = Uint8Array.from(full, (v) => (v > t ? 1 : 0));
        expect(s.area).toBe(bin.reduce((a, b) => a + b, 0));
        expect(s.box).toEqual(maskToBox(bin, ch, cw));
        const padded = new Uint8Array(H * W);
        for (let y = 0; y < ch; y++) padded.set(bin.subarray(y * cw, (y + 1) * cw), (y + crop[1]) * W + crop[0]);
        expect(Array.from(kernel.rle(H, W).counts)).toEqual(Array.from(encode({ height: H, width: W, data: padded }).counts));
        // The same map as the second plane of a larger buffer gives the same result.
        const two = new Float32Array(2 * lh * lw).fill(-50);
        two.set(low, lh * lw);
        expect(kernel.run(two, lh * lw, frame, t, off)).toEqual(s);
        // With a stability threshold the kernel may stop early (null), but only for masks that fail it: at the
        // score itself and one float32 step below, the same counts; one step above, those or null; well above, null.
        const stability = Math.fround(s.intersections / s.unions);
        if (Number.isFinite(stability) && stability > 0) {
          const below = Math.fround(stability * (1 - 2 ** -23));
          const above = Math.fround(stability * (1 + 2 ** -23));
          for (const min of [stability, below, stability / 2]) {
            expect(kernel.run(low, 0, frame, t, off, min), `min ${min}, score ${stability}`).toEqual(s);
          }
          if (stability < 1) {
            const justAbove = kernel.run(low, 0, frame, t, off, above);
            if (justAbove !== null) expect(justAbove).toEqual(s);
            expect(kernel.run(low, 0, frame, t, off, Math.fround((1 + stability) / 2)), `score ${stability}`).toBeNull();
          }
        }
      }
    }
  });
});

describe("batch post-processing: fast path equals the reference order", () => {
  test("same candidates, with and without hole filling", () => {
    const lowH = 64;
    const lowW = 64;
    const n = 12;
    const lowRes = new Float32Array(n * lowH * lowW);
    const iou = new Float32Array(n);
    for (let m = 0; m < n; m++) {
      const cx = 10 + ((m * 7) % 44);
      const cy = 8 + ((m * 11) % 48);
      const r = 4 + (m % 5) * 3;
      for (let y = 0; y < lowH; y++)
        for (let x = 0; x < lowW; x++) {
          const d = Math.hypot(x - cx, y - cy);
          // steep edge (stable) for even m, gentle (unstable) for odd m; a speck and a hole for some
          let v = (r - d) * (m % 2 === 0 ? 40 : 0.3);
          if ((x - cx - r - 3) ** 2 + (y - cy) ** 2 < 2) v = 8;
          if (x === cx && y === cy) v = -8;
          lowRes[m * lowH * lowW + y * lowW + x] = v;
        }
      iou[m] = 0.7 + (m % 4) * 0.08;
    }
    const points = Float32Array.from({ length: (n / 3) * 2 }, (_, i) => i * 10.5);
    const batch: DecodedBatch = { lowRes, lowH, lowW, iou, masksPerPrompt: 3 };
    for (const params of [SAM2_DEFAULT, resolveAmgParams("gear-seg"), resolveAmgParams("sam2-default", { crop_n_layers: 1 })]) {
      for (const crop of [[0, 0, 300, 200], [40, 30, 240, 170]] as Xyxy[]) {
        const frame = { crop, imageH: 200, imageW: 300 };
        const fast = new BatchPostprocessor().process({ ...batch, lowRes: lowRes.slice() }, points, frame, params);
        const ref = new ReferenceBatchPostprocessor().process({ ...batch, lowRes: lowRes.slice() }, points, frame, params);
        expect(fast.length).toBeGreaterThan(0);
        expect(fast.map((c) => [c.area, c.box, c.iou, c.stability, c.point, Array.from(c.rle.counts)])).toEqual(
          ref.map((c) => [c.area, c.box, c.iou, c.stability, c.point, Array.from(c.rle.counts)]),
        );
      }
    }
  });
});

/** A prompt model whose masks are given discs (for NMS order); every point sees all of them in turn. */
class DiscModel implements PromptModel {
  constructor(private readonly discs: { cx: number; cy: number; r: number; iou: number }[]) {}
  async setImage(): Promise<void> {}
  async decodePoints(_p: Float32Array, count: number): Promise<DecodedBatch> {
    const lowRes = new Float32Array(count * 3 * 64 * 64).fill(-20);
    const iou = new Float32Array(count * 3);
    for (let i = 0; i < count * 3; i++) {
      const d = this.discs[i % this.discs.length]!;
      iou[i] = d.iou;
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) if (Math.hypot(x - d.cx, y - d.cy) <= d.r) lowRes[i * 4096 + y * 64 + x] = 20;
    }
    return { lowRes, lowH: 64, lowW: 64, iou, masksPerPrompt: 3 };
  }
}

describe("generator: NMS within the crop, scored by predicted IoU", () => {
  test("overlapping duplicates keep the higher IoU; output is by descending IoU", async () => {
    const model = new DiscModel([
      { cx: 15, cy: 15, r: 8, iou: 0.9 },
      { cx: 16, cy: 15, r: 8, iou: 0.95 }, // duplicate of the first (box IoU > 0.7), better score
      { cx: 45, cy: 45, r: 6, iou: 0.85 },
    ]);
    const image = { width: 128, height: 128, data: new Uint8Array(128 * 128 * 3) };
    const regions = await generateMasks(model, image, resolveAmgParams("sam2-default", { points_per_side: 1 }));
    expect(regions.map((r) => r.predictedIou)).toEqual([Math.fround(0.95), Math.fround(0.85)]);
    expect(regions[0]!.pointCoords).toEqual([[64, 64]]);
    expect(regions[0]!.cropBox).toEqual([0, 0, 128, 128]);
    // Disc of radius 8 low-res px around (16,15) → 2× upscaled; bbox in COCO form (width = x1 − x0 + 1).
    expect(regions[0]!.bbox[2]).toBe(regions[0]!.bbox[3]);
    expect(regions[0]!.area).toBeGreaterThan(Math.PI * 15 * 15);
  });
  test("pred_iou_thresh is strict", async () => {
    const model = new DiscModel([{ cx: 30, cy: 30, r: 8, iou: 0.8 }]);
    const image = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    expect(await generateMasks(model, image, resolveAmgParams("sam2-default", { points_per_side: 1 }))).toEqual([]);
    expect((await generateMasks(model, image, resolveAmgParams("sam2-default", { points_per_side: 1, pred_iou_thresh: 0.79 }))).length).toBe(1);
  });
  test("use_m2m is refused with a clear message", async () => {
    await expect(generateMasks(new DiscModel([]), { width: 8, height: 8, data: new Uint8Array(192) }, resolveAmgParams(undefined, { use_m2m: true }))).rejects.toThrow(/use_m2m/);
  });
});

describe("parameters", () => {
  test("presets", () => {
    expect(resolveAmgParams(undefined)).toEqual(SAM2_DEFAULT);
    const g = resolveAmgParams("gear-seg");
    expect([g.pointsPerSide, g.stabilityScoreOffset, g.minMaskRegionArea, g.cropNLayers, g.predIouThresh]).toEqual([32, 0.7, 100, 0, 0.8]);
    expect(resolveAmgParams("gear-seg", { stability_score_offset: "1" }).stabilityScoreOffset).toBe(1);
  });
  test("bad names and values", () => {
    expect(() => resolveAmgParams("nope")).toThrow(/unknown AMG preset "nope"/);
    expect(() => resolveAmgParams(undefined, { points_per_sid: 3 })).toThrow(/unknown AMG parameter "points_per_sid"/);
    expect(() => resolveAmgParams(undefined, { points_per_side: "x" })).toThrow(/must be a number/);
    expect(() => resolveAmgParams(undefined, { points_per_side: 1.5 })).toThrow(/integer/);
  });
});

describe("preprocessing", () => {
  test("a flat colour stays flat and is normalised with ImageNet mean/std", () => {
    const rgb = new Uint8Array(30 * 50 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([255, 128, 0], i);
    const t = preprocessImage(rgb, 30, 50, 64);
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-5);
    close(t[0]!, (1 - 0.485) / 0.229);
    close(t[64 * 64 + 100]!, (128 / 255 - 0.456) / 0.224);
    close(t[2 * 64 * 64 + 4095]!, (0 - 0.406) / 0.225);
  });
  test("antialiased downscale averages (PIL-style triangle filter)", () => {
    // 4 px wide → 2 px: each output averages its two pixels with weights 1/4, 1/2, 1/4 over 3 taps at support 2.
    const rgb = Uint8Array.from([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
    const t = preprocessImage(rgb, 1, 4, 2);
    // output 0: center 1, support 2 → taps 0..2 with weights ∝ (0.75, 0.75, 0.25)/1.75 on values (0, 1, 0)
    expect(t[0]! * 0.229 + 0.485).toBeCloseTo(0.75 / 1.75, 5);
  });
});

describe("worker pool", () => {
  // The pool runs the compiled worker (dist/segmenters/sam2/worker.js; test/global-setup.ts keeps dist/ fresh):
  // from TypeScript sources it has no worker script and would quietly run everything on one thread.
  const distPool = new URL("../dist/segmenters/sam2/pool.js", import.meta.url);
  /** `n` masks of 64 × 64 logits: discs of various sizes, steep or gentle edges, some failing the IoU filter. */
  function discBatch(n: number, seed: number): DecodedBatch {
    const lowRes = new Float32Array(n * 64 * 64);
    const iou = Float32Array.from({ length: n }, (_, m) => ((m + seed) % 4 === 1 || m < 3 ? 0.5 : 0.9));
    for (let m = 0; m < n; m++) {
      const steep = (m + seed) % 3 === 0 ? 0.4 : 30;
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) lowRes[m * 4096 + y * 64 + x] = (3 + ((m + seed) % 7) * 2 - Math.hypot(x - 10 - (m % 40), y - 30)) * steep;
    }
    return { lowRes, lowH: 64, lowW: 64, iou, masksPerPrompt: 3 };
  }
  const summary = (cs: Candidate[]) => cs.map((c) => [c.point, c.area, c.iou, c.stability, c.box, Array.from(c.rle.counts)]);

  test("splitting batches across threads gives the single-threaded candidates, in order", async () => {
    const mod = (await import(distPool.href)) as typeof import("../src/segmenters/sam2/pool.js");
    const pool = new mod.ParallelBatchPostprocessor(3);
    try {
      expect(pool.threads, "the main thread and two workers").toBe(3);
      const frame = { crop: [0, 0, 400, 300] as Xyxy, imageH: 300, imageW: 400 };
      // Several batches through the same shared buffers (one that grows them, one with a single passing mask),
      // with and without hole filling.
      for (const [n, seed, params] of [[30, 0, SAM2_DEFAULT], [96, 1, SAM2_DEFAULT], [5, 1, SAM2_DEFAULT], [60, 3, resolveAmgParams("gear-seg")]] as const) {
        const batch = discBatch(n, seed);
        const points = Float32Array.from({ length: (2 * n) / 3 }, (_, i) => i * 1.5);
        const single = new BatchPostprocessor().process({ ...batch, lowRes: batch.lowRes.slice() }, points, frame, params);
        const multi = await pool.process(batch, points, frame, params);
        expect(single.length).toBeGreaterThan(0);
        expect(summary(multi), `batch of ${n}`).toEqual(summary(single));
      }
    } finally {
      await pool.close();
    }
  });

  test("a worker takes masks from the back until it meets the main thread's or the copies stop", () => {
    const n = 12;
    const batch = discBatch(n, 0);
    const plane = 64 * 64;
    const frame = { crop: [0, 0, 400, 300] as Xyxy, imageH: 300, imageW: 400 };
    const iou = batch.iou;
    const points = Float32Array.from({ length: 2 * n }, (_, i) => i);
    const single = new BatchPostprocessor();
    const area = { planes: new SharedArrayBuffer(n * plane * 4), claims: new SharedArrayBuffer(n * 4), control: new SharedArrayBuffer(8) };
    const planes = new Float32Array(area.planes);
    const claims = new Int32Array(area.claims);
    const control = new Int32Array(area.control);
    // Slot k holds mask n − 1 − k; the main thread has taken the first `mainTook`; `copied` slots are ready.
    const run = (mainTook: number, copied: number, closed: boolean) => {
      claims.fill(0);
      claims.fill(CLAIMED_BY_MAIN, 0, mainTook);
      for (let k = 0; k < copied; k++) planes.set(batch.lowRes.subarray((n - 1 - k) * plane, (n - k) * plane), k * plane);
      control[COPIED] = copied | (closed ? CLOSED : 0);
      control[TAKEN_FROM_BACK] = 0;
      return takeFromBack({ id: 1, area, count: n, lowH: 64, lowW: 64, iou, points, frame, params: SAM2_DEFAULT });
    };
    const expected = (positions: number[]) =>
      positions.flatMap((j) => {
        const c = single.processMask(batch.lowRes.slice(j * plane, (j + 1) * plane), 0, 64, 64, frame, SAM2_DEFAULT, iou[j]!, points[2 * j]!, points[2 * j + 1]!);
        return c ? [{ j, c }] : [];
      });
    const check = (reply: ReturnType<typeof run>, positions: number[]) => {
      const want = expected(positions);
      expect(reply.positions).toEqual(want.map((w) => w.j));
      expect(summary(reply.candidates!)).toEqual(summary(want.map((w) => w.c)));
    };
    // Everything copied, the main thread took 5: the worker does 11 down to 5 and stops at the main thread's.
    check(run(5, n, false), [11, 10, 9, 8, 7, 6, 5]);
    expect(claims[4]).toBe(CLAIMED_BY_MAIN);
    expect(Array.from(claims.subarray(5)).every((c) => c === CLAIMED_BY_WORKER)).toBe(true);
    // Copies stopped after 3 slots (the main thread has the rest): the worker does 11, 10, 9 and returns.
    check(run(2, 3, true), [11, 10, 9]);
    expect(claims[8]).toBe(0);
    // Nothing taken by the main thread, all copied: the worker does the whole batch.
    check(run(0, n, false), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });
});
