/**
 * Options of the `sam2` segmenter (config file or library caller). Light on purpose: the registry loads it to
 * check options without loading ONNX Runtime.
 */
import type { z } from "zod";
import { flag, integer, LazySchema, number, oneOf, optionsSchema, text } from "../../config/schema.js";
import { zod } from "../../config/zod.js";
import { AMG_PRESETS, AMG_SNAKE_NAMES, SAM2_DEFAULT, type AmgParams } from "./params.js";

const INTEGER_PARAMS: ReadonlySet<keyof AmgParams> = new Set(["pointsPerSide", "pointsPerBatch", "cropNLayers", "cropNPointsDownscaleFactor"]);

function paramSchema(key: keyof AmgParams) {
  if (typeof SAM2_DEFAULT[key] === "boolean") return flag().optional();
  if (INTEGER_PARAMS.has(key)) return integer(key === "cropNLayers" ? 0 : 1).optional();
  if (key === "minMaskRegionArea") return number(0).optional();
  return number().optional();
}

/** Mask-generator parameters, by the reference's snake_case names or their camelCase forms. */
export const amgOverrides = new LazySchema(() =>
  zod().strictObject(
    Object.fromEntries([
      ...Object.entries(AMG_SNAKE_NAMES).map(([snake, camel]) => [snake, paramSchema(camel)]),
      ...Object.values(AMG_SNAKE_NAMES).map((camel) => [camel, paramSchema(camel)]),
    ]) as Record<string, ReturnType<typeof paramSchema>>,
  ),
);

export const sam2Options = optionsSchema(() =>
  zod().strictObject({
    /** "cpu" (default) or "cuda" (needs onnxruntime-node's CUDA binaries). */
    provider: oneOf(["cpu", "cuda"]).optional(),
    /** ONNX Runtime intra-op threads. */
    threads: integer(1).optional(),
    /** Threads for post-processing, the main one included (default: the number of cores). */
    workers: integer(1).optional(),
    /** File-name suffix of a quantised export, e.g. "fp16", "quantized", "q4". */
    variant: text().optional(),
    /** The mask generator's preset (default sam2-default). */
    preset: oneOf(Object.keys(AMG_PRESETS) as [string, ...string[]]).optional(),
    amg: amgOverrides.schema.optional(),
  }),
);

export type Sam2Options = z.input<typeof sam2Options.schema>;
