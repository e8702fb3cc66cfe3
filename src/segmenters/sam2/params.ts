/**
 * Parameters of SAM 2's automatic mask generator, with the reference's defaults
 * (facebookresearch/sam2 `sam2/automatic_mask_generator.py`, SAM2AutomaticMaskGenerator.__init__) and the
 * GEAR-Seg preset.
 */
import { UsageError } from "../../util/errors.js";

export interface AmgParams {
  pointsPerSide: number;
  pointsPerBatch: number;
  /** Keep masks whose predicted IoU is greater than this (no filter when ≤ 0). */
  predIouThresh: number;
  /** Keep masks whose stability score is at least this (no filter when ≤ 0). */
  stabilityScoreThresh: number;
  stabilityScoreOffset: number;
  maskThreshold: number;
  boxNmsThresh: number;
  cropNLayers: number;
  cropNmsThresh: number;
  cropOverlapRatio: number;
  cropNPointsDownscaleFactor: number;
  /** Holes and sprinkles up to this area are removed on the low-resolution logits (0 = off). */
  minMaskRegionArea: number;
  useM2m: boolean;
  multimaskOutput: boolean;
}

export const SAM2_DEFAULT: Readonly<AmgParams> = Object.freeze({
  pointsPerSide: 32,
  pointsPerBatch: 64,
  predIouThresh: 0.8,
  stabilityScoreThresh: 0.95,
  stabilityScoreOffset: 1.0,
  maskThreshold: 0.0,
  boxNmsThresh: 0.7,
  cropNLayers: 0,
  cropNmsThresh: 0.7,
  cropOverlapRatio: 512 / 1500,
  cropNPointsDownscaleFactor: 1,
  minMaskRegionArea: 0,
  useM2m: false,
  multimaskOutput: true,
});

/** What the GEAR-Seg reference runs. */
export const GEAR_SEG_PRESET: Readonly<AmgParams> = Object.freeze({
  ...SAM2_DEFAULT,
  pointsPerSide: 32,
  stabilityScoreOffset: 0.7,
  minMaskRegionArea: 100,
  cropNLayers: 0,
});

export const AMG_PRESETS: Readonly<Record<string, Readonly<AmgParams>>> = Object.freeze({
  "sam2-default": SAM2_DEFAULT,
  "gear-seg": GEAR_SEG_PRESET,
});

/** snake_case names as in the reference, accepted besides camelCase. */
export const AMG_SNAKE_NAMES: Readonly<Record<string, keyof AmgParams>> = {
  points_per_side: "pointsPerSide",
  points_per_batch: "pointsPerBatch",
  pred_iou_thresh: "predIouThresh",
  stability_score_thresh: "stabilityScoreThresh",
  stability_score_offset: "stabilityScoreOffset",
  mask_threshold: "maskThreshold",
  box_nms_thresh: "boxNmsThresh",
  crop_n_layers: "cropNLayers",
  crop_nms_thresh: "cropNmsThresh",
  crop_overlap_ratio: "cropOverlapRatio",
  crop_n_points_downscale_factor: "cropNPointsDownscaleFactor",
  min_mask_region_area: "minMaskRegionArea",
  use_m2m: "useM2m",
  multimask_output: "multimaskOutput",
};

const INTEGER: ReadonlySet<keyof AmgParams> = new Set(["pointsPerSide", "pointsPerBatch", "cropNLayers", "cropNPointsDownscaleFactor"]);

/**
 * The preset (default `sam2-default`) with overrides applied. Overrides may use camelCase or the reference's
 * snake_case names; values may be strings (from the CLI or a config file).
 */
export function resolveAmgParams(preset: string | undefined, overrides: Record<string, unknown> = {}): AmgParams {
  const name = preset ?? "sam2-default";
  const base = AMG_PRESETS[name];
  if (!base) throw new UsageError(`unknown AMG preset "${name}" (known: ${Object.keys(AMG_PRESETS).join(", ")})`);
  const out: AmgParams = { ...base };
  for (const [rawKey, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    const key = (AMG_SNAKE_NAMES[rawKey] ?? rawKey) as keyof AmgParams;
    if (!(key in SAM2_DEFAULT)) {
      throw new UsageError(`unknown AMG parameter "${rawKey}" (known: ${Object.keys(AMG_SNAKE_NAMES).join(", ")})`);
    }
    if (key === "useM2m" || key === "multimaskOutput") {
      const v = raw === true || raw === "true" || raw === "1" ? true : raw === false || raw === "false" || raw === "0" ? false : null;
      if (v === null) throw new UsageError(`AMG parameter ${rawKey} must be true or false, got "${String(raw)}"`);
      out[key] = v;
      continue;
    }
    const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new UsageError(`AMG parameter ${rawKey} must be a number, got "${String(raw)}"`);
    if (INTEGER.has(key) && (!Number.isInteger(n) || n < (key === "cropNLayers" ? 0 : 1))) {
      throw new UsageError(`AMG parameter ${rawKey} must be an integer ≥ ${key === "cropNLayers" ? 0 : 1}, got "${String(raw)}"`);
    }
    (out as unknown as Record<string, number>)[key] = n;
  }
  if (out.minMaskRegionArea < 0) throw new UsageError(`AMG parameter min_mask_region_area must be ≥ 0, got ${out.minMaskRegionArea}`);
  return out;
}
