// `generateDataset` end to end on the GEAR-Seg samples (recorded SAM 2 masks and DAM descriptions per image)
// against a local OpenAI-compatible server whose replies hold every kind of bad item the filters must catch.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDataset } from "../src/engine/generate.js";
import { createJsonChat } from "../src/engine/llm.js";
import { createPreparer, type EnginePreparer } from "../src/engine/prepare.js";
import { assignSplit, splitHash } from "../src/engine/splits.js";
import { eachRecord, imageIdFor, type ImageRecord } from "../src/datasets/gear-seg.js";
import { sha256File } from "../src/util/fs.js";
import { loadImage } from "../src/image/index.js";
import { area, fromCocoRle, merge, rleEquals } from "../src/masks/index.js";
import type { PreparedImage } from "../src/pipeline/agent.js";
import { startOpenAiServer, userText, type ChatAnswer, type OpenAiServer } from "./helpers/openai-server.js";
import { samples, tempDir } from "./helpers/cli.js";

const imagesDir = join(samples.root, "dataset/ReasonSeg_val/images");
const recorded = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
const specs = { segmenter: `masks:${recorded}/sam/masks/{stem}`, describer: `recorded:${recorded}/dam/descriptions/{stem}.json` };

const A = "4220420_7397afecdb_o"; // tomatoes: items with every fault
const B = "3417356_b6f97b6b6e_o"; // fenced JSON in prose, near-duplicate questions
const C = "692198_ac99d18ac5_o"; // the server fails (HTTP 500)
const D = "4537339_3d8e488294_o"; // the reply is not JSON

const q5 = (stem: string) => [1, 2, 3, 4, 5].map((i) => `${stem} variant ${i} ${"xyzw".slice(0, i % 4)}?`);
const item = (o: Record<string, unknown>) => ({
  reasoning_type: "commonsense",
  questions: q5("default question"),
  explanation: "Because. It follows.",
  answer_labels: ["thing"],
  answer_mask_ids: [0],
  confidence: 8,
  ...o,
});

let preparer: EnginePreparer;
const id = (stem: string) => imageIdFor(`${stem}.jpg`);
async function readAll(dir: string): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for await (const r of eachRecord(dir)) out.push(r);
  return out;
}
const prepared = new Map<string, PreparedImage>();
let server: OpenAiServer;
let failC = true;
let tinyId = -1;
let bigIds: number[] = [];

function firstDescription(p: PreparedImage): string {
  return p.descriptions[0]!.replace(/\s+/g, " ").trim();
}

function replyFor(text: string): ChatAnswer {
  const which = [...prepared.entries()].find(([, p]) => text.includes(firstDescription(p)))?.[0];
  if (which === A) {
    return JSON.stringify({
      items: [
        item({ questions: ["What would you slice for a salad here?", "Which food is juicy and red?", "What could be cooked into a sauce?", "Which item grows on a vine?", "What would you add to a sandwich?"], answer_labels: ["tomato"], answer_mask_ids: [bigIds[0]] }),
        { reasoning_type: "functional", explanation: "no questions" }, // malformed
        item({ reasoning_type: "telepathic", questions: q5("bad type") }), // malformed
        item({ reasoning_type: "manipulation", questions: q5("one object only"), answer_mask_ids: [bigIds[0]] }), // malformed
        item({ questions: q5("unknown region"), answer_mask_ids: [bigIds[0], 999] }), // unknown id
        item({ questions: q5("not sure"), confidence: 3, answer_mask_ids: [bigIds[1]] }), // low confidence
        item({ questions: q5("tiny thing"), answer_mask_ids: [tinyId] }), // tiny target
        item({ questions: ["what would you SLICE for a salad here", "Which food is juicy, and red?"], answer_mask_ids: [bigIds[1]] }), // duplicate item
        "not an item at all", // malformed
      ],
    });
  }
  if (which === B) {
    const body = {
      items: [
        item({ reasoning_type: "manipulation", questions: q5("two things together"), answer_labels: ["sky", "fog"], answer_mask_ids: ["0", "1"], confidence: "9" }),
        item({ reasoning_type: "attribute", questions: ["Which area is the brightest?", "Which area is the brightest!", "What part of the view glows most?", "Where is the light strongest?", "What is lit the most?"], answer_labels: ["sky"], answer_mask_ids: [0], confidence: 7 }),
      ],
    };
    return `Sure! Here is the dataset:\n\`\`\`json\n${JSON.stringify(body)}\n\`\`\`\nHope this helps.`;
  }
  if (which === C) {
    if (failC) return { status: 500, body: { error: { message: "model overloaded" } } };
    return JSON.stringify({ items: [item({ questions: q5("retried later"), answer_labels: ["carpet"], answer_mask_ids: [0] })] });
  }
  if (which === D) return "I cannot help with that.";
  return { status: 400, body: { error: { message: "test server: unknown image" } } };
}

beforeAll(async () => {
  preparer = await createPreparer(specs);
  for (const stem of [A, B, C, D]) {
    prepared.set(stem, await preparer.prepare({ id: stem, rel: `${stem}.jpg`, abs: join(imagesDir, `${stem}.jpg`), root: 0 }, new AbortController().signal));
  }
  const a = prepared.get(A)!;
  const minArea = (a.width * a.height) / 600;
  tinyId = a.regions.find((r) => r.area < minArea)!.id;
  bigIds = a.regions.filter((r) => r.area >= minArea).map((r) => r.id);
  server = await startOpenAiServer({ answer: (req) => replyFor(userText(req)), servedModel: (m) => `${m}-served` });
});

afterAll(async () => {
  await server?.close();
  await preparer?.close();
});

describe("engine generate", () => {
  let out: string;

  it("filters every kind of bad item and counts it, records failures, writes a self-describing dataset", async () => {
    expect(tinyId).toBeGreaterThanOrEqual(0);
    out = await tempDir("gear-seg-engine-");
    const llm = createJsonChat(`openai:test-model@${server.url}`, { retries: 0, backoffMs: 1 });
    const progress: number[] = [];
    const summary = await generateDataset({
      imagesDir,
      outDir: out,
      prepare: preparer.prepare,
      llm,
      segmenterSpec: specs.segmenter,
      describerSpec: specs.describer,
      seed: 7,
      concurrency: 2,
      onProgress: (p) => progress.push(p.done),
    });
    expect(summary).toMatchObject({ total: 4, skipped: 0, finished: 2, failed: 2, interrupted: false });
    expect(progress.at(-1)).toBe(4);

    const s = summary.stats;
    expect(s.filters.proposed).toBe(9 + 2);
    expect(s.filters.dropped).toEqual({ malformed: 4, unknown_ids: 1, low_confidence: 1, tiny_target: 1, duplicate: 1, same_target: 0, over_limit: 0 });
    expect(s.filters.duplicate_questions).toBe(1); // "brightest?" vs "brightest!"
    expect(s.base_pairs).toBe(3);
    expect(s.qa_pairs).toBe(5 + 5 + 4);
    expect(s.images).toMatchObject({ finished: 2, failed: 2 });
    expect(s.reasoning_types.commonsense.count).toBe(1);
    expect(s.reasoning_types.manipulation.count).toBe(1);
    expect(s.reasoning_types.attribute.count).toBe(1);
    expect(s.distinct_targets).toBe(3); // tomato, sky, fog
    expect(s.failures_by_stage).toEqual({ llm: 2 });
    expect(s.models).toEqual(["test-model-served"]);

    // One JSON record per item, with the union mask of exactly the chosen regions.
    const lines = (await readFile(join(out, "items.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const manip = lines.find((l) => l.reasoning_type === "manipulation");
    expect(manip.region_ids).toEqual([0, 1]);
    const pb = prepared.get(B)!;
    const union = merge([pb.regions[0]!.rle, pb.regions[1]!.rle], false);
    expect(rleEquals(fromCocoRle(manip.mask), union)).toBe(true);
    expect(manip.area).toBe(area(union));
    expect(manip.confidence).toBe(9);
    expect(manip).toMatchObject({ width: pb.width, height: pb.height, image: `${B}.jpg`, image_id: id(B), split: assignSplit(await sha256File(join(imagesDir, `${B}.jpg`)), "7") });
    expect(manip.generation).toEqual({ segmenter: specs.segmenter, describer: specs.describer, llm: `openai:test-model@${server.url}`, model: "test-model-served", prompt_version: "gear-engine-v1" });
    const tomato = lines.find((l) => l.image_id === id(A));
    expect(tomato.questions).toHaveLength(5);
    expect(tomato.answer_labels).toEqual(["tomato"]);

    // Every generation request carried the caption and every numbered region.
    const reqA = server.requests.find((r) => userText(r).includes(firstDescription(prepared.get(A)!)))!;
    expect(userText(reqA)).toContain(prepared.get(A)!.scene.replace(/\s+/g, " ").trim());
    for (const r of prepared.get(A)!.regions) expect(userText(reqA)).toContain(`[Mask ${r.id}]`);
    expect(reqA.messages[0]!.content).toMatch(/manipulation/);

    // Records, failures, manifest, stats, DATASET.md and the chart.
    expect((await readdir(join(out, "records"))).sort()).toEqual([`${id(A)}.json`, `${id(B)}.json`].sort());
    const failures = (await readdir(join(out, "failures"))).sort();
    expect(failures).toEqual([`${id(C)}.json`, `${id(D)}.json`].sort());
    const failD = JSON.parse(await readFile(join(out, "failures", `${id(D)}.json`), "utf8"));
    expect(failD.stage).toBe("llm");
    expect(failD.error).toMatch(/no JSON/);
    expect(failD.attempts).toBe(1);
    const failC1 = JSON.parse(await readFile(join(out, "failures", `${id(C)}.json`), "utf8"));
    expect(failC1.error).toMatch(/HTTP 500.*model overloaded/);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ format: "gear-seg-dataset", kind: "reasoning", counts: { images: 2, failed: 2, items: 3, questions: 14 } });
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(["items.jsonl", "stats.json", "DATASET.md", "categories.png", "records/", "failures/"]));
    expect(JSON.parse(await readFile(join(out, "stats.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(s)));
    const md = await readFile(join(out, "DATASET.md"), "utf8");
    expect(md).toContain("![reasoning types](categories.png)");
    expect(md).toMatch(/\| ids that name no region \| 1 \|/);
    const chart = await loadImage(join(out, "categories.png"));
    expect([chart.width, chart.height]).toEqual([720, 400]);
  });

  it("a rerun skips finished images and retries the failed ones", async () => {
    failC = false;
    const before = server.requests.length;
    const llm = createJsonChat(`openai:test-model@${server.url}`, { retries: 0, backoffMs: 1 });
    const summary = await generateDataset({ imagesDir, outDir: out, prepare: preparer.prepare, llm, segmenterSpec: specs.segmenter, describerSpec: specs.describer, seed: 7 });
    expect(summary).toMatchObject({ total: 4, skipped: 2, finished: 1, failed: 1 });
    // C once, D twice (a reply without JSON is asked again once), A and B not at all.
    expect(server.requests.length - before).toBe(3);
    expect((await readdir(join(out, "failures"))).sort()).toEqual([`${id(D)}.json`]);
    const records = await readAll(out);
    expect(records.map((r) => r.image_id).sort()).toEqual([id(A), id(B), id(C)].sort());
    expect(summary.stats.base_pairs).toBe(4);
  });

  it("refuses to resume with another seed", async () => {
    const llm = createJsonChat(`openai:test-model@${server.url}`);
    await expect(generateDataset({ imagesDir, outDir: out, prepare: preparer.prepare, llm, segmenterSpec: "x", describerSpec: null, seed: 8 })).rejects.toThrow(/seed 7/);
    // the failed lock-holder released the dataset: a rerun with the right seed works
    await expect(generateDataset({ imagesDir, outDir: out, prepare: preparer.prepare, llm, segmenterSpec: "x", describerSpec: null, seed: 7, limit: 0 })).resolves.toMatchObject({ total: 0 });
  });
});

describe("splits", () => {
  it("are seeded, near the asked fractions, and stable when images are added", () => {
    const ids = Array.from({ length: 20000 }, (_, i) => `img_${i}`);
    const counts = { train: 0, val: 0, test: 0 };
    for (const id of ids) counts[assignSplit(id, 1)]++;
    expect(counts.train / ids.length).toBeCloseTo(0.9, 1);
    expect(Math.abs(counts.val / ids.length - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(counts.test / ids.length - 0.05)).toBeLessThan(0.01);
    // Another seed moves images; the same seed does not, whatever else is in the folder.
    expect(ids.filter((id) => assignSplit(id, 1) !== assignSplit(id, 2)).length).toBeGreaterThan(1000);
    expect(splitHash("img_5", 1)).toBe(splitHash("img_5", 1));
  });
});
