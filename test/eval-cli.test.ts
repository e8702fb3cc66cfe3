// Smoke runs of `gear-seg eval reason|coco|grade|errors|run` through the built CLI on the shared fixtures and on
// small folders written here: one or two per command. The numbers themselves (pycocotools, LISA) and the loaders'
// error messages are tested through the library (src/eval/*.test.ts, src/datasets/loaders.test.ts).
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli as run, sharedDir as shared, tempDirSync } from "./helpers/cli.js";

const samples = join(shared, "data/gear-seg-samples");
const reasonData = join(samples, "dataset/ReasonSeg_val");
const outputs = join(samples, "outputs/reasonseg_task/ReasonSeg_val");
const coco = join(shared, "fixtures/coco-eval");
const tmp = tempDirSync("gear-seg-eval-cli-");

describe("gear-seg eval reason", () => {
  it("scores the reference answers as EXPECTED.json", async () => {
    const expected = JSON.parse(readFileSync(join(samples, "EXPECTED.json"), "utf8"));
    const r = await run(["eval", "reason", "--data", reasonData, "--pred", join(outputs, "answers/json"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.samples).toBe(4);
    for (const k of ["gIoU", "cIoU", "ncIoU"]) expect(j[k]).toBeCloseTo(expected[k], 4);
    expect(j.per_sample).toHaveLength(4);
    const text = await run(["eval", "reason", "--data", reasonData, "--pred", join(outputs, "answers/json")]);
    expect(text.stdout).toContain(`gIoU   ${expected.gIoU.toFixed(4)}`);
    expect(text.stdout).toContain("samples 4");
  });
  it("a missing flag is a usage error (exit 2, one line)", async () => {
    const r = await run(["eval", "reason", "--pred", tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual(["gear-seg: --data is required"]);
  });
});

describe("gear-seg eval coco", () => {
  it("prints pycocotools' stats (--json)", async () => {
    const expected = JSON.parse(readFileSync(join(coco, "many_images/expected.json"), "utf8")).stats as number[];
    const r = await run(["eval", "coco", "--gt", join(coco, "many_images/gt.json"), "--pred", join(coco, "many_images/dt.json"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    j.stats.forEach((v: number, i: number) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9));
    expect(j.per_category.map((c: { name: string }) => c.name)).toEqual(["class_1", "class_2"]);
  });
  it("warns on stderr about boxes of negative size and categories the ground truth lacks; the numbers stay pycocotools'", async () => {
    // Expected stats computed by pycocotools (C core built from cocodataset/cocoapi, numpy 1.24) on these files.
    const gt = JSON.parse(readFileSync(join(coco, "small/gt.json"), "utf8")) as { annotations: { id: number; image_id: number; bbox: number[]; iscrowd: number }[] };
    const boxes: object[] = gt.annotations
      .filter((a) => !a.iscrowd)
      .map((a) => ({ image_id: a.image_id, category_id: 1, bbox: [a.bbox[0]! + 1, a.bbox[1]! + 1, a.bbox[2], a.bbox[3]], score: Math.round((0.9 - a.id * 0.01) * 100) / 100 }));
    boxes.push({ image_id: 1, category_id: 1, bbox: [120, 27, -113, 34], score: 0.95 }, { image_id: 2, category_id: 1, bbox: [168, 113, 134, -38], score: 0.5 });
    boxes.push({ image_id: 3, category_id: 7, bbox: [142, 32, 58, 59], score: 0.99 }, { image_id: 3, category_id: 7, bbox: [0, 0, 25, 114], score: 0.98 });
    const bboxFile = join(tmp, "dt-negative-boxes.json");
    writeFileSync(bboxFile, JSON.stringify(boxes));
    const r = await run(["eval", "coco", "--gt", join(coco, "small/gt.json"), "--pred", bboxFile, "--iou-type", "bbox", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).stats).toEqual([
      0.35413282504721055, 0.8202290817317028, 0.32970297029702966, 0.17472654408297975, 0.9, -1, 0.09999999999999999, 0.4470588235294118,
      0.4470588235294118, 0.2583333333333333, 0.9, -1,
    ]);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warning: 2 results in ".*dt-negative-boxes\.json" have a box with a negative width or height \(at \[17\], \[18\]\)/);
    expect(lines[1]).toMatch(/^warning: 2 results in ".*dt-negative-boxes\.json" have category ids the ground truth does not have \(7\)/);

    // segm results: a given bbox is kept as is (loadRes), so its sign is checked too
    const dt = JSON.parse(readFileSync(join(coco, "small/dt.json"), "utf8")) as object[];
    dt.push({ ...dt[0]!, category_id: 7, score: 0.97 }, { ...dt[1]!, bbox: [50, 10, -20, 5], score: 0.31 });
    const segmFile = join(tmp, "dt-segm-warnings.json");
    writeFileSync(segmFile, JSON.stringify(dt));
    const s = await run(["eval", "coco", "--gt", join(coco, "small/gt.json"), "--pred", segmFile, "--json"]);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout).stats).toEqual([
      0.34476897689768976, 0.49814356435643564, 0.4488448844884488, 0.37626119754832626, 0.47850070721357846, -1, 0.08235294117647059,
      0.488235294117647, 0.488235294117647, 0.4416666666666667, 0.6, -1,
    ]);
    expect(s.stderr).toMatch(/^warning: 1 result in .* has a box with a negative width or height \(at \[21\]\)/m);
    expect(s.stderr).toMatch(/^warning: 1 result in .* has a category id the ground truth does not have \(7\)/m);
    // a clean file: no warnings
    const clean = await run(["eval", "coco", "--gt", join(coco, "small/gt.json"), "--pred", join(coco, "small/dt.json"), "--json"]);
    expect(clean.stderr).toBe("");
  });

  it("a bad results file fails with one line naming the file and the entry (exit 1, nothing on stdout)", async () => {
    const bad = join(tmp, "bad-dt.json");
    writeFileSync(bad, JSON.stringify([{ image_id: 1, category_id: 1, score: 0.5, segmentation: { size: [70, 361], counts: "xx" } }, { image_id: 1, category_id: 1, score: "high", segmentation: { size: [70, 361], counts: "" } }]));
    const r = await run(["eval", "coco", "--gt", join(coco, "small/gt.json"), "--pred", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad-dt\.json/);
    expect(lines[0]).toMatch(/\[0\]|\[1\]/);
  });
});

describe("gear-seg eval grade", () => {
  it("perfect predictions with one wrong class: accuracy, confusion matrix", async () => {
    const square = (x: number) => [[x, 0, x + 10, 0, x + 10, 10, x, 10]];
    const gt = {
      images: [{ id: 1, width: 60, height: 20 }],
      categories: [{ id: 1, name: "ripe" }, { id: 2, name: "unripe" }],
      annotations: [0, 20, 40].map((x, i) => ({ id: i + 1, image_id: 1, category_id: i === 2 ? 2 : 1, iscrowd: 0, area: 100, bbox: [x, 0, 10, 10], segmentation: square(x) })),
    };
    const dt = [0, 20, 40].map((x) => ({ image_id: 1, category_id: 1, score: 0.9, segmentation: square(x) }));
    writeFileSync(join(tmp, "grade-gt.json"), JSON.stringify(gt));
    writeFileSync(join(tmp, "grade-dt.json"), JSON.stringify(dt));
    const r = await run(["eval", "grade", "--gt", join(tmp, "grade-gt.json"), "--pred", join(tmp, "grade-dt.json"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.accuracy).toBeCloseTo(2 / 3, 12);
    expect(j.confusion.labels).toEqual(["ripe", "unripe", "(none)"]);
    expect(j.confusion.matrix).toEqual([[2, 0, 0], [1, 0, 0], [0, 0, 0]]);
  });
});

describe("gear-seg eval errors", () => {
  it("finds the reference's SAM masks next to answers/json and classifies every sample", async () => {
    const r = await run(["eval", "errors", "--data", reasonData, "--pred", join(outputs, "answers/json"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.samples).toBe(4);
    expect(j.ok).toBe(4); // every reference answer here has IoU ≥ 0.5
    for (const s of j.per_sample) {
      expect(s.oracleIds.length).toBeGreaterThan(0);
      expect(s.oracleIds.length).toBeLessThanOrEqual(6);
    }
  });
});

describe("gear-seg eval run reasonseg", () => {
  const name = "692198_ac99d18ac5_o";
  it("runs recorded backends, resumes, records a bad sample and writes the report", async () => {
    const data = join(tmp, "ds");
    const out = join(tmp, "run");
    await import("node:fs/promises").then((fs) => fs.mkdir(data, { recursive: true }));
    symlinkSync(join(reasonData, "images", `${name}.jpg`), join(data, `${name}.jpg`));
    symlinkSync(join(reasonData, "questions", `${name}.json`), join(data, `${name}.json`));
    const flags = [
      "--segmenter", `masks:${join(outputs, "sam/masks", name)}`,
      "--describer", `recorded:${join(outputs, "dam/descriptions", `${name}.json`)}`,
      "--reasoner", `recorded:${join(outputs, "answers/json", `${name}.json`)}`,
    ];
    const first = await run(["eval", "run", "reasonseg", "--data", data, "--out", out, ...flags]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("1 sample(s) run, 0 resumed, 0 failed");
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.metrics.per_sample[0].iou).toBeCloseTo(0.924925, 5); // the reference's answer, replayed
    for (const f of ["report.md", "iou-histogram.png", `samples/${name}/result.json`, `samples/${name}/overlay.png`]) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain("| gIoU (%) | cIoU (%) | ncIoU (%) | Samples |");

    // a second, broken sample: recorded and skipped; the finished one is resumed
    writeFileSync(join(data, "broken.jpg"), "not a jpeg");
    writeFileSync(join(data, "broken.json"), JSON.stringify({ text: ["the thing"], is_sentence: false, shapes: [] }));
    const second = await run(["eval", "run", "reasonseg", "--data", data, "--out", out, ...flags]);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain("0 sample(s) run, 1 resumed, 1 failed");
    expect(second.stderr).toMatch(/! broken: cannot read image/);
    expect(Object.keys(JSON.parse(readFileSync(join(out, "failures.json"), "utf8")))).toEqual(["broken"]);
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain("failed");
  });
  it("rejects an unknown dataset kind (exit 2)", async () => {
    const r = await run(["eval", "run", "coco", "--data", tmp, "--out", join(tmp, "x")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown dataset kind "coco"/);
  });
});
describe("gear-seg eval reason never scores a wrong folder as zeros", () => {
  it("a missing predictions folder, or one where no prediction matches a sample, is an error (exit 1, one line)", async () => {
    const typo = await run(["eval", "reason", "--data", reasonData, "--pred", join(tmp, "typo")]);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toBe(`gear-seg: predictions folder "${join(tmp, "typo")}" does not exist\n`);
    const unrelated = join(tmp, "unrelated");
    mkdirSync(unrelated);
    writeFileSync(join(unrelated, "other.json"), "{}");
    const none = await run(["eval", "reason", "--data", reasonData, "--pred", unrelated]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/^gear-seg: no prediction in ".*unrelated" matches a sample of .* \(looked for <id>\.json and <id>\/result\.json, e\.g\. \w+\)\n$/);
  });
});
