// The sam2 segmenter end to end on ONNX Runtime with tiny generated models of both export layouts: a synthetic
// scene with known regions, a real photo (fast post-processing = the reference's order, region fields), and
// the errors for wrong or missing files, names and shapes.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend } from "../src/stack/registry.js";
import sharp from "sharp";
import { decodeImage } from "../src/image/decode.js";
import { area, encode, iou, toBbox } from "../src/masks/rle.js";
import type { RgbImage } from "../src/image/types.js";
import type { Region } from "../src/pipeline/types.js";
import type { Sam2Segmenter } from "../src/segmenters/sam2/index.js";
import { generateMasks } from "../src/segmenters/sam2/generator.js";
import { ReferenceBatchPostprocessor } from "./oracles/sam2-reference.js";
import { conformance, squaresScene } from "./helpers/conformance.js";
import { buildDecoder, buildEncoder, writeTinySam2, type TinyLayout } from "./helpers/onnx-models.js";

const photos = resolve(import.meta.dirname, "../../shared/data/photos");
let root: string;
const dirs: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "gear-seg-sam2-"));
  for (const layout of ["samexporter", "onnx-community"] as TinyLayout[]) {
    dirs[layout] = join(root, layout);
    await writeTinySam2(dirs[layout]!, { layout });
  }
  dirs.orig = join(root, "orig");
  await writeTinySam2(dirs.orig, { layout: "samexporter", origImSize: true });
});

afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(root, { recursive: true, force: true });
});

/** 320×240 grey scene with a red rectangle, a blue disc and a green rectangle. */
function scene(): { image: RgbImage; truth: { name: string; mask: Uint8Array }[] } {
  const W = 320;
  const H = 240;
  const data = new Uint8Array(W * H * 3).fill(128);
  const truth = [
    { name: "red", colour: [230, 30, 30], inside: (x: number, y: number) => x >= 40 && x < 140 && y >= 30 && y < 110 },
    { name: "blue", colour: [30, 40, 220], inside: (x: number, y: number) => (x - 235) ** 2 + (y - 150) ** 2 <= 50 ** 2 },
    { name: "green", colour: [30, 200, 60], inside: (x: number, y: number) => x >= 50 && x < 170 && y >= 160 && y < 220 },
  ].map(({ name, colour, inside }) => {
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if (inside(x, y)) {
          mask[y * W + x] = 1;
          data.set(colour, (y * W + x) * 3);
        }
    return { name, mask };
  });
  return { image: { width: W, height: H, data, source: "scene" }, truth };
}

function checkRegionFields(regions: Region[], image: RgbImage): void {
  for (const r of regions) {
    expect(r.rle.height).toBe(image.height);
    expect(r.rle.width).toBe(image.width);
    expect(area(r.rle)).toBe(r.area);
    expect(toBbox(r.rle)).toEqual(r.bbox);
    expect(r.predictedIou!).toBeGreaterThan(0.8);
    expect(r.stabilityScore!).toBeGreaterThanOrEqual(Math.fround(0.95));
    expect(r.pointCoords).toHaveLength(1);
    expect(r.cropBox).toEqual([0, 0, image.width, image.height]);
  }
}

describe.each(["samexporter", "onnx-community"] as const)("%s layout", (layout) => {
  test("recovers every region of a synthetic scene (IoU ≥ 0.9)", async () => {
    const { image, truth } = scene();
    const seg = await createBackend("segmenter", `sam2:${dirs[layout]}`, { amg: { points_per_side: 12 } });
    try {
      const regions = await seg.segment(image);
      expect(regions.length).toBeGreaterThanOrEqual(3);
      checkRegionFields(regions, image);
      for (const t of truth) {
        const gt = encode({ height: image.height, width: image.width, data: t.mask });
        const best = Math.max(...iou(regions.map((r) => r.rle), [gt], [false]).map((row) => row[0]!));
        expect(best, t.name).toBeGreaterThanOrEqual(0.9);
      }
      // Embedding once per image: the same segmenter runs a second image with the same sessions.
      const again = await seg.segment(image);
      expect(again.map((r) => r.area)).toEqual(regions.map((r) => r.area));
    } finally {
      await seg.close?.();
    }
  });
});

describe("a real photo", () => {
  test("fast post-processing gives exactly the reference-order result (gear-seg preset, holes on)", async () => {
    // The photo at half size (1125×750): the reference post-processing upscales every mask at full resolution
    // one by one, 10 s at the photo's 3.4 megapixels; the fast path's code paths are the same at any size.
    const image = await decodeImage(await sharp(join(photos, "cars.jpg")).resize(1125).png().toBuffer(), "cars.jpg at half size");
    const options = { preset: "gear-seg", amg: { points_per_side: 8 } };
    const fast = (await createBackend("segmenter", `sam2:${dirs.samexporter}`, options)) as Sam2Segmenter;
    try {
      const a = await fast.segment(image);
      const b = await generateMasks(fast.model, image, fast.params, { postprocess: new ReferenceBatchPostprocessor() });
      expect(a.length).toBeGreaterThan(0);
      checkRegionFields(a, image);
      const view = (rs: Region[]) => rs.map((r) => ({ ...r, rle: Array.from(r.rle.counts) }));
      expect(view(a)).toEqual(view(b));
    } finally {
      await fast.close?.();
    }
  });

  test("crop layers: crop boxes recorded, masks near inner crop edges dropped, cross-crop NMS", async () => {
    const { image } = scene();
    const seg = await createBackend("segmenter", `sam2:${dirs["onnx-community"]}`, { amg: { points_per_side: 8, crop_n_layers: 1 } });
    try {
      const regions = await seg.segment(image);
      const crops = new Set(regions.map((r) => r.cropBox!.join(",")));
      expect(crops.size).toBeGreaterThan(1);
      for (const r of regions) {
        const [cx, cy, cw, ch] = r.cropBox!;
        const [x, y, w, h] = r.bbox;
        expect(x >= cx && y >= cy && x + w <= cx + cw && y + h <= cy + ch).toBe(true);
      }
    } finally {
      await seg.close?.();
    }
  });

  test("an export with orig_im_size (full-size masks) works, and refuses hole filling", async () => {
    const { image, truth } = scene();
    const seg = await createBackend("segmenter", `sam2:${dirs.orig}`, { amg: { points_per_side: 12 } });
    try {
      const regions = await seg.segment(image);
      const gt = encode({ height: image.height, width: image.width, data: truth[0]!.mask });
      expect(Math.max(...iou(regions.map((r) => r.rle), [gt], [false]).map((row) => row[0]!))).toBeGreaterThanOrEqual(0.9);
    } finally {
      await seg.close?.();
    }
    const holes = await createBackend("segmenter", `sam2:${dirs.orig}`, { preset: "gear-seg" });
    try {
      await expect(holes.segment(image)).rejects.toThrow(/min_mask_region_area > 0 needs the decoder's low-resolution masks/);
    } finally {
      await holes.close?.();
    }
  });
});

describe("errors name the file and the reason", () => {
  test("missing folder, missing files, no spec argument", async () => {
    await expect(createBackend("segmenter", "sam2")).rejects.toThrow(/give the model folder/);
    await expect(createBackend("segmenter", `sam2:${join(root, "nope")}`)).rejects.toThrow(/is neither a folder, two files nor a known model id/);
    const empty = join(root, "empty");
    await mkdir(empty, { recursive: true });
    await expect(createBackend("segmenter", `sam2:${empty}`)).rejects.toThrow(/no encoder \.onnx file in .*found: no \.onnx files/);
    await expect(createBackend("segmenter", `sam2:${join(root, "a.onnx")},${join(root, "b.onnx")}`)).rejects.toThrow(/encoder file ".*a\.onnx" not found/);
  });

  test("a file that is not ONNX", async () => {
    const dir = join(root, "garbage");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "x.encoder.onnx"), "not a model");
    await writeFile(join(dir, "x.decoder.onnx"), buildDecoder({ layout: "samexporter" }));
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/cannot load SAM 2 encoder ".*x\.encoder\.onnx"/);
  });

  test("unknown input names list what was found", async () => {
    const dir = join(root, "names");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "x.encoder.onnx"), buildEncoder({ layout: "samexporter", encoderInputName: "images" }));
    await writeFile(join(dir, "x.decoder.onnx"), buildDecoder({ layout: "samexporter" }));
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/inputs \[images\] and outputs \[high_res_feats_0, high_res_feats_1, image_embed\] match no known export/);
  });

  test("a missing decoder output lists the outputs found", async () => {
    const dir = join(root, "outnames");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "x.encoder.onnx"), buildEncoder({ layout: "samexporter" }));
    await writeFile(join(dir, "x.decoder.onnx"), buildDecoder({ layout: "samexporter", decoderOutputName: "low_res_masks" }));
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/no output "masks" \(outputs found: low_res_masks, iou_predictions\)/);
  });

  test("wrong shapes", async () => {
    const dir = join(root, "shapes");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "x.encoder.onnx"), buildEncoder({ layout: "samexporter", imageEmbedChannels: 128 }));
    await writeFile(join(dir, "x.decoder.onnx"), buildDecoder({ layout: "samexporter" }));
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/output "image_embed" has shape \[1,128,64,64\], expected \[1,256,64,64\]/);
  });

  test("variants: several candidates need a choice", async () => {
    const dir = join(root, "variants");
    await writeTinySam2(dir, { layout: "onnx-community" });
    await writeFile(join(dir, "onnx", "vision_encoder_fp16.onnx"), buildEncoder({ layout: "onnx-community" }));
    await expect(createBackend("segmenter", `sam2:${dir}`, { variant: "fp16" })).rejects.toThrow(/no decoder with variant "fp16"/);
    const seg = await createBackend("segmenter", `sam2:${dir}`);
    await seg.close?.();
  });
});

conformance("sam2", {
  kind: "segmenter",
  spec: () => `sam2:${dirs.samexporter}`,
  options: { amg: { points_per_side: 4 }, workers: 1 },
  variant: { preset: "gear-seg" },
  input: squaresScene,
});
