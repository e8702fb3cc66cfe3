/**
 * Scores a folder of predictions against a ReasonSeg split (gIoU, cIoU, ncIoU; see ./reason.ts).
 *
 * Samples: LISA evaluates the first query of each image (its ReasonSeg ValDataset keeps `sents[0]`); with
 * `allQueries` every query is a sample. Sample ids are the image name for the first query and
 * `<name>.q<k>` for query k ≥ 1. A missing prediction counts as an empty mask and is listed in `missing`.
 */
import { decode } from "../masks/index.js";
import { describeError, GearSegError } from "../util/errors.js";
import type { LabelImage } from "../datasets/raster.js";
import { loadReasonSeg, reasonSegGroundTruth, type ReasonSegSample } from "../datasets/reasonseg.js";
import { checkPredictionFolder, checkPredictionSize, findPredictionFile, readReasonPrediction } from "../datasets/predictions.js";
import { scoreReasonSample, summarizeReason, type ReasonMetrics, type ReasonSampleScore } from "./reason.js";

export interface ReasonQuery {
  id: string;
  sample: ReasonSegSample;
  query: string;
  queryIndex: number;
}

/** The (image, query) pairs to evaluate. */
export function reasonQueries(samples: readonly ReasonSegSample[], allQueries = false): ReasonQuery[] {
  const out: ReasonQuery[] = [];
  for (const sample of samples) {
    const n = allQueries ? sample.texts.length : Math.min(1, sample.texts.length);
    for (let k = 0; k < n; k++) out.push({ id: k === 0 ? sample.name : `${sample.name}.q${k}`, sample, query: sample.texts[k]!, queryIndex: k });
  }
  return out;
}

export interface ReasonEvalOptions {
  allQueries?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** When given, a sample whose ground truth cannot be built (unreadable image) is left out and reported
   * here instead of failing the evaluation. */
  onBadSample?: (id: string, message: string) => void;
}

export interface PerSampleJson {
  id: string;
  iou: number;
  intersection: number;
  union: number;
  missing?: boolean;
}

export interface ReasonEvalReport extends ReasonMetrics {
  per_sample: PerSampleJson[];
  missing: string[];
}

export function reportFromScores(scores: readonly ReasonSampleScore[], missing: readonly string[]): ReasonEvalReport {
  const m = summarizeReason(scores);
  const missingSet = new Set(missing);
  return {
    ...m,
    per_sample: scores.map((s) => ({
      id: s.id,
      iou: s.iou,
      intersection: s.intersection,
      union: s.union,
      ...(missingSet.has(s.id) && { missing: true }),
    })),
    missing: [...missing],
  };
}

export async function evaluateReasonFolder(dataDir: string, predDir: string, options: ReasonEvalOptions = {}): Promise<ReasonEvalReport> {
  await checkPredictionFolder(predDir);
  const samples = await loadReasonSeg(dataDir);
  const queries = reasonQueries(samples, options.allQueries);
  const scores: ReasonSampleScore[] = [];
  const missing: string[] = [];
  let gt: LabelImage | undefined;
  let gtFor: ReasonSegSample | undefined;
  let gtError = "";
  for (const [i, q] of queries.entries()) {
    if (gtFor !== q.sample) {
      gtFor = q.sample;
      try {
        gt = await reasonSegGroundTruth(q.sample);
      } catch (err) {
        if (!options.onBadSample) throw err;
        gt = undefined;
        gtError = describeError(err);
      }
    }
    if (!gt) {
      options.onBadSample!(q.id, gtError);
      options.onProgress?.(i + 1, queries.length);
      continue;
    }
    const g = gt;
    const file = await findPredictionFile(predDir, q.id);
    let pred;
    if (file) {
      const p = await readReasonPrediction(file, g.height, g.width);
      checkPredictionSize(p, g.height, g.width);
      pred = decode(p.mask);
    } else {
      missing.push(q.id);
      pred = { width: g.width, height: g.height, data: new Uint8Array(g.width * g.height) };
    }
    scores.push(scoreReasonSample(q.id, pred, g));
    options.onProgress?.(i + 1, queries.length);
  }
  if (scores.length > 0 && missing.length === scores.length) {
    throw new GearSegError(
      `no prediction in "${predDir}" matches a sample of "${dataDir}" (looked for <id>.json and <id>/result.json, e.g. ${missing[0]})`,
    );
  }
  return reportFromScores(scores, missing);
}
