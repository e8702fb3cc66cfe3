// Every export of a generated dataset, read back by our loaders (src/datasets: COCO, LISA's ReasonSeg with
// OpenCV-exact rasterisation) or by a reading of the format written here (YOLO rows rasterised with our
// cv2.fillPoly port, as ultralytics' polygon2mask does; LabelMe through our importer), compared per
// instance against the source masks.
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annotationRle, loadCocoGroundTruth } from "../src/datasets/coco.js";
import { loadLabelMe } from "../src/datasets/labelme.js";
import { loadYoloSegmentation } from "../src/datasets/yolo.js";
import { fillPoly, truncatePoints } from "../src/datasets/raster.js";
import { parseReasonSegAnnotation, rasterizeReasonSeg } from "../src/datasets/reasonseg.js";
import { eachRecord, type ImageRecord } from "../src/datasets/gear-seg.js";
import { generateDataset } from "../src/engine/generate.js";
import { createJsonChat } from "../src/engine/llm.js";
import { createPreparer, type EnginePreparer } from "../src/engine/prepare.js";
import { importIntoDataset } from "../src/engine/status.js";
import { exportDataset, openDatasetSource, type ExportImage } from "../src/export/index.js";
import { loadImage } from "../src/image/index.js";
import { encode, fromCocoRle, iou, merge } from "../src/masks/index.js";
import type { Rle } from "../src/masks/types.js";
import { startOpenAiServer, type OpenAiServer } from "./helpers/openai-server.js";
import { samples, tempDir } from "./helpers/cli.js";

const recorded = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
const specs = { segmenter: `masks:${recorded}/sam/masks/{stem}`, describer: `recorded:${recorded}/dam/descriptions/{stem}.json` };
const imagesDir = join(samples.root, "dataset/ReasonSeg_val/images");

let server: OpenAiServer;
let preparer: EnginePreparer;
let dataDir: string;
let ds: { images: ExportImage[] };
async function readRecords(dir: string): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for await (const r of eachRecord(dir)) out.push(r);
  return out;
}
async function loadDataset(dir: string): Promise<{ images: ExportImage[] }> {
  const source = await openDatasetSource(dir);
  const images: ExportImage[] = [];
  for await (const img of source.images()) images.push(img);
  return { images };
}
const ious: Record<string, number[]> = {};

const maskIou = (a: Rle, b: Rle) => iou([a], [b], [false])[0]![0]!;
const record = (format: string, v: number) => (ious[format] ??= []).push(v);

beforeAll(async () => {
  // Two items per image: the two largest regions together, and the third one alone.
  server = await startOpenAiServer({ answer: () =>
    JSON.stringify({
      items: [
        { reasoning_type: "manipulation", questions: ["Which two things work together here?", "What pair would you use at once?", "Which objects go with each other?", "What could be combined here?", "Which things belong together?"], explanation: "They are used together. Both are needed.", answer_labels: ["first", "second"], answer_mask_ids: [0, 1], confidence: 9 },
        { reasoning_type: "part", questions: ["Which piece belongs to a bigger whole?", "What is a component here?", "Which element is only a part?", "What is attached to something larger?", "Which fragment is this?"], explanation: "It is part of something. It cannot stand alone.", answer_labels: ["third"], answer_mask_ids: [2], confidence: 8 },
      ],
    }),
    servedModel: (m) => `${m}-served`,
  });
  preparer = await createPreparer(specs);
  dataDir = await tempDir("gear-seg-export-src-");
  // Fractions chosen so that the three images land in more than one split with this seed.
  const summary = await generateDataset({
    imagesDir,
    outDir: dataDir,
    prepare: preparer.prepare,
    llm: createJsonChat(`openai:m@${server.url}`),
    segmenterSpec: specs.segmenter,
    describerSpec: specs.describer,
    seed: 1,
    splits: { train: 0.5, val: 0.25, test: 0.25 },
    limit: 3,
  });
  expect(summary.finished).toBe(3);
  ds = await loadDataset(dataDir);
  expect(ds.images.flatMap((i) => i.annotations)).toHaveLength(6);
});

afterAll(async () => {
  await server?.close();
  await preparer?.close();
  console.log("export round-trip IoU (min per format):", Object.fromEntries(Object.entries(ious).map(([k, v]) => [k, Math.min(...v).toFixed(4)])));
});

describe("exports round-trip", () => {
  it("coco (RLE) is exact; coco --polygons keeps IoU ≥ 0.98", async () => {
    for (const polygons of [false, true]) {
      const out = await tempDir();
      await exportDataset(dataDir, "coco", out, { polygons });
      const gt = await loadCocoGroundTruth(join(out, "annotations", "instances_all.json"));
      expect(gt.categories.map((c) => c.name)).toEqual(["commonsense", "functional", "manipulation", "part", "attribute"]);
      expect(gt.annotations).toHaveLength(6);
      for (const img of ds.images) {
        const cocoImg = [...gt.images.values()].find((i) => i.file_name === img.rel)!;
        const anns = gt.byImage.get(cocoImg.id)!;
        img.annotations.forEach((a, k) => {
          const v = maskIou(annotationRle(anns[k]!, gt), a.rle);
          record(polygons ? "coco-polygons" : "coco-rle", v);
          if (polygons) expect(v).toBeGreaterThanOrEqual(0.98);
          else expect(v).toBe(1);
          expect(gt.categories.find((c) => c.id === anns[k]!.category_id)!.name).toBe(a.category);
        });
      }
      for (const split of new Set(ds.images.map((i) => i.split))) {
        const part = await loadCocoGroundTruth(join(out, "annotations", `instances_${split}.json`));
        expect(part.images.size).toBe(ds.images.filter((i) => i.split === split).length);
      }
    }
  });

  it("reasonseg: LISA's rasteriser gives back every item's mask; explanatory/train.json lists the train items", async () => {
    const out = await tempDir();
    await exportDataset(dataDir, "reasonseg", out, { name: "GearTest" });
    const root = join(out, "reason_seg", "GearTest");
    const explanatory = JSON.parse(await readFile(join(root, "explanatory", "train.json"), "utf8"));
    let trainItems = 0;
    for (const img of ds.images) {
      for (const [k, a] of img.annotations.entries()) {
        const x = join(root, img.split, `${img.id}_${k}`);
        const ann = parseReasonSegAnnotation(JSON.parse(await readFile(`${x}.json`, "utf8")), `${x}.json`);
        expect(ann.texts).toEqual(a.item!.questions);
        expect(ann.isSentence).toBe(true);
        const label = rasterizeReasonSeg(ann.shapes, img.height, img.width);
        const target = new Uint8Array(label.data.length);
        for (let i = 0; i < target.length; i++) target[i] = label.data[i] === 1 ? 1 : 0;
        const v = maskIou(encode({ height: img.height, width: img.width, data: target }), a.rle);
        record("reasonseg", v);
        expect(v).toBeGreaterThanOrEqual(0.98);
        const jpg = await loadImage(`${x}.jpg`);
        expect([jpg.width, jpg.height]).toEqual([img.width, img.height]);
        if (img.split === "train") {
          trainItems++;
          expect(explanatory).toContainEqual({ image: `${img.id}_${k}.jpg`, query: a.item!.questions[0], outputs: a.item!.explanation });
        }
      }
    }
    expect(explanatory).toHaveLength(trainItems);
  });

  it("yolo: rows rasterised as ultralytics does give back each class's masks; data.yaml names the splits", async () => {
    const out = await tempDir();
    await exportDataset(dataDir, "yolo", out);
    const data = parseYaml(await readFile(join(out, "data.yaml"), "utf8"));
    expect(data.names).toEqual({ 0: "commonsense", 1: "functional", 2: "manipulation", 3: "part", 4: "attribute" });
    expect(data.path).toBeUndefined(); // relocatable: ultralytics takes the yaml's folder
    for (const img of ds.images) {
      const files = await readdir(join(out, "images", img.split));
      expect(files).toContain(`${img.id}.jpg`);
      const rows = (await readFile(join(out, "labels", img.split, `${img.id}.txt`), "utf8")).trim().split("\n");
      const byClass = new Map<number, Uint8Array>();
      for (const row of rows) {
        const [cls, ...coords] = row.split(" ").map(Number);
        expect(coords.length % 2).toBe(0);
        expect(coords.length).toBeGreaterThanOrEqual(6);
        expect(coords.every((c) => c >= 0 && c <= 1)).toBe(true);
        const pts: number[][] = [];
        for (let i = 0; i < coords.length; i += 2) pts.push([Math.round(coords[i]! * img.width), Math.round(coords[i + 1]! * img.height)]);
        const canvas = byClass.get(cls!) ?? new Uint8Array(img.width * img.height);
        fillPoly({ width: img.width, height: img.height, data: canvas }, truncatePoints(pts), 1);
        byClass.set(cls!, canvas);
      }
      for (const [cls, canvas] of byClass) {
        const name = data.names[cls];
        const source = merge(img.annotations.filter((a) => a.category === name).map((a) => a.rle), false);
        const v = maskIou(encode({ height: img.height, width: img.width, data: canvas }), source);
        record("yolo", v);
        expect(v).toBeGreaterThanOrEqual(0.98);
      }
    }
  });

  it("yolo and labelme through the evaluation loaders (YOLO rows filled as Ultralytics does; LabelMe groups)", async () => {
    const yolo = await tempDir();
    await exportDataset(dataDir, "yolo", yolo);
    for (const split of new Set(ds.images.map((i) => i.split))) {
      const loaded = await loadYoloSegmentation(join(yolo, "data.yaml"), split);
      for (const li of loaded.images) {
        const img = ds.images.find((i) => li.source.includes(i.id) || (li.imagePath ?? "").includes(i.id))!;
        for (const name of new Set(img.annotations.map((a) => a.category))) {
          const got = merge(li.instances.filter((x) => x.label === name).map((x) => x.rle), false);
          const want = merge(img.annotations.filter((a) => a.category === name).map((a) => a.rle), false);
          const v = maskIou(got, want);
          record("yolo-loader", v);
          expect(v).toBeGreaterThanOrEqual(0.98);
        }
      }
    }
    const lm = await tempDir();
    await exportDataset(dataDir, "labelme", lm);
    const loaded = await loadLabelMe(lm);
    for (const li of loaded) {
      const img = ds.images.find((i) => li.source.endsWith(`${i.id}.json`))!;
      expect(li.instances).toHaveLength(img.annotations.length);
      li.instances.forEach((inst, k) => {
        const v = maskIou(inst.rle, img.annotations[k]!.rle);
        record("labelme-loader", v);
        expect(inst.label).toBe(img.annotations[k]!.category);
        expect(v).toBeGreaterThanOrEqual(0.98);
      });
    }
  });

  it("labelme: exported, imported unchanged = the same masks; edits (relabel, delete) come back", async () => {
    const out = await tempDir();
    await exportDataset(dataDir, "labelme", out);
    const copy = await tempDir("gear-seg-export-copy-");
    // Import into a copy of the dataset (records + manifest), so the source stays intact for other tests.
    for (const name of ["manifest.json"]) await writeFile(join(copy, name), await readFile(join(dataDir, name)));
    await mkdir(join(copy, "records"));
    for (const f of await readdir(join(dataDir, "records"))) await copyFile(join(dataDir, "records", f), join(copy, "records", f));

    const unchanged = await importIntoDataset("labelme", out, copy);
    // An unedited round trip changes nothing: every group keeps its exact mask (fingerprints match).
    expect(unchanged).toMatchObject({ files: 3, images: 0, changed: 0, deleted: 0, added: 0 });
    const back = await readRecords(copy);
    for (const r of back) {
      const src = ds.images.find((i) => i.id === r.image_id)!;
      if (r.kind !== "reasoning") throw new Error("kind");
      r.items.forEach((item, k) => {
        const v = maskIou(fromCocoRle(item.mask), src.annotations[k]!.rle);
        record("labelme", v);
        expect(v).toBe(1);
      });
    }

    // A reviewer deletes the second item of the first image and relabels the first as "functional".
    const first = ds.images[0]!;
    const file = join(out, `${first.id}.json`);
    const lm = JSON.parse(await readFile(file, "utf8"));
    lm.shapes = lm.shapes.filter((s: { group_id: number }) => s.group_id !== 1).map((s: { label: string }) => ({ ...s, label: "functional" }));
    await writeFile(file, JSON.stringify(lm));
    const edited = await importIntoDataset("labelme", out, copy);
    expect(edited.deleted).toBe(1);
    const rec = (await readRecords(copy)).find((r) => r.image_id === first.id)!;
    if (rec.kind !== "reasoning") throw new Error("kind");
    expect(rec.items.map((i) => i.reasoning_type)).toEqual(["functional"]);
    const stats = JSON.parse(await readFile(join(copy, "stats.json"), "utf8"));
    expect(stats.base_pairs).toBe(5);
  });

  it("refuses an unknown format", async () => {
    await expect(exportDataset(dataDir, "voc", await tempDir())).rejects.toThrow(/export format must be one of/);
  });
});
