/**
 * Options of the `classic` segmenter, from the spec argument (`classic:scales=100/300/800,maxSide=512`) and/or
 * the options object of the config file or the library caller. The spec argument wins over the object.
 */
import { UsageError } from "../../util/errors.js";

export interface ClassicOptions {
  /** Felzenszwalb–Huttenlocher `k` values, in CIELAB ΔE units at the working size; one segmentation each. */
  scales: number[];
  /** Gaussian smoothing before segmentation, in working-size pixels (0 = none). */
  sigma: number;
  /** FH's minimum component size (post-merge), in working-size pixels. */
  minSize: number;
  /** At most this many proposals are returned. */
  maxRegions: number;
  /** Proposals smaller than this share of the image are dropped. */
  minAreaFraction: number;
  /** The long side of the working copy (larger images are downscaled by area averaging). */
  maxSide: number;
  /** Two proposals whose mask IoU exceeds this are near-duplicates; the better-ranked one is kept. */
  duplicateIou: number;
}

export const defaultClassicOptions: Readonly<ClassicOptions> = Object.freeze({
  scales: [30, 100, 300, 1000],
  sigma: 0.8,
  minSize: 20,
  maxRegions: 200,
  minAreaFraction: 0.001,
  maxSide: 512,
  duplicateIou: 0.9,
});

const KEYS = Object.keys(defaultClassicOptions) as (keyof ClassicOptions)[];
/** Short names accepted in spec strings. */
const ALIASES: Record<string, keyof ClassicOptions> = { k: "scales" };

function fail(spec: string, key: string, reason: string): never {
  throw new UsageError(`segmenter "${spec}": option "${key}" ${reason}`);
}

function toNumber(spec: string, key: string, value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n)) fail(spec, key, `must be a number (got ${JSON.stringify(value)})`);
  return n;
}

function toScales(spec: string, key: string, value: unknown): number[] {
  const items = Array.isArray(value)
    ? value
    : typeof value === "number"
      ? [value]
      : typeof value === "string"
        ? value.split(/[/|;\s]+/).filter((s) => s !== "")
        : fail(spec, key, "must be a list of numbers such as 100/300/800");
  if (items.length === 0) fail(spec, key, "must name at least one scale");
  if (items.length > 12) fail(spec, key, "takes at most 12 scales");
  return items.map((v) => {
    const n = toNumber(spec, key, v);
    if (n <= 0) fail(spec, key, `must be positive (got ${n})`);
    return n;
  });
}

function setOption(out: ClassicOptions, spec: string, rawKey: string, value: unknown): void {
  const key = (ALIASES[rawKey] ?? rawKey) as keyof ClassicOptions;
  if (!KEYS.includes(key)) {
    fail(spec, rawKey, `is unknown (known: ${KEYS.join(", ")}; k = scales)`);
  }
  switch (key) {
    case "scales":
      out.scales = toScales(spec, rawKey, value);
      return;
    case "sigma": {
      const n = toNumber(spec, rawKey, value);
      if (n < 0 || n > 10) fail(spec, rawKey, `must be in [0, 10] (got ${n})`);
      out.sigma = n;
      return;
    }
    case "minSize":
    case "maxRegions":
    case "maxSide": {
      const n = toNumber(spec, rawKey, value);
      const min = key === "maxSide" ? 16 : key === "maxRegions" ? 1 : 0;
      if (!Number.isInteger(n) || n < min) fail(spec, rawKey, `must be an integer >= ${min} (got ${n})`);
      out[key] = n;
      return;
    }
    case "minAreaFraction":
    case "duplicateIou": {
      const n = toNumber(spec, rawKey, value);
      if (n < 0 || n > 1) fail(spec, rawKey, `must be in [0, 1] (got ${n})`);
      out[key] = n;
      return;
    }
  }
}

/** Merge defaults, the options object, then `key=value` pairs of the spec argument; unknown keys are errors. */
export function parseClassicOptions(arg: string, options: Record<string, unknown>, spec: string): ClassicOptions {
  const out: ClassicOptions = { ...defaultClassicOptions, scales: [...defaultClassicOptions.scales] };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    setOption(out, spec, key, value);
  }
  const text = arg.trim();
  if (text !== "") {
    for (const part of text.split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0) throw new UsageError(`segmenter "${spec}": "${part.trim()}" is not key=value`);
      setOption(out, spec, part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  return out;
}
