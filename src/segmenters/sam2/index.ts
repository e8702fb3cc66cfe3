/**
 * `sam2:<dir>`, `sam2:<encoder.onnx>,<decoder.onnx>` or `sam2:<model id>` (pulled with `gear-seg models
 * pull`): SAM 2's automatic mask generator on ONNX Runtime. Sessions are created once and reused for every
 * image; the embedding is computed once per image (per crop).
 *
 * Options (config file or library caller): `provider` ("cpu" | "cuda"), `threads`, `variant` (file suffix
 * such as "fp16", "quantized", "q4"), `preset` ("sam2-default" | "gear-seg"), `amg` (parameter overrides,
 * reference snake_case or camelCase names), `workers` (threads for post-processing including the main one;
 * default: the number of cores).
 */
import { readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { RgbImage } from "../../image/types.js";
import { findModel } from "../../models/registry.js";
import { pulledModelFiles, readManifest, sha256File, verifyManifest } from "../../models/store.js";
import type { BackendFactory, PromptableSegmenter, Region, RegionPrompt, StageContext } from "../../pipeline/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { emptyTimings, generateMasks, type GeneratorTimings } from "./generator.js";
import { OnnxSam2Model, type SessionOptions } from "./onnx-model.js";
import { resolveAmgParams, type AmgParams } from "./params.js";
import { ParallelBatchPostprocessor } from "./pool.js";
import type { Sam2Options } from "./options.js";
import { Sam2Prompter } from "./prompt.js";

const VARIANT_SUFFIX = /_(fp16|fp32|quantized|q4|q4f16|int8|uint8|bnb4|q8)$/i;

export interface Sam2Files {
  encoder: string;
  decoder: string;
  /** sha256 per file when known (pulled models), used for the fingerprint. */
  hashes?: Record<string, string>;
}

async function onnxFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of [dir, join(dir, "onnx")]) {
    const names = await readdir(d).catch(() => [] as string[]);
    for (const n of names) if (n.toLowerCase().endsWith(".onnx")) out.push(join(d, n));
  }
  return out;
}

function pick(files: string[], role: "encoder" | "decoder", variant: string | undefined, dir: string): string {
  const isRole = (p: string) => {
    const n = basename(p).toLowerCase();
    return role === "decoder" ? n.includes("decoder") : n.includes("encoder") && !n.includes("decoder");
  };
  const stem = (p: string) => basename(p).replace(/\.onnx$/i, "");
  const ofRole = files.filter(isRole);
  const chosen = variant
    ? ofRole.filter((p) => stem(p).toLowerCase().endsWith(`_${variant.toLowerCase()}`))
    : ofRole.filter((p) => !VARIANT_SUFFIX.test(stem(p)));
  if (chosen.length === 1) return chosen[0]!;
  const found = files.map((p) => basename(p)).join(", ") || "no .onnx files";
  if (chosen.length === 0) {
    throw new GearSegError(
      `segmenter sam2: no ${role}${variant ? ` with variant "${variant}"` : ""} .onnx file in "${dir}" (found: ${found}${!variant && ofRole.length ? "; choose one with the variant option" : ""})`,
    );
  }
  throw new GearSegError(`segmenter sam2: several ${role} files in "${dir}" (${chosen.map((p) => basename(p)).join(", ")}); pass sam2:<encoder.onnx>,<decoder.onnx>`);
}

/** Resolves the spec argument to the two model files; relative paths by `resolvePath` (default: the working folder). */
export async function resolveSam2Files(arg: string, variant?: string, resolvePath: (p: string) => string = resolve): Promise<Sam2Files> {
  const text = arg.trim();
  if (!text) throw new UsageError("segmenter sam2: give the model folder, the two files or a model id, as sam2:<dir>, sam2:<encoder.onnx>,<decoder.onnx> or sam2:sam2.1-hiera-tiny");
  if (text.includes(",")) {
    const parts = text.split(",").map((s) => s.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new UsageError(`segmenter sam2: "${text}" should be <encoder.onnx>,<decoder.onnx>`);
    const [encoder, decoder] = parts.map((p) => resolvePath(p)) as [string, string];
    for (const [role, p] of [["encoder", encoder], ["decoder", decoder]] as const) {
      const info = await stat(p).catch(() => null);
      if (!info?.isFile()) throw new GearSegError(`segmenter sam2: ${role} file "${p}" not found`);
    }
    return { encoder, decoder };
  }
  const path = resolvePath(text);
  const info = await stat(path).catch(() => null);
  if (!info) {
    if (findModel(text)) return pulledModelFiles(text);
    throw new GearSegError(`segmenter sam2: "${text}" is neither a folder, two files nor a known model id`);
  }
  if (!info.isDirectory()) throw new UsageError(`segmenter sam2: "${text}" is a file; give the folder or both files as sam2:<encoder.onnx>,<decoder.onnx>`);
  const manifest = await readManifest(path);
  if (manifest && !manifest.complete) {
    throw new GearSegError(`segmenter sam2: the download into "${path}" is incomplete; run gear-seg models pull ${manifest.id} again`);
  }
  if (manifest && !variant) {
    const hashes = await verifyManifest(path, manifest);
    return { encoder: join(path, manifest.encoder), decoder: join(path, manifest.decoder), hashes };
  }
  const files = await onnxFiles(path);
  return { encoder: pick(files, "encoder", variant, path), decoder: pick(files, "decoder", variant, path) };
}

async function fingerprintOf(files: Sam2Files, params: AmgParams): Promise<string> {
  const hashes = files.hashes ? Object.values(files.hashes) : [];
  if (!files.hashes) {
    for (const p of [files.encoder, `${files.encoder}_data`, files.decoder, `${files.decoder}_data`]) {
      if (await stat(p).catch(() => null)) hashes.push(await sha256File(p));
    }
  }
  // ":fast" names the post-processing of every version so far; kept so that cached regions stay valid.
  return `sam2:${hashes.join(",")}:${JSON.stringify(params)}:fast`;
}

export class Sam2Segmenter implements PromptableSegmenter {
  /** Timings of the last `segment` call (ONNX time vs post-processing). */
  lastTimings: GeneratorTimings = emptyTimings();
  private readonly pool: ParallelBatchPostprocessor;
  /** Point/box prompts on kept image embeddings (interactive correction). */
  readonly prompter: Sam2Prompter;

  constructor(
    readonly spec: string,
    readonly fingerprint: string,
    readonly model: OnnxSam2Model,
    readonly params: AmgParams,
    workers?: number,
  ) {
    this.pool = new ParallelBatchPostprocessor(workers);
    this.prompter = new Sam2Prompter(model);
  }

  segmentPrompt(image: RgbImage, prompt: RegionPrompt, ctx?: StageContext): Promise<Region> {
    return this.prompter.segment(image, prompt, ctx);
  }

  async segment(image: RgbImage, ctx?: StageContext): Promise<Region[]> {
    const timings = emptyTimings();
    const regions = await generateMasks(this.model, image, this.params, { ...ctx, timings, postprocess: this.pool });
    this.lastTimings = timings;
    return regions;
  }

  async close(): Promise<void> {
    await this.pool.close();
    await this.model.close();
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export const createSam2Segmenter: BackendFactory<Sam2Segmenter, Sam2Options> = async (arg, options, { spec, resolvePath }) => {
  const params = resolveAmgParams(options.preset, options.amg);
  const files = await resolveSam2Files(arg, options.variant, resolvePath);
  const sessionOptions: SessionOptions = { provider: options.provider ?? "cpu", threads: options.threads };
  const model = await OnnxSam2Model.load(files.encoder, files.decoder, sessionOptions);
  const fingerprint = await fingerprintOf(files, params);
  return new Sam2Segmenter(spec, fingerprint, model, params, options.workers);
};
