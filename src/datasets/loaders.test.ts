import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { area, decode, toCocoRle, encode } from "../masks/index.js";
import { loadLabelMeFile } from "./labelme.js";
import { loadLlmSeg40k, loadMuse } from "./reasoning-json.js";
import { loadReasonSeg, reasonSegGroundTruth } from "./reasonseg.js";
import { loadStrawDI } from "./strawdi.js";
import { loadYoloSegmentation } from "./yolo.js";

const tmp = mkdtempSync(join(tmpdir(), "gear-seg-loaders-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const png = (w: number, h: number, channels: 1 | 3, data: Uint8Array) => sharp(Buffer.from(data), { raw: { width: w, height: h, channels } }).png().toBuffer();

describe("ReasonSeg loader", () => {
  const ann = { text: ["what holds the water?", "the container"], is_sentence: true, shapes: [{ label: "target", points: [[1, 1], [6, 1], [6, 4], [1, 4]] }] };
  it("reads X.jpg + X.json side by side and images/ + questions/", async () => {
    const a = join(tmp, "rs-a");
    mkdirSync(a);
    writeFileSync(join(a, "cup.png"), await png(8, 6, 3, new Uint8Array(8 * 6 * 3)));
    writeFileSync(join(a, "cup.json"), JSON.stringify(ann));
    const b = join(tmp, "rs-b");
    mkdirSync(join(b, "images"), { recursive: true });
    mkdirSync(join(b, "questions"));
    writeFileSync(join(b, "images", "cup.png"), await png(8, 6, 3, new Uint8Array(8 * 6 * 3)));
    writeFileSync(join(b, "questions", "cup.json"), JSON.stringify(ann));
    for (const dir of [a, b]) {
      const [s] = await loadReasonSeg(dir);
      expect(s!.name).toBe("cup");
      expect(s!.texts).toHaveLength(2);
      expect(s!.isSentence).toBe(true);
      const gt = await reasonSegGroundTruth(s!);
      expect([gt.width, gt.height]).toEqual([8, 6]);
      expect(gt.data.filter((v) => v === 1).length).toBe(6 * 4);
    }
  });
  it("names the annotation whose image is missing", async () => {
    const c = join(tmp, "rs-c");
    mkdirSync(c);
    writeFileSync(join(c, "lost.json"), JSON.stringify(ann));
    await expect(loadReasonSeg(c)).rejects.toThrow(/lost\.json" has no image/);
  });
  it("names the JSON path of a bad entry", async () => {
    const d = join(tmp, "rs-d");
    mkdirSync(d);
    writeFileSync(join(d, "x.jpg"), "");
    writeFileSync(join(d, "x.json"), JSON.stringify({ text: ["q"], shapes: [{ label: 3, points: [] }] }));
    await expect(loadReasonSeg(d)).rejects.toThrow(/x\.json" at shapes\[0\]\.label: expected a string/);
    writeFileSync(join(d, "x.json"), JSON.stringify({ text: ["q"], is_sentence: false, shapes: [{ label: "target", points: [[1, 2], [3, "4"]] }] }));
    await expect(loadReasonSeg(d)).rejects.toThrow(`bad dataset file "${join(d, "x.json")}" at shapes[0].points[1][1]: expected a finite number`);
  });
});

describe("YOLO segmentation loader", () => {
  it("reads data.yaml, labels/ beside images/, normalised polygons", async () => {
    const root = join(tmp, "yolo");
    mkdirSync(join(root, "images", "val"), { recursive: true });
    mkdirSync(join(root, "labels", "val"), { recursive: true });
    writeFileSync(join(root, "data.yaml"), "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: unripe\n  1: ripe\n");
    writeFileSync(join(root, "images", "val", "a.png"), await png(10, 10, 3, new Uint8Array(300)));
    writeFileSync(join(root, "images", "val", "b.png"), await png(10, 10, 3, new Uint8Array(300)));
    writeFileSync(join(root, "labels", "val", "a.txt"), "1 0 0 0.5 0 0.5 0.5 0 0.5\n");
    const ds = await loadYoloSegmentation(join(root, "data.yaml"), "val");
    expect(ds.names).toEqual(["unripe", "ripe"]);
    expect(ds.images).toHaveLength(2);
    expect(ds.images[0]!.instances.map((i) => i.label)).toEqual(["ripe"]);
    // cv2.fillPoly, as Ultralytics trains on it, fills the corner points' pixels: x, y in 0..5 → 6×6.
    expect(area(ds.images[0]!.instances[0]!.rle)).toBe(36);
    expect(ds.images[1]!.instances).toEqual([]); // no label file: no instances
    writeFileSync(join(root, "labels", "val", "b.txt"), "7 0 0 1 0 1 1\n");
    await expect(loadYoloSegmentation(join(root, "data.yaml"), "val")).rejects.toThrow(/b\.txt" at line 1: class "7" is not one of 0\.\.1/);
  });
});

describe("StrawDI loader", () => {
  it("one instance per id in channel 0, 0 = background", async () => {
    const dir = join(tmp, "strawdi");
    mkdirSync(dir);
    const rgb = new Uint8Array(4 * 3 * 3);
    const ids = [0, 1, 1, 0, 0, 0, 2, 2, 5, 0, 0, 0];
    ids.forEach((v, i) => (rgb[i * 3] = v, rgb[i * 3 + 1] = 99)); // channel 1 is not the id
    writeFileSync(join(dir, "1.png"), await png(4, 3, 3, rgb));
    const [im] = await loadStrawDI(dir);
    expect(im!.instances.map((i) => area(i.rle))).toEqual([2, 2, 1]);
    expect(Array.from(decode(im!.instances[1]!.rle).data)).toEqual(ids.map((v) => (v === 2 ? 1 : 0)));
  });
});

describe("LabelMe loader", () => {
  it("polygons and rectangles, grouped by group_id; bad shapes named by path", async () => {
    const f = join(tmp, "lm.json");
    writeFileSync(f, JSON.stringify({
      imageWidth: 10, imageHeight: 8, imagePath: "lm.jpg",
      shapes: [
        { label: "ripe", points: [[0, 0], [3, 0], [3, 3], [0, 3]], shape_type: "polygon", group_id: 1 },
        { label: "ripe", points: [[5, 5], [6, 6]], shape_type: "rectangle", group_id: 1 },
        { label: "unripe", points: [[7, 0], [9, 0], [9, 2]], shape_type: "polygon", group_id: null },
      ],
    }));
    const im = await loadLabelMeFile(f);
    expect(im.instances.map((i) => [i.label, area(i.rle)])).toEqual([["ripe", 16 + 4], ["unripe", 6]]);
    writeFileSync(f, JSON.stringify({ imageWidth: 10, imageHeight: 8, shapes: [{ label: "x", points: [[0, 0]], shape_type: "circle" }] }));
    await expect(loadLabelMeFile(f)).rejects.toThrow(/lm\.json" at shapes\[0\]\.shape_type: "circle" is not supported/);
  });
});

describe("LLM-Seg40k and MUSE/MMR loaders", () => {
  const square = { width: 6, height: 4, data: Uint8Array.from({ length: 24 }, (_, i) => (i % 6 < 2 ? 1 : 0)) };
  it("LLM-Seg40k: qa_pairs with rle_seg", async () => {
    const f = join(tmp, "llmseg.json");
    writeFileSync(f, JSON.stringify({ "img1.jpg": { qa_pairs: [{ question: "what?", rle_seg: toCocoRle(encode(square)) }] } }));
    const [s] = await loadLlmSeg40k(f);
    expect(s).toMatchObject({ id: "img1.jpg#0", image: "img1.jpg", question: "what?" });
    expect(area(s!.target)).toBe(8);
    writeFileSync(f, JSON.stringify({ "img1.jpg": { qa_pairs: [{ question: "what?", rle_seg: { size: [4, 6], counts: [1, 2] } }] } }));
    await expect(loadLlmSeg40k(f)).rejects.toThrow(/llmseg\.json" at \["img1\.jpg"\]\.qa_pairs\[0\]\.rle_seg/);
  });
  it("MUSE: answers as COCO annotations, united per question", async () => {
    const f = join(tmp, "muse.json");
    writeFileSync(f, JSON.stringify([{ image_path: "a.jpg", height: 4, width: 6, questions: ["q1", "q2"], answers: [[{ segmentation: toCocoRle(encode(square)) }], [{ segmentation: [[3, 0, 6, 0, 6, 4, 3, 4]] }, { segmentation: toCocoRle(encode(square)) }]] }]));
    const s = await loadMuse(f);
    expect(s.map((x) => [x.question, area(x.target)])).toEqual([["q1", 8], ["q2", 8 + 12]]);
  });
});
