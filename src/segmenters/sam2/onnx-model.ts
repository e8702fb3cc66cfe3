/**
 * SAM 2 on ONNX Runtime: loads an encoder and a decoder export, recognises its layout by input/output names,
 * checks dtypes and shapes, and implements the generator's PromptModel (embedding once per image, sessions
 * reused for every image).
 *
 * Layouts:
 * - "samexporter" (vietanhdev/samexporter, X-AnyLabeling): encoder `image` → `high_res_feats_0`,
 *   `high_res_feats_1`, `image_embed`; decoder (`image_embed`, `high_res_feats_0/1`, `point_coords`,
 *   `point_labels`, `mask_input`, `has_mask_input`[, `orig_im_size`]) → `masks`, `iou_predictions`. The
 *   decoder appends SAM 2's padding point itself, so each prompt is one point.
 * - "onnx-community" (transformers.js `sam2.1-hiera-*-ONNX`): `vision_encoder` `pixel_values` →
 *   `image_embeddings.0/1/2`; `prompt_encoder_mask_decoder` (`input_points`, `input_labels` int64,
 *   [`input_boxes`], `image_embeddings.*`) → `iou_scores`, `pred_masks`[, `object_score_logits`].
 */
import * as ort from "onnxruntime-node";
import type { RgbImage } from "../../image/types.js";
import { GearSegError } from "../../util/errors.js";
import type { PromptModel } from "./generator.js";
import type { DecodedBatch } from "./postprocess.js";
import { preprocessImage } from "./preprocess.js";

export type Sam2Layout = "samexporter" | "onnx-community";

/** An image's encoder outputs, with the size of the image they were computed on. */
export interface Sam2Embedding {
  features: Record<string, ort.Tensor>;
  height: number;
  width: number;
}

export interface SessionOptions {
  /**
   * "cpu" (default) or "cuda". CUDA needs onnxruntime-node's CUDA binaries, which its install script fetches
   * only when asked: `npm install onnxruntime-node@1.30.0 --onnxruntime-node-install=cuda12` on a machine with
   * CUDA 12 and cuDNN 9 (this project installs it with the script disabled, i.e. CPU only); without them session creation
   * fails with ONNX Runtime's message.
   */
  provider?: "cpu" | "cuda";
  /** Intra-op threads (default: ONNX Runtime's choice, the number of cores). */
  threads?: number;
}

type Dim = number | string;
interface Expect {
  name: string;
  type: ort.Tensor.Type | readonly ort.Tensor.Type[];
  /** Numbers are checked; strings are symbolic (any size). */
  shape: readonly Dim[];
  optional?: boolean;
}

const FEATS_A: Expect[] = [
  { name: "high_res_feats_0", type: "float32", shape: [1, 32, 256, 256] },
  { name: "high_res_feats_1", type: "float32", shape: [1, 64, 128, 128] },
  { name: "image_embed", type: "float32", shape: [1, 256, 64, 64] },
];

const LAYOUTS = {
  samexporter: {
    encoderIn: [{ name: "image", type: "float32", shape: [1, 3, 1024, 1024] }] as Expect[],
    encoderOut: FEATS_A,
    decoderIn: [
      ...FEATS_A.map((e) => ({ ...e, shape: ["B", ...e.shape.slice(1)] })),
      { name: "point_coords", type: "float32", shape: ["L", "N", 2] },
      { name: "point_labels", type: "float32", shape: ["L", "N"] },
      { name: "mask_input", type: "float32", shape: ["L", 1, 256, 256] },
      { name: "has_mask_input", type: "float32", shape: ["L"] },
      { name: "orig_im_size", type: ["int32", "int64", "float32"], shape: [2], optional: true },
    ] as Expect[],
    decoderOut: [
      { name: "masks", type: "float32", shape: ["L", "K", "H", "W"] },
      { name: "iou_predictions", type: "float32", shape: ["L", "K"] },
    ] as Expect[],
  },
  "onnx-community": {
    encoderIn: [{ name: "pixel_values", type: "float32", shape: ["B", 3, 1024, 1024] }] as Expect[],
    encoderOut: [
      { name: "image_embeddings.0", type: "float32", shape: ["B", 32, 256, 256] },
      { name: "image_embeddings.1", type: "float32", shape: ["B", 64, 128, 128] },
      { name: "image_embeddings.2", type: "float32", shape: ["B", 256, 64, 64] },
    ] as Expect[],
    decoderIn: [
      { name: "input_points", type: "float32", shape: ["B", "P", "N", 2] },
      { name: "input_labels", type: "int64", shape: ["B", "P", "N"] },
      { name: "input_boxes", type: "float32", shape: ["B", "b", 4], optional: true },
      { name: "image_embeddings.0", type: "float32", shape: ["B", 32, 256, 256] },
      { name: "image_embeddings.1", type: "float32", shape: ["B", 64, 128, 128] },
      { name: "image_embeddings.2", type: "float32", shape: ["B", 256, 64, 64] },
    ] as Expect[],
    decoderOut: [
      { name: "iou_scores", type: "float32", shape: ["B", "P", "K"] },
      { name: "pred_masks", type: "float32", shape: ["B", "P", "K", "H", "W"] },
      { name: "object_score_logits", type: "float32", shape: ["B", "P", 1], optional: true },
    ] as Expect[],
  },
} as const;

const fmtShape = (s: readonly Dim[]) => `[${s.join(",")}]`;
const names = (list: readonly ort.InferenceSession.ValueMetadata[]) => list.map((m) => m.name);

function checkValues(what: string, file: string, side: "input" | "output", found: readonly ort.InferenceSession.ValueMetadata[], expected: readonly Expect[]): void {
  const byName = new Map(found.map((m) => [m.name, m]));
  for (const e of expected) {
    const m = byName.get(e.name);
    if (!m) {
      if (e.optional) continue;
      throw new GearSegError(`SAM 2 ${what} "${file}": no ${side} "${e.name}" (${side}s found: ${names(found).join(", ") || "none"})`);
    }
    if (!m.isTensor) throw new GearSegError(`SAM 2 ${what} "${file}": ${side} "${e.name}" is not a tensor`);
    const types = typeof e.type === "string" ? [e.type] : e.type;
    if (!types.includes(m.type)) {
      throw new GearSegError(`SAM 2 ${what} "${file}": ${side} "${e.name}" is ${m.type}, expected ${types.join(" or ")}`);
    }
    if (m.shape.length > 0) {
      const ok = m.shape.length === e.shape.length && e.shape.every((d, i) => typeof d !== "number" || typeof m.shape[i] !== "number" || m.shape[i] === d);
      if (!ok) throw new GearSegError(`SAM 2 ${what} "${file}": ${side} "${e.name}" has shape ${fmtShape(m.shape)}, expected ${fmtShape(e.shape)}`);
    }
  }
}

async function openSession(path: string, what: string, options: SessionOptions): Promise<ort.InferenceSession> {
  const providers = options.provider === "cuda" ? ["cuda", "cpu"] : ["cpu"];
  try {
    return await ort.InferenceSession.create(path, {
      executionProviders: providers,
      graphOptimizationLevel: "all",
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    });
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new GearSegError(`cannot load SAM 2 ${what} "${path}": ${msg}`, { cause: err });
  }
}

function detectLayout(encoder: ort.InferenceSession, encoderPath: string): Sam2Layout {
  const inputs = encoder.inputNames;
  if (inputs.includes("image")) return "samexporter";
  if (inputs.includes("pixel_values")) return "onnx-community";
  throw new GearSegError(
    `SAM 2 encoder "${encoderPath}": inputs [${inputs.join(", ")}] and outputs [${encoder.outputNames.join(", ")}] match no known export (expected input "image" (samexporter) or "pixel_values" (onnx-community))`,
  );
}

export class OnnxSam2Model implements PromptModel {
  readonly fullSizeMasks: boolean;
  private features: Sam2Embedding | null = null;
  private pixelBuffer: Float32Array | undefined;
  private maskInput: { n: number; mask: ort.Tensor; has: ort.Tensor } | null = null;

  private constructor(
    readonly layout: Sam2Layout,
    readonly encoderPath: string,
    readonly decoderPath: string,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
  ) {
    this.fullSizeMasks = layout === "samexporter" && decoder.inputNames.includes("orig_im_size");
  }

  static async load(encoderPath: string, decoderPath: string, options: SessionOptions = {}): Promise<OnnxSam2Model> {
    const encoder = await openSession(encoderPath, "encoder", options);
    let decoder: ort.InferenceSession;
    try {
      decoder = await openSession(decoderPath, "decoder", options);
    } catch (err) {
      await encoder.release();
      throw err;
    }
    try {
      const layout = detectLayout(encoder, encoderPath);
      const spec = LAYOUTS[layout];
      checkValues("encoder", encoderPath, "input", encoder.inputMetadata, spec.encoderIn);
      checkValues("encoder", encoderPath, "output", encoder.outputMetadata, spec.encoderOut);
      checkValues("decoder", decoderPath, "input", decoder.inputMetadata, spec.decoderIn);
      checkValues("decoder", decoderPath, "output", decoder.outputMetadata, spec.decoderOut);
      const known = new Set(spec.decoderIn.map((e) => e.name));
      const extra = decoder.inputNames.filter((n) => !known.has(n));
      if (extra.length) {
        throw new GearSegError(`SAM 2 decoder "${decoderPath}": unexpected inputs ${extra.join(", ")} for the ${layout} layout (inputs found: ${decoder.inputNames.join(", ")})`);
      }
      return new OnnxSam2Model(layout, encoderPath, decoderPath, encoder, decoder);
    } catch (err) {
      await encoder.release();
      await decoder.release();
      throw err;
    }
  }

  async setImage(image: RgbImage): Promise<void> {
    this.pixelBuffer = preprocessImage(image.data, image.height, image.width, 1024, this.pixelBuffer);
    this.features = await this.encode(this.pixelBuffer, image);
  }

  /**
   * The encoder's outputs for an image, kept by the caller (prompts reuse them, ./prompt.ts). Safe while
   * `setImage` runs: it preprocesses into its own buffer.
   */
  embed(image: RgbImage): Promise<Sam2Embedding> {
    return this.encode(preprocessImage(image.data, image.height, image.width, 1024), image);
  }

  private async encode(pixels: Float32Array, image: RgbImage): Promise<Sam2Embedding> {
    const input = new ort.Tensor("float32", pixels, [1, 3, 1024, 1024]);
    const inName = this.layout === "samexporter" ? "image" : "pixel_values";
    const out = await this.encoder.run({ [inName]: input });
    const spec = LAYOUTS[this.layout];
    for (const e of spec.encoderOut) {
      const t = out[e.name];
      if (!t) throw new GearSegError(`SAM 2 encoder "${this.encoderPath}" returned no "${e.name}" (got ${Object.keys(out).join(", ")})`);
      const ok = t.dims.length === e.shape.length && e.shape.every((d, i) => typeof d !== "number" || t.dims[i] === d);
      if (!ok) throw new GearSegError(`SAM 2 encoder "${this.encoderPath}": output "${e.name}" has shape ${fmtShape(t.dims)}, expected ${fmtShape(e.shape)}`);
    }
    return { features: out, height: image.height, width: image.width };
  }

  /**
   * Decodes one prompt of `count` points (1024 frame, interleaved x, y) with SAM 2's labels (1 foreground,
   * 0 background, 2 and 3 the corners of a box) on a kept embedding: the K multimask outputs.
   */
  async decodePrompt(embedding: Sam2Embedding, points1024: Float32Array, labels: readonly number[]): Promise<DecodedBatch> {
    const count = labels.length;
    const feats = embedding.features;
    const feeds: Record<string, ort.Tensor> = {};
    if (this.layout === "samexporter") {
      for (const e of FEATS_A) feeds[e.name] = feats[e.name]!;
      feeds.point_coords = new ort.Tensor("float32", points1024.slice(0, count * 2), [1, count, 2]);
      feeds.point_labels = new ort.Tensor("float32", Float32Array.from(labels), [1, count]);
      feeds.mask_input = new ort.Tensor("float32", new Float32Array(256 * 256), [1, 1, 256, 256]);
      feeds.has_mask_input = new ort.Tensor("float32", new Float32Array(1), [1]);
      if (this.fullSizeMasks) feeds.orig_im_size = this.origImSize(embedding.height, embedding.width);
    } else {
      for (let i = 0; i < 3; i++) feeds[`image_embeddings.${i}`] = feats[`image_embeddings.${i}`]!;
      feeds.input_points = new ort.Tensor("float32", points1024.slice(0, count * 2), [1, 1, count, 2]);
      feeds.input_labels = new ort.Tensor("int64", BigInt64Array.from(labels.map((l) => BigInt(l))), [1, 1, count]);
      if (this.decoder.inputNames.includes("input_boxes")) feeds.input_boxes = new ort.Tensor("float32", new Float32Array(0), [1, 0, 4]);
    }
    return this.runDecoder(feeds, 1, embedding.height, embedding.width);
  }

  async decodePoints(points1024: Float32Array, count: number, cropH: number, cropW: number): Promise<DecodedBatch> {
    const feats = this.features?.features;
    if (!feats) throw new GearSegError("SAM 2: decodePoints called before setImage");
    const feeds: Record<string, ort.Tensor> = {};
    if (this.layout === "samexporter") {
      for (const e of FEATS_A) feeds[e.name] = feats[e.name]!;
      feeds.point_coords = new ort.Tensor("float32", points1024.slice(0, count * 2), [count, 1, 2]);
      feeds.point_labels = new ort.Tensor("float32", new Float32Array(count).fill(1), [count, 1]);
      if (!this.maskInput || this.maskInput.n !== count) {
        this.maskInput = {
          n: count,
          mask: new ort.Tensor("float32", new Float32Array(count * 256 * 256), [count, 1, 256, 256]),
          has: new ort.Tensor("float32", new Float32Array(count), [count]),
        };
      }
      feeds.mask_input = this.maskInput.mask;
      feeds.has_mask_input = this.maskInput.has;
      if (this.fullSizeMasks) feeds.orig_im_size = this.origImSize(cropH, cropW);
    } else {
      for (let i = 0; i < 3; i++) feeds[`image_embeddings.${i}`] = feats[`image_embeddings.${i}`]!;
      feeds.input_points = new ort.Tensor("float32", points1024.slice(0, count * 2), [1, count, 1, 2]);
      feeds.input_labels = new ort.Tensor("int64", new BigInt64Array(count).fill(1n), [1, count, 1]);
      if (this.decoder.inputNames.includes("input_boxes")) feeds.input_boxes = new ort.Tensor("float32", new Float32Array(0), [1, 0, 4]);
    }
    return this.runDecoder(feeds, count, cropH, cropW);
  }

  private origImSize(h: number, w: number): ort.Tensor {
    const meta = this.decoder.inputMetadata.find((m) => m.name === "orig_im_size");
    const type = meta && meta.isTensor ? meta.type : "int32";
    return type === "float32"
      ? new ort.Tensor("float32", Float32Array.from([h, w]), [2])
      : type === "int64"
        ? new ort.Tensor("int64", BigInt64Array.from([BigInt(h), BigInt(w)]), [2])
        : new ort.Tensor("int32", Int32Array.from([h, w]), [2]);
  }

  private async runDecoder(feeds: Record<string, ort.Tensor>, count: number, cropH: number, cropW: number): Promise<DecodedBatch> {
    const [masksName, iouName] = this.layout === "samexporter" ? ["masks", "iou_predictions"] : ["pred_masks", "iou_scores"];
    const out = await this.decoder.run(feeds);
    const masks = out[masksName];
    const iou = out[iouName];
    if (!masks || !iou) throw new GearSegError(`SAM 2 decoder "${this.decoderPath}" returned ${Object.keys(out).join(", ")}, expected ${masksName} and ${iouName}`);
    const md = masks.dims;
    const k = md[md.length - 3]!;
    const lowH = md[md.length - 2]!;
    const lowW = md[md.length - 1]!;
    const want = count * k * lowH * lowW;
    if (masks.type !== "float32" || iou.type !== "float32" || masks.data.length !== want || iou.data.length !== count * k) {
      throw new GearSegError(
        `SAM 2 decoder "${this.decoderPath}": ${masksName} ${fmtShape(md)} / ${iouName} ${fmtShape(iou.dims)} do not fit ${count} prompts × ${k} masks`,
      );
    }
    if (this.fullSizeMasks && (lowH !== cropH || lowW !== cropW)) {
      throw new GearSegError(`SAM 2 decoder "${this.decoderPath}": masks are ${lowW}×${lowH}, orig_im_size asked ${cropW}×${cropH}`);
    }
    return { lowRes: masks.data as Float32Array, lowH, lowW, iou: iou.data as Float32Array, masksPerPrompt: k };
  }

  async close(): Promise<void> {
    this.features = null;
    await this.encoder.release();
    await this.decoder.release();
  }
}
