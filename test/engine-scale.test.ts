// The data engine's defects at GEAR-131K size (issue 14, points 1-10, 12-14), each through the library with the
// real offline stack (classic segmenter, attributes describer) on small generated pictures and a local chat
// server. The CLI is exercised in engine-cli-scale.test.ts.
import { copyFile, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCocoGroundTruth } from "../src/datasets/coco.js";
import { eachRecord, imageIdFor, recordPath, type ImageRecord, type ReasoningRecord } from "../src/datasets/gear-seg.js";
import { loadYoloSegmentation } from "../src/datasets/yolo.js";
import { generateDataset, labelImages } from "../src/engine/generate.js";
import { listImages } from "../src/engine/images.js";
import { sha256File } from "../src/util/fs.js";
import { createJsonChat } from "../src/engine/llm.js";
import { filterReply } from "../src/engine/filters.js";
import { fitPrompt, estimateTokens, architectMessages } from "../src/engine/prompt.js";
import { assignSplit } from "../src/engine/splits.js";
import { datasetStatus } from "../src/engine/status.js";
import { summarizeDataset } from "../src/engine/summary.js";
import { readCurrentState } from "../src/engine/summary-state.js";
import { exportDataset } from "../src/export/index.js";
import { encodePng } from "../src/image/index.js";
import { encode, fromCocoRle, rleEquals } from "../src/masks/index.js";
import type { GearSeg } from "../src/pipeline/agent.js";
import { createStack } from "../src/stack/stack.js";
import { startOpenAiServer, userText, type OpenAiServer } from "./helpers/openai-server.js";
import { tempDir } from "./helpers/cli.js";

let agent: GearSeg;
let server: OpenAiServer;
/** Images whose prompt holds one of these substrings get an HTTP 500 from the chat server. */
const failing = new Set<string>();
let labelClasses = ["leaf"];

function picture(k: number): { width: number; height: number; data: Uint8Array } {
  const width = 32;
  const height = 24;
  const data = new Uint8Array(width * height * 3).fill(230);
  for (let y = 4; y < 20; y++) for (let x = 4 + (k % 8); x < 18 + (k % 8); x++) data.set([200 - ((k * 37) % 150), 40 + ((k * 53) % 180), 90], (y * width + x) * 3);
  data[0] = k & 255;
  data[1] = (k >> 8) & 255;
  return { width, height, data };
}
const png = (k: number) => encodePng({ ...picture(k) } as never);

const item = (type: string, ids: number[], q: string) => ({ reasoning_type: type, questions: [1, 2, 3, 4, 5].map((i) => `${q} number ${"one two three four five".split(" ")[i - 1]}?`), explanation: "It fits. The words say so.", answer_labels: ["thing"], answer_mask_ids: ids, confidence: 8 });

const prepare = (e: { abs: string }, signal: AbortSignal) => agent.prepare(e.abs, signal);
const llm = () => createJsonChat(`openai:m@${server.url}`, { retries: 0, backoffMs: 1 });

async function records(dir: string): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for await (const r of eachRecord(dir)) out.push(r);
  return out;
}

async function folderOf(names: Record<string, number>): Promise<string> {
  const dir = join(await tempDir("gear-seg-scale-img-"), "images");
  for (const [name, k] of Object.entries(names)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), await png(k));
  }
  return dir;
}

beforeAll(async () => {
  ({ agent } = await createStack({ segmenter: "classic", describer: "attributes", reasoner: "none", detector: "none" }));
  server = await startOpenAiServer({ answer: (req) => {
    const text = userText(req);
    for (const f of failing) if (text.includes(f)) return { status: 500, body: { error: { message: "overloaded" } } };
    if (/classes/.test(String(req.messages[0]!.content))) {
      return JSON.stringify({ labels: labelClasses.map((c, i) => ({ id: i, class: c })) });
    }
    // Two items with the same type and target (one base pair counted twice), and five items in all.
    return JSON.stringify({ items: [item("attribute", [0], "What is biggest"), item("attribute", [0], "Which area is widest"), item("part", [0], "Which piece is a part"), item("commonsense", [0], "What would you touch first"), item("functional", [0], "What holds the rest")] });
  } });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await agent?.close();
});

describe("ids, paths and folders", () => {
  it("#2 #3: ids are short, unique and readable; long paths, non-ASCII names and look-alike names all work", async () => {
    const deep = `${"a-very-long-folder-name-".repeat(6)}/${"b".repeat(120)}/${"c".repeat(200)}.png`;
    const images = await folderOf({ "草莓.png": 1, "卡车.png": 2, "photo 1.png": 3, "photo_1.png": 4, [deep]: 5 });
    const ids = (await listImages(images)).map((e) => e.id);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(Buffer.byteLength(`${id}.json`)).toBeLessThan(100);
    expect(ids.some((id) => id.startsWith("草莓-"))).toBe(true);
    expect(ids.some((id) => id.startsWith("卡车-"))).toBe(true);
    const out = await tempDir();
    const r = await generateDataset({ imagesDir: images, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes" });
    expect(r).toMatchObject({ finished: 5, failed: 0 });
    expect((await readdir(join(out, "records"))).length).toBe(5);
  }, 60_000);

  it("#2: a bad image is a recorded failure and the run goes on; a symlink loop is not followed", async () => {
    const images = await folderOf({ "good.png": 6, "sub/other.png": 7 });
    await writeFile(join(images, "broken.png"), "this is not a picture");
    await symlink(images, join(images, "sub", "loop")); // sub/loop → the root: a cycle
    await symlink("self", join(images, "self")); // a link to itself (ELOOP)
    const notices: string[] = [];
    const listed = await listImages(images, { onSkip: (p, why) => notices.push(`${p}: ${why}`) });
    expect(listed.map((e) => e.rel).sort()).toEqual(["broken.png", "good.png", "sub/other.png"]);
    expect(notices.join("\n")).toMatch(/link loop|already listed/);
    const out = await tempDir();
    const r = await generateDataset({ imagesDir: images, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes" });
    expect(r).toMatchObject({ total: 3, finished: 2, failed: 1 });
    const failure = JSON.parse(await readFile(join(out, "failures", `${imageIdFor("broken.png")}.json`), "utf8"));
    expect(failure).toMatchObject({ stage: "prepare", attempts: 1 });
  }, 60_000);

  it("#4: a second image folder joins the dataset as a second root; every record still finds its image", async () => {
    const first = await folderOf({ "x.png": 8, "y.png": 9 });
    const second = await folderOf({ "x.png": 10 }); // same relative name, other folder
    const out = await tempDir();
    await generateDataset({ imagesDir: first, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes" });
    // The second run starts from the saved totals (it reads only its own record) and ends with the numbers of a
    // full pass.
    expect((await readCurrentState(out, "reasoning")).reason).toBeUndefined();
    const r = await generateDataset({ imagesDir: second, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes" });
    expect(r).toMatchObject({ finished: 1, skipped: 0 });
    expect(r.stats.images.finished).toBe(3);
    expect(await summarizeDataset(out, { rebuild: true })).toEqual(r.stats);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest.images_roots).toEqual([first, second]);
    const recs = await records(out);
    expect(recs.map((x) => x.root).sort()).toEqual([0, 0, 1]);
    const yolo = join(await tempDir(), "yolo");
    const e = await exportDataset(out, "yolo", yolo);
    expect(e.images).toBe(3);
  }, 60_000);
});

describe("records, splits and summaries", () => {
  let out: string;
  let images: string;

  beforeAll(async () => {
    images = await folderOf({ "a.png": 11, "b.png": 12, "c.png": 13, "d.png": 14 });
    await copyFile(join(images, "a.png"), join(images, "a-copy.png")); // the same photo under two paths
    out = await tempDir();
    await generateDataset({ imagesDir: images, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", seed: 5, maxItems: 2 });
  }, 60_000);

  it("#10: the same type and target is one item; max items is a hard cap", async () => {
    const r = (await records(out)).find((x) => x.image === "b.png") as ReasoningRecord;
    expect(r.items.map((i) => i.reasoning_type)).toEqual(["attribute", "part"]);
    expect(r.filters.dropped).toMatchObject({ same_target: 1, over_limit: 2 });
    const unit = filterReply({ items: [item("part", [0, 1], "A"), item("part", [1, 0], "B")] }, new Map([[0, encode({ width: 2, height: 1, data: new Uint8Array([1, 0]) })], [1, encode({ width: 2, height: 1, data: new Uint8Array([0, 1]) })]]), 2, 1, { minAreaFraction: 0 });
    expect(unit.counts.dropped.same_target).toBe(1);
  });

  it("#14: splits come from the image content: one photo under two paths is in one split", async () => {
    const recs = await records(out);
    const a = recs.find((x) => x.image === "a.png")!;
    const copy = recs.find((x) => x.image === "a-copy.png")!;
    expect(copy.image_sha256).toBe(a.image_sha256);
    expect(copy.split).toBe(a.split);
    for (const r of recs) expect(r.split).toBe(assignSplit(await sha256File(join(images, r.image)), "5"));
  });

  it("#9: a zero-length record is moved aside and its image redone; temporary files of dead writers are removed", async () => {
    const id = imageIdFor("c.png");
    await writeFile(recordPath(out, id), "");
    await writeFile(join(out, "records", `.${id}.json.999999.abcd1234.tmp`), "partial");
    const notices: string[] = [];
    const r = await generateDataset({ imagesDir: images, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", seed: 5, maxItems: 2, onNotice: (l) => notices.push(l) });
    expect(r).toMatchObject({ finished: 1, skipped: 4 });
    expect(notices.join("\n")).toMatch(new RegExp(`damaged record .*${id}.json \\(empty file`));
    expect((await readdir(join(out, "damaged"))).length).toBe(1);
    expect((await readdir(join(out, "records"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect((await stat(recordPath(out, id))).size).toBeGreaterThan(0);
  }, 60_000);

  it("#12: a failing image is retried a bounded number of times, then parked; status lists it; retryFailed brings it back", async () => {
    const imgs = await folderOf({ "ok.png": 15, "bad.png": 16 });
    const dir = await tempDir();
    const badPrompt = (await agent.prepare(join(imgs, "bad.png"))).descriptions[0]!.replace(/\s+/g, " ").trim();
    failing.add(badPrompt);
    try {
      const run = () => generateDataset({ imagesDir: imgs, outDir: dir, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", maxAttempts: 2 });
      expect(await run()).toMatchObject({ failed: 1, parked: 0 });
      expect(await run()).toMatchObject({ failed: 1, parked: 0 }); // second attempt: now parked
      const third = await run();
      expect(third).toMatchObject({ failed: 0, parked: 1, finished: 0 });
      const status = await datasetStatus(dir);
      expect(status.parked).toEqual([expect.objectContaining({ image: "bad.png", stage: "llm", attempts: 2 })]);
      expect(status.parked[0]!.error).toMatch(/HTTP 500/);
      failing.clear();
      expect(await run()).toMatchObject({ parked: 1, finished: 0 });
      expect(await generateDataset({ imagesDir: imgs, outDir: dir, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", retryFailed: true })).toMatchObject({ finished: 1, parked: 0 });
    } finally {
      failing.clear();
    }
  }, 60_000);

  it("#12: the prompt budget leaves the smallest regions out and the record says so", () => {
    const regions = Array.from({ length: 200 }, (_, i) => ({ id: i, description: `region ${i} ` + "with a long description of colour, texture and shape ".repeat(4), bbox: [0, 0, 1, 1] as [number, number, number, number], area: 10_000 - i }));
    const build = (rs: readonly (typeof regions)[number][]) => architectMessages({ scene: "a scene", regions: rs, imageWidth: 100, imageHeight: 100 });
    expect(estimateTokens(build(regions))).toBeGreaterThan(11_000);
    const fitted = fitPrompt(regions, build, 4000);
    expect(estimateTokens(fitted.messages)).toBeLessThanOrEqual(4000);
    expect(fitted.droppedIds.length).toBeGreaterThan(100);
    expect(Math.min(...fitted.droppedIds)).toBeGreaterThan(Math.max(...regions.filter((r) => !fitted.droppedIds.includes(r.id)).map((r) => r.id))); // the smallest went
  });

  it("#8: re-exporting replaces the whole folder (a deleted item does not come back); a folder of other files is refused", async () => {
    const target = join(await tempDir(), "export");
    await exportDataset(out, "gear-seg", target);
    const before = (await readdir(target, { recursive: true })).filter((n) => String(n).endsWith(".json")).length;
    // An image goes out of the dataset (a person deleted its record).
    const gone = imageIdFor("d.png");
    await rename(recordPath(out, gone), join(await tempDir(), "gone.json"));
    await exportDataset(out, "gear-seg", target);
    const after = (await readdir(target, { recursive: true })).map(String);
    expect(after.filter((n) => n.endsWith(".json")).length).toBe(before - 1);
    expect(after.some((n) => n.includes(gone))).toBe(false);
    const foreign = await tempDir();
    await writeFile(join(foreign, "thesis.tex"), "mine");
    await expect(exportDataset(out, "coco", foreign)).rejects.toThrow(/not a gear-seg export/);
    expect(await readFile(join(foreign, "thesis.tex"), "utf8")).toBe("mine");
  }, 60_000);

  it("#14: a version 1 dataset is migrated to version 2 ids; its finished images keep their splits and are not redone", async () => {
    const v1 = await tempDir();
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    const { images_roots: _roots, ...rest } = manifest;
    await writeFile(join(v1, "manifest.json"), JSON.stringify({ ...rest, version: 1, images_root: images, splits: { seed: "5", fractions: manifest.splits.fractions } }));
    await mkdir(join(v1, "records"));
    // Version 1 named records by path ("b" for b.png); this image was put in "test" whatever its content says.
    const rec = (await records(out)).find((x) => x.image === "b.png") as ReasoningRecord;
    const { root: _root, image_sha256: _sha, ...v1rec } = rec;
    await writeFile(join(v1, "records", "b.json"), JSON.stringify({ ...v1rec, image_id: "b", split: "test", items: rec.items.map((it, k) => ({ ...it, id: `b#${k}`, image_id: "b", split: "test" })) }));
    const before = server.requests.length;
    const r = await generateDataset({ imagesDir: images, outDir: v1, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", seed: 5, maxItems: 2 });
    expect(r).toMatchObject({ skipped: 1, finished: 4 });
    expect(server.requests.length - before).toBe(4);
    const migrated = (await records(v1)).find((x) => x.image === "b.png")!;
    expect(migrated).toMatchObject({ image_id: imageIdFor("b.png"), split: "test" });
    expect((migrated as ReasoningRecord).items.map((i) => i.id)).toEqual([`${imageIdFor("b.png")}#0`, `${imageIdFor("b.png")}#1`]);
    expect(JSON.parse(await readFile(join(v1, "manifest.json"), "utf8"))).toMatchObject({ version: 2, images_roots: [images] });
  }, 60_000);

  it("#13: the GEAR-Seg reference layout: <split>/answers/json/<image>.json with the union's counts", async () => {
    const target = join(await tempDir(), "ref");
    await exportDataset(out, "gear-seg", target);
    const r = (await records(out)).find((x) => x.image === "b.png") as ReasoningRecord;
    const file = join(target, r.split, "answers", "json", `${r.image_id}.json`);
    const list = JSON.parse(await readFile(file, "utf8"));
    expect(list).toHaveLength(r.items.length);
    expect(list[0]).toMatchObject({ reasoning_type: r.items[0]!.reasoning_type, question: r.items[0]!.questions, answer_labels: r.items[0]!.answer_labels, answer_mask_ids: ["0"], explanation: r.items[0]!.explanation });
    expect(rleEquals(fromCocoRle({ size: list[0].size, counts: list[0].counts }), fromCocoRle(r.items[0]!.mask))).toBe(true);
  }, 60_000);

  it("#5: the YOLO export is relocatable: data.yaml has no absolute path and loads after a move", async () => {
    const target = join(await tempDir(), "yolo");
    await exportDataset(out, "yolo", target);
    const moved = join(await tempDir(), "elsewhere");
    await rename(target, moved);
    const yaml = parseYaml(await readFile(join(moved, "data.yaml"), "utf8"));
    expect(yaml.path).toBeUndefined();
    const loaded = await loadYoloSegmentation(join(moved, "data.yaml"), "train");
    expect(loaded.images.length).toBeGreaterThan(0);
  }, 60_000);

  it("rejected items are left out of the numbers and of every export", async () => {
    const dir = await tempDir();
    for (const name of ["manifest.json"]) await copyFile(join(out, name), join(dir, name));
    await mkdir(join(dir, "records"));
    for (const f of await readdir(join(out, "records"))) await copyFile(join(out, "records", f), join(dir, "records", f));
    const id = imageIdFor("b.png");
    const rec = JSON.parse(await readFile(recordPath(dir, id), "utf8")) as ReasoningRecord;
    rec.items[0]!.review = { status: "rejected", at: new Date().toISOString() };
    await writeFile(recordPath(dir, id), JSON.stringify(rec));
    const all = (await records(dir)).reduce((n, r) => n + (r.kind === "reasoning" ? r.items.length : 0), 0);
    const stats = await summarizeDataset(dir);
    expect(stats.base_pairs).toBe(all - 1);
    expect(stats.review).toEqual({ accepted: 0, rejected: 1 });
    const lines = (await readFile(join(dir, "items.jsonl"), "utf8")).trim().split("\n");
    expect(lines.map((l) => JSON.parse(l).id)).not.toContain(rec.items[0]!.id);
    const coco = join(await tempDir(), "coco");
    await exportDataset(dir, "coco", coco);
    const gt = await loadCocoGroundTruth(join(coco, "annotations", "instances_all.json"));
    expect(gt.annotations).toHaveLength(all - 1);
  }, 60_000);
});

describe("labels", () => {
  it("#6: a class keeps its id when images with new classes are added", async () => {
    const images = await folderOf({ "p.png": 17 });
    const out = await tempDir();
    labelClasses = ["stem", "leaf"];
    const first = await labelImages({ imagesDir: images, outDir: out, prepare, llm: llm(), keyword: "plant" });
    const before = first.classes!;
    await writeFile(join(images, "q.png"), await png(18));
    labelClasses = ["fruit", "leaf", "leaf", "fruit"];
    const second = await labelImages({ imagesDir: images, outDir: out, prepare, llm: llm(), keyword: "plant" });
    expect(second.classes!.slice(0, before.length)).toEqual(before);
    expect(second.classes).toContain("fruit");
    const gt = await loadCocoGroundTruth(join(out, "annotations.json"));
    expect(gt.categories.map((c) => c.name)).toEqual(second.classes);
  }, 60_000);
});

describe("streaming at scale", () => {
  it("#1: 20,000 items: summaries and a COCO export stream (every item once, counts right)", async () => {
    const out = await tempDir();
    const images = await folderOf({ "one.png": 19 });
    await generateDataset({ imagesDir: images, outDir: out, prepare, llm: llm(), segmenterSpec: "classic", describerSpec: "attributes", maxItems: 2 });
    const [template] = (await records(out)) as ReasoningRecord[];
    // 10,000 synthetic records of two items each, cloned from a real one (same image, same masks).
    const N = 10_000;
    for (let k = 0; k < N; k++) {
      const id = `synthetic-${String(k).padStart(6, "0")}`;
      const items = template!.items.map((it, j) => ({ ...it, id: `${id}#${j}`, image_id: id }));
      await writeFile(recordPath(out, id), JSON.stringify({ ...template!, image_id: id, items }));
    }
    const stats = await summarizeDataset(out);
    expect(stats.images.finished).toBe(N + 1);
    expect(stats.base_pairs).toBe(2 * (N + 1));
    const lines = (await readFile(join(out, "items.jsonl"), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2 * (N + 1));
    const coco = join(await tempDir(), "coco");
    const r = await exportDataset(out, "coco", coco);
    expect(r.images).toBe(N + 1);
    const all = JSON.parse(await readFile(join(coco, "annotations", "instances_all.json"), "utf8"));
    expect(all.annotations).toHaveLength(2 * (N + 1));
    expect(new Set(all.annotations.map((a: { id: number }) => a.id)).size).toBe(2 * (N + 1));
    expect(all.images).toHaveLength(N + 1);
  }, 60_000);
});
