import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCocoGroundTruth, loadCocoResults, parseCocoGroundTruth, parseCocoResults } from "../datasets/coco.js";
import { evaluateCoco, formatCocoSummary, linspace } from "./cocoeval.js";

const fixtures = resolve(import.meta.dirname, "../../../shared/fixtures/coco-eval");

describe("COCOeval equals pycocotools on every shared fixture", () => {
  for (const name of readdirSync(fixtures).sort()) {
    it(`${name}: 12 stats within 1e-9`, async () => {
      const gt = await loadCocoGroundTruth(resolve(fixtures, name, "gt.json"));
      const dt = await loadCocoResults(gt, resolve(fixtures, name, "dt.json"));
      const r = evaluateCoco(gt, dt);
      const expected = JSON.parse(readFileSync(resolve(fixtures, name, "expected.json"), "utf8")).stats as number[];
      expect(r.stats).toHaveLength(12);
      r.stats.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9));
      // per-category AP averages back to the overall AP when every category has ground truth
      const cats = r.perCategory.filter((c) => c.ap > -1);
      expect(cats.reduce((s, c) => s + c.ap, 0) / cats.length).toBeCloseTo(r.stats[0]!, 12);
    });
  }
});

const box = (x: number, y: number, w: number, h: number) => [x, y, w, h];
function gtFile(anns: { image_id: number; bbox: number[]; iscrowd?: number; id?: number; category_id?: number }[], images = [1, 2]) {
  return parseCocoGroundTruth(
    {
      images: images.map((id) => ({ id, width: 200, height: 200 })),
      categories: [{ id: 1, name: "fruit" }, { id: 2, name: "leaf" }],
      annotations: anns.map((a, i) => ({
        id: a.id ?? i + 1,
        image_id: a.image_id,
        category_id: a.category_id ?? 1,
        iscrowd: a.iscrowd ?? 0,
        bbox: a.bbox,
        area: a.bbox[2]! * a.bbox[3]!,
        segmentation: [[a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2]!, a.bbox[1], a.bbox[0] + a.bbox[2]!, a.bbox[1] + a.bbox[3]!, a.bbox[0], a.bbox[1] + a.bbox[3]!]],
      })),
    },
    "gt.json",
  );
}

describe("COCOeval hand-worked cases", () => {
  it("thresholds are numpy's linspace", () => {
    const t = linspace(0.5, 0.95, 10);
    expect(t[8]).toBe(0.8999999999999999);
    expect(linspace(0, 1, 101)[57]).toBe(0.5700000000000001);
  });
  it("a false positive ranked above a true positive: AP = 0.5 at every threshold, AR = 1", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(100, 100, 50, 50), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(10, 10, 50, 50), score: 0.8 },
    ], "dt.json");
    for (const iouType of ["bbox", "segm"] as const) {
      const r = evaluateCoco(gt, dt, { iouType });
      expect(r.stats[0]).toBeCloseTo(0.5, 12);
      expect(r.stats[8]).toBe(1);
      expect(r.perCategory.map((c) => c.ap)).toEqual([expect.closeTo(0.5, 12), -1]);
    }
  });
  it("maxDets cut-offs: three perfect detections, AR@1 = 1/3, AR@10 = 1", () => {
    const gt = gtFile([1, 2, 3].map((k) => ({ image_id: 1, bbox: box(k * 50, 10, 40, 40) })));
    const dt = parseCocoResults(gt, [1, 2, 3].map((k) => ({ image_id: 1, category_id: 1, bbox: box(k * 50, 10, 40, 40), score: 1 - k / 10 })), "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats[6]).toBeCloseTo(1 / 3, 12);
    expect(r.stats[7]).toBe(1);
    expect(r.stats[0]).toBe(1);
    const cut = evaluateCoco(gt, dt, { iouType: "bbox", params: { maxDets: [1, 2, 2] } });
    expect(cut.stats[8]).toBeCloseTo(2 / 3, 12);
  });
  it("images without detections: AP 0, AR 0", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const r = evaluateCoco(gt, parseCocoResults(gt, [], "dt.json"));
    expect(r.stats[0]).toBe(0);
    expect(r.stats[8]).toBe(0);
    expect(r.stats[5]).toBe(-1); // no large ground truth
  });
  it("crowd-only images: detections on crowd regions are ignored, no category has ground truth → -1", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(0, 0, 100, 100), iscrowd: 1 }]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(10, 10, 20, 20), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(50, 50, 20, 20), score: 0.8 },
    ], "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats.every((v) => v === -1)).toBe(true);
  });
  it("a crowd region absorbs many detections (IoU = I / area(dt)) without hurting precision", () => {
    const gt = gtFile([
      { image_id: 1, bbox: box(0, 0, 100, 100), iscrowd: 1 },
      { image_id: 1, bbox: box(150, 150, 40, 40) },
    ]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(10, 10, 20, 20), score: 0.95 },
      { image_id: 1, category_id: 1, bbox: box(150, 150, 40, 40), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(40, 40, 20, 20), score: 0.85 },
    ], "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats[0]).toBeCloseTo(1, 12); // tp / (tp + fp + eps)
    expect(r.stats[8]).toBe(1);
  });
  it("loadRes: bbox in the first result makes area = w·h even for segm", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const dt = parseCocoResults(gt, [{ image_id: 1, category_id: 1, bbox: box(0, 0, 10, 10), score: 1, segmentation: [[10, 10, 60, 10, 60, 60, 10, 60]] }], "dt.json");
    expect(dt.annotations[0]!.area).toBe(100);
    expect(dt.annotations[0]!.id).toBe(1);
  });
  it("names the file and JSON path of a bad entry", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    expect(() => parseCocoResults(gt, [{ image_id: 1, category_id: 1, bbox: box(0, 0, 1, 1), score: 1 }, { image_id: 9, category_id: 1, bbox: box(0, 0, 1, 1), score: 1 }], "dt.json")).toThrow(
      /"dt.json" at \[1\]\.image_id: image 9 is not in the ground truth/,
    );
    expect(() => parseCocoGroundTruth({ images: [{ id: 1, width: 5, height: 5 }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, "a", 1] }] }, "gt.json")).toThrow(
      /"gt.json" at annotations\[0\]\.bbox\[2\]/,
    );
  });
  it("prints the familiar summary", async () => {
    const gt = await loadCocoGroundTruth(resolve(fixtures, "small", "gt.json"));
    const text = formatCocoSummary(evaluateCoco(gt, await loadCocoResults(gt, resolve(fixtures, "small", "dt.json"))));
    const lines = text.split("\n");
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.346");
    expect(lines[5]).toBe(" Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000");
    expect(lines[6]).toBe(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.082");
  });
});
