/**
 * Options of the `classic` segmenter, from the spec argument (`classic:scales=100/300/800,maxSide=512`) and/or
 * the options object of the config file or the library caller. The spec argument wins over the object.
 */
import type { z } from "zod";
import { integer, layered, list, number, optionsSchema, parseWith, specPairs } from "../../config/schema.js";
import { zod } from "../../config/zod.js";

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

/** The options object (config file, library); a spec argument `key=value,…` sets the same keys from text. */
export const classicOptions = optionsSchema(() =>
  zod().strictObject({
    scales: list(zod().number({ error: "must be a positive number" }).positive({ error: "must be a positive number" }), "a list of positive numbers such as [100, 300, 800]")
      .min(1, { error: "must name at least one scale" })
      .max(12, { error: "takes at most 12 scales" })
      .optional(),
    sigma: number(0, 10).optional(),
    minSize: integer(0).optional(),
    maxRegions: integer(1).optional(),
    minAreaFraction: number(0, 1).optional(),
    maxSide: integer(16).optional(),
    duplicateIou: number(0, 1).optional(),
  }),
);

export type ClassicOptionsInput = z.input<typeof classicOptions.schema>;

/** Short names accepted in spec arguments. */
const ALIASES: Record<string, keyof ClassicOptions> = { k: "scales" };

/**
 * Defaults, then the options object, then the `key=value` pairs of the spec argument (text: numbers may be
 * written as text there, scales as `100/300/800`); unknown keys are errors. `label` names the segmenter.
 */
export function parseClassicOptions(arg: string, options: ClassicOptionsInput, label: string): ClassicOptions {
  const fromObject = parseWith(classicOptions, options, label);
  const pairs: Record<string, unknown> = {};
  for (const [key, value] of specPairs(arg, label)) {
    const name = ALIASES[key] ?? key;
    pairs[name] = name === "scales" ? value.split(/[/|;\s]+/).filter((v) => v !== "") : value;
  }
  const fromArg = parseWith(classicOptions, pairs, label, { fromText: true });
  const out = layered<ClassicOptions>(defaultClassicOptions, fromObject, fromArg);
  return { ...out, scales: [...out.scales] };
}
