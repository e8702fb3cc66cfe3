// Auto-labelling on a GEAR-Seg sample (recorded masks and DAM descriptions) against a local chat server:
// open-ended discovery, given classes (attribute grading), per-instance classes, a part inside a whole of the
// same class dropped, bad ids and classes left out; the COCO output read back by our COCO loader; then
// `gear-seg distill` through the built CLI.
import { mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annotationRle, loadCocoGroundTruth } from "../src/datasets/coco.js";
import { createJsonChat } from "../src/engine/llm.js";
import { dropPartsInsideWholes, normalizeClass, parseLabelReply } from "../src/engine/label.js";
import { labelImages } from "../src/engine/generate.js";
import { imageIdFor } from "../src/datasets/gear-seg.js";
import { createPreparer, type EnginePreparer } from "../src/engine/prepare.js";
import { rleEquals } from "../src/masks/index.js";
import type { PreparedImage } from "../src/pipeline/agent.js";
import { startOpenAiServer, type ChatRequest, type OpenAiServer } from "./helpers/openai-server.js";
import { runCli, samples, tempDir } from "./helpers/cli.js";

const recorded = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
const specs = { segmenter: `masks:${recorded}/sam/masks/{stem}`, describer: `recorded:${recorded}/dam/descriptions/{stem}.json` };
const stem = "4220420_7397afecdb_o"; // tomatoes, cheese, onion, cucumber, lettuce; region 2 lies inside region 1
let imagesDir: string;
let server: OpenAiServer;
let preparer: EnginePreparer;
let prepared: PreparedImage;

function answer(req: ChatRequest): string {
  const system = String(req.messages[0]!.content);
  if (/one of these classes/.test(system)) {
    // Grading: "Ripe" (case differs), a class outside the list, and null.
    return JSON.stringify({ classes: ["unripe", "ripe"], labels: [{ id: 1, class: "Ripe" }, { id: 9, class: "overripe" }, { id: 10, class: "unripe" }, { id: 3, class: null }] });
  }
  return JSON.stringify({
    classes: ["tomato", "cheese", "leafy green"],
    labels: [
      { id: 0, class: "tomato", reason: "halved tomato" },
      { id: 1, class: "tomato" },
      { id: 2, class: "tomato" }, // inside region 1: a part of the same class
      { id: 3, class: "cheese" },
      { id: 7, class: "cheese" },
      { id: 11, class: "Leafy Green" },
      { id: 4, class: null },
      { id: 42, class: "tomato" }, // no such region
      { id: 0, class: "cheese" }, // labelled twice
    ],
  });
}

beforeAll(async () => {
  const root = await tempDir("gear-seg-label-");
  imagesDir = join(root, "images");
  await mkdir(imagesDir);
  await symlink(samples.image(stem), join(imagesDir, `${stem}.jpg`));
  server = await startOpenAiServer({ answer, servedModel: (m) => `${m}-served` });
  preparer = await createPreparer(specs);
  prepared = await preparer.prepare({ id: stem, rel: `${stem}.jpg`, abs: samples.image(stem), root: 0 }, new AbortController().signal);
});

afterAll(async () => {
  await server?.close();
  await preparer?.close();
});

describe("label", () => {
  let out: string;
  it("discovers classes, labels each instance, drops a part inside a same-class whole, writes COCO", async () => {
    out = await tempDir();
    const r = await labelImages({ imagesDir, outDir: out, prepare: preparer.prepare, llm: createJsonChat(`openai:m@${server.url}`), keyword: "salad ingredients", segmenterSpec: specs.segmenter, describerSpec: specs.describer });
    expect(r).toMatchObject({ finished: 1, failed: 0 });
    expect(r.classes).toEqual(["cheese", "tomato", "leafy_green"]);
    expect(r.stats.classes).toEqual({ tomato: 2, cheese: 2, leafy_green: 1 });
    expect(r.stats.parts_dropped).toBe(1);
    const record = JSON.parse(await readFile(join(out, "records", `${imageIdFor(`${stem}.jpg`)}.json`), "utf8"));
    expect(record.instances.map((i: { region_id: number }) => i.region_id)).toEqual([0, 1, 3, 7, 11]);
    expect(record.notes.join("\n")).toMatch(/label for 42: no such region/);
    expect(record.notes.join("\n")).toMatch(/region 0 labelled twice/);
    expect(record.notes.join("\n")).toMatch(/regions 2/);
    const coco = await loadCocoGroundTruth(join(out, "annotations.json"));
    expect(coco.categories.map((c) => c.name)).toEqual(["cheese", "tomato", "leafy_green"]);
    expect(coco.annotations).toHaveLength(5);
    // Per instance, not a union: each annotation is exactly its region's mask, with its own class.
    coco.annotations.forEach((ann, k) => {
      const region = prepared.regions.find((x) => x.id === record.instances[k].region_id)!;
      expect(rleEquals(annotationRle(ann, coco), region.rle)).toBe(true);
      expect(coco.categories.find((c) => c.id === ann.category_id)!.name).toBe(record.instances[k].category);
    });
    const md = await readFile(join(out, "DATASET.md"), "utf8");
    expect(md).toMatch(/Parts inside a whole of the same class dropped: 1/);
  });

  it("grades with given classes (same path); classes outside the list are left out", async () => {
    const grade = await tempDir();
    const r = await labelImages({ imagesDir, outDir: grade, prepare: preparer.prepare, llm: createJsonChat(`openai:m@${server.url}`), keyword: "tomato", classes: ["unripe", "turning", "ripe"], segmenterSpec: specs.segmenter, describerSpec: specs.describer });
    expect(r.classes).toEqual(["unripe", "turning", "ripe"]);
    expect(r.stats.classes).toEqual({ ripe: 1, unripe: 1 });
    const coco = await loadCocoGroundTruth(join(grade, "annotations.json"));
    expect(coco.categories.map((c) => c.name)).toEqual(["unripe", "turning", "ripe"]);
  });

  it("distill yolo exports and prints the exact commands when yolo is not installed; distill lisa likewise", async () => {
    const exp = await tempDir();
    const run = await runCli(["distill", "yolo", out, "--out", exp, "--print"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`yolo segment train data=${exp}/data.yaml model=yolov8s-seg.pt epochs=100 imgsz=640`);
    expect(await readFile(join(exp, "data.yaml"), "utf8")).toMatch(/names:/);
    const lisa = await runCli(["distill", "lisa", out, "--out", await tempDir()]);
    expect(lisa.code).toBe(2);
    expect(lisa.stderr).toMatch(/reasonseg format needs a reasoning dataset/);
  });
});

describe("label pieces", () => {
  it("normalises class names and parses replies in several shapes", () => {
    expect(normalizeClass(" Diseased Leaf ")).toBe("diseased_leaf");
    const ids = new Set([0, 1, 2]);
    expect(parseLabelReply({ labels: { "0": "fruit", "1": null } }, ids, undefined).assignments).toEqual([{ id: 0, category: "fruit" }]);
    expect(parseLabelReply([{ id: "2", class: "Ripe" }], ids, ["ripe"]).assignments).toEqual([{ id: 2, category: "ripe" }]);
  });
  it("keeps overlapping instances of different classes", () => {
    const [a, b] = [prepared.regions[1]!, prepared.regions[2]!];
    expect(dropPartsInsideWholes([{ region: a, category: "x" }, { region: b, category: "y" }]).dropped).toEqual([]);
    expect(dropPartsInsideWholes([{ region: a, category: "x" }, { region: b, category: "x" }]).dropped).toEqual([2]);
  });
});
