/**
 * Options of the `nanodet` detector, from the options object (config file, library) and/or the spec argument
 * (`nanodet:scoreThreshold=0.4,nmsIou=0.5`, numbers as text); the spec argument wins over the object.
 */
import type { z } from "zod";
import { integer, layered, number, optionsSchema, parseWith, specPairs } from "../../config/schema.js";
import { zod } from "../../config/zod.js";
import type { NanodetRuntime } from "./graph-model.js";

export interface NanodetOptions {
  /** Detections scoring at or below this are dropped (upstream evaluates at 0.05 and draws at 0.35). */
  scoreThreshold: number;
  /** Two boxes of one class overlapping by more than this IoU are one object: the lower-scoring is dropped. */
  nmsIou: number;
  /** At most this many detections per image, best first. */
  maxDetections: number;
  /** "onnx" (ONNX Runtime, the default: faster, and off the JavaScript thread) or "tfjs" (TensorFlow.js's
   * WebAssembly backend: runs wherever Node does). */
  runtime: NanodetRuntime;
  /** ONNX Runtime's threads; 0 = all cores but one (the segmenter works on the JavaScript thread meanwhile),
   * one in a preparation worker (the pool has a worker per core). */
  threads: number;
}

/** Upstream's NMS settings (iou 0.6, at most 100; RangiLyu/nanodet nanodet/model/head/gfl_head.py,
 * get_bboxes_single); the score floor is raised from its 0.05 (meant for mAP) to 0.3, so that what is reported
 * is likely to be there; describers still hedge below 0.5. */
export const defaultNanodetOptions: Readonly<NanodetOptions> = Object.freeze({
  scoreThreshold: 0.3,
  nmsIou: 0.6,
  maxDetections: 100,
  runtime: "onnx",
  threads: 0,
});

export const nanodetOptions = optionsSchema(() =>
  zod().strictObject({
    scoreThreshold: number(0, 0.99).optional(),
    nmsIou: number(0.01, 1).optional(),
    maxDetections: integer(1, 1000).optional(),
    runtime: zod().enum(["onnx", "tfjs"]).optional(),
    threads: integer(0, 256).optional(),
  }),
);

export type NanodetOptionsInput = z.input<typeof nanodetOptions.schema>;

/** Defaults, then the options object, then the spec argument's `key=value` pairs; unknown keys are errors. */
export function parseNanodetOptions(arg: string, options: NanodetOptionsInput, label: string): NanodetOptions {
  const fromObject = parseWith(nanodetOptions, options, label);
  const fromArg = parseWith(nanodetOptions, Object.fromEntries(specPairs(arg, label)), label, { fromText: true });
  return layered<NanodetOptions>(defaultNanodetOptions, fromObject, fromArg);
}
