// NanoDet-g itself (the real weights from the test model store, see test/helpers/model-store.ts) on the example
// photos and the ReasonSeg samples. The boxes below were drawn by hand around the objects a person sees; the
// detector must find them with the right class. The same model fed the Human library's preprocessing (RGB / 255
// stretched to the square) must fail these checks: that is what makes them a test of the preprocessing.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadImage } from "../../image/decode.js";
import type { RgbImage } from "../../image/types.js";
import { locateNpmModel } from "../../models/npm-models.js";
import type { BBox } from "../../masks/types.js";
import type { Detection, Detector } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { decodeNanodet } from "./decode.js";
import { loadNanodetGraph, type NanodetGraph } from "./graph-model.js";
import { COCO_LABELS, createNanodetDetector, NANODET_MODEL_ID } from "./index.js";
import { conformance } from "../../../test/helpers/conformance.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const photo = (name: string) => join(repoRoot, "../shared/data/photos", name);
const sample = (name: string) => join(repoRoot, "../shared/data/gear-seg-samples/dataset/ReasonSeg_val/images", `${name}.jpg`);

const SAILBOAT = sample("3417356_b6f97b6b6e_o");
const DOG = sample("692198_ac99d18ac5_o");
const GONDOLA = sample("4537339_3d8e488294_o");

/** Hand-drawn boxes [x, y, w, h] in image pixels. */
const truth: Record<string, { label: string; box: BBox }> = {
  [photo("cars.jpg")]: { label: "car", box: [273, 506, 1049, 563] }, // the dark red car on the left
  [photo("truck.jpg")]: { label: "truck", box: [79, 281, 1631, 569] }, // the white pick-up
  [SAILBOAT]: { label: "boat", box: [397, 166, 346, 1063] }, // sail and hull of the near sailboat
  [DOG]: { label: "dog", box: [111, 0, 289, 299] },
};

function boxIou(a: BBox, b: BBox): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

/** The best-scoring detection that overlaps the hand box (IoU ≥ 0.3), whatever its class. */
function found(dets: Detection[], box: BBox): Detection | undefined {
  return dets.find((d) => boxIou(d.bbox, box) >= 0.3);
}

/** The Human library's NanoDet input: RGB / 255, bilinear-stretched to the square (tf.image.resizeBilinear
 * without half-pixel centres), channels first. */
function humanInput(image: RgbImage, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  const sx = image.width / size;
  const sy = image.height / size;
  for (let v = 0; v < size; v++) {
    const y = v * sy;
    const y0 = Math.floor(y);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = y - y0;
    for (let u = 0; u < size; u++) {
      const x = u * sx;
      const x0 = Math.floor(x);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = x - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => image.data[(yy * image.width + xx) * 3 + c]!;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[c * size * size + v * size + u] = (top * (1 - wy) + bottom * wy) / 255;
      }
    }
  }
  return out;
}

/** What the stack's registry hands a factory. */
const context = (spec: string) => ({ spec, label: `detector ${spec}`, resolvePath: (p: string) => p });

let detector: Detector;
const images = new Map<string, RgbImage>();

beforeAll(async () => {
  detector = await createNanodetDetector("", {}, context("nanodet"));
  for (const path of [...Object.keys(truth), GONDOLA]) images.set(path, await loadImage(path));
});

afterAll(async () => {
  await detector?.close?.();
});

describe("nanodet on real photos", () => {
  it.each(Object.entries(truth))("finds the object a person sees in %s", async (path, { label, box }) => {
    const dets = await detector.detect(images.get(path)!);
    const hit = found(dets, box);
    expect(hit?.label).toBe(label);
    expect(boxIou(hit!.bbox, box)).toBeGreaterThan(0.8);
    expect(hit!.score).toBeGreaterThan(0.5);
    for (const d of dets) expect(COCO_LABELS).toContain(d.label);
  });

  it("sees the gondolier and the passengers as persons", async () => {
    const dets = await detector.detect(images.get(GONDOLA)!);
    const persons = dets.filter((d) => d.label === "person");
    expect(persons.length).toBeGreaterThanOrEqual(3);
    // The gondolier stands left of centre (x ≈ 760-820, y ≈ 580-770).
    expect(persons.some((p) => boxIou(p.bbox, [758, 580, 64, 190]) > 0.7)).toBe(true);
  });

  it("returns the same detections when the model is reused, best first, boxes inside the image", async () => {
    const image = images.get(photo("cars.jpg"))!;
    // A copy of the image: the detector keeps its answer for the very same image object.
    const [a, b] = [await detector.detect(image), await detector.detect({ ...image })];
    expect(await detector.detect(image)).toEqual(a);
    expect(b).toEqual(a);
    for (let i = 1; i < a.length; i++) expect(a[i]!.score).toBeLessThanOrEqual(a[i - 1]!.score);
    for (const d of a) {
      expect(d.bbox[0]).toBeGreaterThanOrEqual(0);
      expect(d.bbox[0] + d.bbox[2]).toBeLessThanOrEqual(image.width + 1e-6);
      expect(d.bbox[1] + d.bbox[3]).toBeLessThanOrEqual(image.height + 1e-6);
    }
  });

  it("the Human library's preprocessing fails the same checks (dog, sailboat)", async () => {
    const located = (await locateNpmModel(NANODET_MODEL_ID))!;
    const graph: NanodetGraph = await loadNanodetGraph(located.files["nanodet.json"]!, COCO_LABELS.length);
    try {
      const humanDetections = async (path: string) => {
        const image = images.get(path)!;
        const levels = await graph.run(humanInput(image, graph.inputSize));
        // Decode in input space, then stretch back (Human's boxes are relative to the stretched square).
        const square = { size: graph.inputSize, ratio: 1, width: graph.inputSize, height: graph.inputSize };
        return decodeNanodet(levels, square, { scoreThreshold: 0.3, nmsIou: 0.6, maxDetections: 100, labels: COCO_LABELS }).map((d) => ({
          ...d,
          bbox: [d.bbox[0] * (image.width / graph.inputSize), d.bbox[1] * (image.height / graph.inputSize), d.bbox[2] * (image.width / graph.inputSize), d.bbox[3] * (image.height / graph.inputSize)] as BBox,
        }));
      };
      const dog = found(await humanDetections(DOG), truth[DOG]!.box);
      expect(dog?.label).not.toBe("dog");
      const sail = found(await humanDetections(SAILBOAT), truth[SAILBOAT]!.box);
      expect(sail?.label === "boat" && boxIou(sail.bbox, truth[SAILBOAT]!.box) > 0.8 && sail.score > 0.5).toBe(false);
    } finally {
      graph.dispose();
    }
  });
});

describe("nanodet runtimes", () => {
  it("ONNX Runtime (the default) and TensorFlow.js find the same objects", async () => {
    const wasm = await createNanodetDetector("runtime=tfjs", {}, context("nanodet:runtime=tfjs"));
    try {
      expect(wasm.fingerprint).not.toBe(detector.fingerprint);
      for (const path of [...Object.keys(truth), GONDOLA]) {
        const [a, b] = [await detector.detect(images.get(path)!), await wasm.detect(images.get(path)!)];
        expect(a.length, path).toBeGreaterThan(0);
        expect(a.map((d) => d.label)).toEqual(b.map((d) => d.label));
        a.forEach((d, k) => {
          expect(Math.abs(d.score - b[k]!.score)).toBeLessThan(1e-4);
          d.bbox.forEach((v, i) => expect(Math.abs(v - b[k]!.bbox[i]!)).toBeLessThan(0.05));
        });
      }
    } finally {
      await wasm.close?.();
    }
  });

  it("keeps the ONNX conversion for the next process and makes a damaged one again", async () => {
    const home = await mkdtemp(join(tmpdir(), "nanodet-home-"));
    const saved = process.env.GEAR_SEG_HOME;
    process.env.GEAR_SEG_HOME = home;
    const image = images.get(photo("cars.jpg"))!;
    const detectOnce = async () => {
      const d = await createNanodetDetector("", {}, context("nanodet"));
      try {
        return await d.detect(image);
      } finally {
        await d.close?.();
      }
    };
    try {
      const first = await detectOnce();
      const models = join(home, "models", NANODET_MODEL_ID);
      const kept = (await readdir(models)).filter((f) => /\.ort-[\d.]+$/.test(f));
      expect(kept).toHaveLength(1);
      const dir = join(models, kept[0]!);
      // The graph and its weights apart (ONNX Runtime maps the weights), the record of both; nothing else.
      expect((await readdir(dir)).sort()).toEqual(["graph.onnx", "graph.weights", "record.json"]);
      const weights = join(dir, "graph.weights");
      const record = JSON.parse(await readFile(join(dir, "record.json"), "utf8")) as Record<string, { bytes: number; sha256: string }>;
      const sha = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");
      for (const file of ["graph.onnx", "graph.weights"]) {
        expect(record[file]!.sha256).toBe(await sha(join(dir, file)));
        expect((await stat(join(dir, file))).size).toBe(record[file]!.bytes);
      }
      expect(record["graph.weights"]!.bytes).toBeGreaterThan(10e6);
      // The next load reads it (ONNX Runtime's optimised graph, not optimised again): the same detections, the
      // files untouched.
      const written = (await stat(weights)).mtimeMs;
      expect(await detectOnce()).toEqual(first);
      expect((await stat(weights)).mtimeMs).toBe(written);
      // The same size, a few bytes changed in the weights: found by the sha256, converted again.
      const bytes = await readFile(weights);
      bytes.fill(0x7f, bytes.length >> 1, (bytes.length >> 1) + 64);
      await writeFile(weights, bytes);
      expect(await detectOnce()).toEqual(first);
      expect(await sha(weights)).toBe(record["graph.weights"]!.sha256);
      // A record that is not JSON: the same; the single-file form an earlier version kept is removed then.
      await writeFile(join(dir, "record.json"), "{");
      await writeFile(`${dir}.onnx`, "old");
      await writeFile(`${dir}.onnx.json`, "{}");
      expect(await detectOnce()).toEqual(first);
      expect(JSON.parse(await readFile(join(dir, "record.json"), "utf8"))).toEqual(record);
      expect((await readdir(models)).filter((f) => f.startsWith(kept[0]!))).toEqual([kept[0]]);
      // A graph file missing: the same; and no temporary folder is left beside the kept one.
      await rm(join(dir, "graph.onnx"));
      expect(await detectOnce()).toEqual(first);
      expect(await sha(join(dir, "graph.onnx"))).toBe(record["graph.onnx"]!.sha256);
      expect((await readdir(models)).filter((f) => f.startsWith("."))).toEqual([]);
      // And the detections are the default detector's (which converted in the shared test home).
      expect(first).toEqual(await detector.detect({ ...image }));
    } finally {
      if (saved === undefined) delete process.env.GEAR_SEG_HOME;
      else process.env.GEAR_SEG_HOME = saved;
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("nanodet options", () => {
  it("takes thresholds from the spec argument over the options object, and rejects bad values in one line", async () => {
    const strict = await createNanodetDetector("scoreThreshold=0.6", { scoreThreshold: 0.1, maxDetections: 2 }, context("nanodet:scoreThreshold=0.6"));
    try {
      const dets = await strict.detect(images.get(photo("cars.jpg"))!);
      expect(dets.length).toBeGreaterThan(0);
      expect(dets.length).toBeLessThanOrEqual(2);
      for (const d of dets) expect(d.score).toBeGreaterThan(0.6);
      expect(strict.fingerprint).toContain("score>0.6");
    } finally {
      await strict.close?.();
    }
    for (const [arg, message] of [
      ["scoreThreshold=1.5", /^detector nanodet:scoreThreshold=1\.5: option "scoreThreshold" must be a number in \[0, 0\.99\], got 1\.5$/],
      ["nmsIou=0", /option "nmsIou" must be a number in \[0\.01, 1\], got 0$/],
      ["maxDetections=2.5", /option "maxDetections" must be an integer in \[1, 1000\], got 2\.5$/],
      ["minScore=0.2", /unknown option "minScore" \(known: scoreThreshold, nmsIou, maxDetections, runtime, threads\)$/],
      ["runtime=gpu", /option "runtime" must be one of "onnx", "tfjs"/],
      ["0.2", /"0\.2" is not key=value$/],
    ] as const) {
      const err = await createNanodetDetector(arg, {}, context(`nanodet:${arg}`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("refuses an image whose pixel buffer does not match its size", async () => {
    await expect(detector.detect({ width: 10, height: 10, data: new Uint8Array(5), source: "bad.png" })).rejects.toThrow(/bad.png: expected 300 RGB bytes, got 5/);
  });
});

// Built through the registry like every backend; a photo with cars, so that there are detections to check.
conformance("nanodet", {
  kind: "detector",
  spec: "nanodet",
  variant: { scoreThreshold: 0.5 },
  input: async () => ({ image: await loadImage(photo("cars.jpg")), regions: [] }),
});
