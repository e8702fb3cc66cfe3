/**
 * Options of the `nanodet` detector, from the spec argument (`nanodet:scoreThreshold=0.4,nmsIou=0.5`) and/or
 * the options object of the config file or the library caller; the spec argument wins over the object.
 */
import { UsageError } from "../../util/errors.js";

export interface NanodetOptions {
  /** Detections scoring at or below this are dropped (upstream evaluates at 0.05 and draws at 0.35). */
  scoreThreshold: number;
  /** Two boxes of one class overlapping by more than this IoU are one object: the lower-scoring is dropped. */
  nmsIou: number;
  /** At most this many detections per image, best first. */
  maxDetections: number;
}

/** Upstream's NMS settings (iou 0.6, at most 100; RangiLyu/nanodet nanodet/model/head/gfl_head.py,
 * get_bboxes_single); the score floor is raised from its 0.05 (meant for mAP) to 0.3, so that what is reported
 * is likely to be there; describers still hedge below 0.5. */
export const defaultNanodetOptions: Readonly<NanodetOptions> = Object.freeze({
  scoreThreshold: 0.3,
  nmsIou: 0.6,
  maxDetections: 100,
});

const KEYS = Object.keys(defaultNanodetOptions) as (keyof NanodetOptions)[];

function fail(spec: string, key: string, reason: string): never {
  throw new UsageError(`detector "${spec}": option "${key}" ${reason}`);
}

function toNumber(spec: string, key: string, value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n)) fail(spec, key, `must be a number (got ${JSON.stringify(value)})`);
  return n;
}

function setOption(out: NanodetOptions, spec: string, key: string, value: unknown): void {
  if (!KEYS.includes(key as keyof NanodetOptions)) fail(spec, key, `is unknown (known: ${KEYS.join(", ")})`);
  const n = toNumber(spec, key, value);
  if (key === "maxDetections") {
    if (!Number.isInteger(n) || n < 1 || n > 1000) fail(spec, key, `must be an integer in [1, 1000] (got ${n})`);
    out.maxDetections = n;
  } else if (key === "scoreThreshold") {
    if (n < 0 || n >= 1) fail(spec, key, `must be in [0, 1) (got ${n})`);
    out.scoreThreshold = n;
  } else {
    if (n <= 0 || n > 1) fail(spec, key, `must be in (0, 1] (got ${n})`);
    out.nmsIou = n;
  }
}

/** Defaults, then the options object, then `key=value` pairs of the spec argument; unknown keys are errors. */
export function parseNanodetOptions(arg: string, options: Record<string, unknown>, spec: string): NanodetOptions {
  const out: NanodetOptions = { ...defaultNanodetOptions };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) setOption(out, spec, key, value);
  }
  const text = arg.trim();
  if (text !== "") {
    for (const part of text.split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0) throw new UsageError(`detector "${spec}": "${part.trim()}" is not key=value`);
      setOption(out, spec, part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  return out;
}
