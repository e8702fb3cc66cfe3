/**
 * Known SAM 2 / 2.1 ONNX exports that `gear-seg models pull` can fetch. Only public sources are listed, with
 * the file names their repositories publish; no checksums are invented: the sha256 of what was downloaded is
 * recorded at pull time (./store.ts) and verified on later loads.
 *
 * The onnx-community repositories are the transformers.js exports (layout "onnx-community": vision_encoder +
 * prompt_encoder_mask_decoder, fp32 weights in `.onnx_data` files beside the graphs).
 */

export interface ModelFile {
  /** Path inside the model's cache folder, and inside the source repository. */
  path: string;
  /** Approximate size in bytes, when the source lists it (for the table only). */
  approxBytes?: number;
}

export interface KnownModel {
  id: string;
  description: string;
  layout: "samexporter" | "onnx-community";
  /** Hugging Face repository the files come from. */
  repo: string;
  /** Revision (branch or commit) the URLs resolve. */
  revision: string;
  license: string;
  encoder: string;
  decoder: string;
  files: ModelFile[];
}

const MB = 1024 * 1024;

function onnxCommunity(size: "tiny" | "small" | "base-plus" | "large", approx?: { encGraph: number; enc: number; decGraph: number; dec: number }): KnownModel {
  return {
    id: `sam2.1-hiera-${size}`,
    description: `SAM 2.1 Hiera-${size === "base-plus" ? "B+" : size[0]!.toUpperCase() + size.slice(1)}, fp32 (transformers.js export)`,
    layout: "onnx-community",
    repo: `onnx-community/sam2.1-hiera-${size}-ONNX`,
    revision: "main",
    license: "Apache-2.0",
    encoder: "onnx/vision_encoder.onnx",
    decoder: "onnx/prompt_encoder_mask_decoder.onnx",
    files: [
      { path: "onnx/vision_encoder.onnx", approxBytes: approx ? approx.encGraph : undefined },
      { path: "onnx/vision_encoder.onnx_data", approxBytes: approx ? approx.enc : undefined },
      { path: "onnx/prompt_encoder_mask_decoder.onnx", approxBytes: approx ? approx.decGraph : undefined },
      { path: "onnx/prompt_encoder_mask_decoder.onnx_data", approxBytes: approx ? approx.dec : undefined },
    ],
  };
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  // Sizes from the repository's blob listing: encoder 0.3 + 127.9 MB, decoder 0.2 + 20 MB.
  onnxCommunity("tiny", { encGraph: Math.round(0.3 * MB), enc: Math.round(127.9 * MB), decGraph: Math.round(0.2 * MB), dec: 20 * MB }),
  onnxCommunity("small"),
  onnxCommunity("base-plus"),
  onnxCommunity("large"),
];

export const DEFAULT_MODEL_BASE_URL = "https://huggingface.co";

export function findModel(id: string): KnownModel | undefined {
  return KNOWN_MODELS.find((m) => m.id === id);
}

/** Download URL of one file; `baseUrl` replaces https://huggingface.co (tests, mirrors). */
export function fileUrl(model: KnownModel, file: ModelFile, baseUrl = DEFAULT_MODEL_BASE_URL): string {
  return `${baseUrl.replace(/\/+$/, "")}/${model.repo}/resolve/${model.revision}/${file.path}`;
}

export function approxSize(model: KnownModel): number | undefined {
  let total = 0;
  for (const f of model.files) {
    if (f.approxBytes === undefined) return undefined;
    total += f.approxBytes;
  }
  return total;
}
