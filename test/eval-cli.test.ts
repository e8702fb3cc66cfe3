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
