import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateReasonFolder } from "./reason-eval.js";
import { reasonCounts, sampleIou, scoreReasonSample, summarizeReason } from "./reason.js";

const shared = resolve(import.meta.dirname, "../../../shared");
const samples = resolve(shared, "data/gear-seg-samples");

describe("ReasonSeg metrics on the reference answers", () => {
  it("equal EXPECTED.json (LISA rasterisation, gIoU, cIoU, ncIoU) to 4 decimals", async () => {
    const expected = JSON.parse(readFileSync(resolve(samples, "EXPECTED.json"), "utf8"));
    const r = await evaluateReasonFolder(resolve(samples, "dataset/ReasonSeg_val"), resolve(samples, "outputs/reasonseg_task/ReasonSeg_val/answers/json"));
    expect(r.samples).toBe(4);
    expect(r.missing).toEqual([]);
    for (const s of r.per_sample) expect(Math.abs(s.iou - expected.per_image_iou[s.id])).toBeLessThan(5e-5);
    expect(Math.abs(r.gIoU - expected.gIoU)).toBeLessThan(5e-5);
    expect(Math.abs(r.cIoU - expected.cIoU)).toBeLessThan(5e-5);
    expect(Math.abs(r.ncIoU - expected.ncIoU)).toBeLessThan(5e-5);
  });
});

const mask = (w: number, h: number, on: number[]) => {
  const data = new Uint8Array(w * h);
  for (const i of on) data[i] = 1;
  return { width: w, height: h, data };
};
const label = (w: number, h: number, values: Record<number, number>) => {
  const data = new Uint8Array(w * h);
  for (const [i, v] of Object.entries(values)) data[Number(i)] = v;
  return { width: w, height: h, data };
};

describe("LISA's per-sample rules", () => {
  it("an empty prediction against a target scores 0", () => {
    const c = reasonCounts(mask(4, 4, []), label(4, 4, { 0: 1, 1: 1 }));
    expect(c).toEqual({ intersection: 0, union: 2 });
    expect(sampleIou(c)).toBe(0);
  });
  it("an empty prediction against empty ground truth scores 1 (no-object target)", () => {
    expect(sampleIou(reasonCounts(mask(4, 4, []), label(4, 4, {})))).toBe(1);
  });
  it("a prediction against empty ground truth scores 0", () => {
    expect(sampleIou(reasonCounts(mask(4, 4, [3]), label(4, 4, {})))).toBe(0);
  });
  it("ignored pixels count nowhere; an all-ignore image scores 1 whatever is predicted", () => {
    const all = label(2, 2, { 0: 255, 1: 255, 2: 255, 3: 255 });
    expect(reasonCounts(mask(2, 2, [0, 1, 2]), all)).toEqual({ intersection: 0, union: 0 });
    expect(sampleIou(reasonCounts(mask(2, 2, [0, 1, 2]), all))).toBe(1);
    // prediction on an ignored pixel is not a false positive
    expect(reasonCounts(mask(2, 2, [0, 1]), label(2, 2, { 0: 1, 1: 255 }))).toEqual({ intersection: 1, union: 1 });
  });
  it("IoU is I / (U + 1e-5); cIoU sums before dividing; ncIoU weighs images equally", () => {
    const big = scoreReasonSample("big", mask(2048, 1, [0]), label(2048, 1, { 0: 1, 1: 1 })); // 1/2, tiny share at 1024
    const small = scoreReasonSample("small", mask(4, 4, [0, 1, 2, 3]), label(4, 4, { 0: 1, 1: 1, 2: 1, 3: 1 }));
    expect(big.iou).toBeCloseTo(1 / (2 + 1e-5), 12);
    const m = summarizeReason([big, small]);
    expect(m.gIoU).toBeCloseTo((big.iou + small.iou) / 2, 12);
    expect(m.cIoU).toBeCloseTo(5 / 6, 9);
    // at 1024×1024 nearest keeps every other source column of `big` (0, 2, 4, ...): column 0 (predicted and
    // target) becomes one output column, column 1 (target only) disappears; `small`'s top row fills a quarter
    expect(big.normalized).toEqual({ intersection: 1024, union: 1024 });
    expect(small.normalized).toEqual({ intersection: 1024 * 1024 / 4, union: 1024 * 1024 / 4 });
  });
  it("refuses a prediction whose size differs from the ground truth", () => {
    expect(() => reasonCounts(mask(3, 4, []), label(4, 3, {}))).toThrow(/3x4.*4x3/);
  });
});
