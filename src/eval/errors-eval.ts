/**
 * Runs the cascading-error analysis over a ReasonSeg folder and a prediction folder. Proposals come from each
 * gear-seg result.json (`regions`) or, for the reference's answer files, from its SAM masks folder
 * (`<proposals>/<name>/mask_<i>.png`; found automatically as `../../sam/masks` next to `answers/json`).
 */
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { LabelImage } from "../datasets/raster.js";
import { loadReasonSeg, reasonSegGroundTruth, type ReasonSegSample } from "../datasets/reasonseg.js";
import { checkPredictionFolder, checkPredictionSize, findPredictionFile, readProposalFolder, readReasonPrediction } from "../datasets/predictions.js";
import { describeError, GearSegError } from "../util/errors.js";
import { analyseSample, summarizeErrors, type ErrorSample, type ErrorSummary } from "./errors.js";
import { reasonQueries } from "./reason-eval.js";

export interface ErrorsEvalOptions {
  proposalsDir?: string;
  allQueries?: boolean;
  maxRegions?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ErrorsReport extends ErrorSummary {
  per_sample: ErrorSample[];
  /** Samples left out, with the reason (no prediction, no proposals). */
  skipped: { id: string; reason: string }[];
}

/** `<x>/answers/json` → `<x>/sam/masks` when it exists. */
export function defaultProposalsDir(predDir: string): string | undefined {
  const abs = resolve(predDir);
  if (basename(abs) === "json" && basename(dirname(abs)) === "answers") {
    const cand = join(dirname(dirname(abs)), "sam", "masks");
    if (existsSync(cand)) return cand;
  }
  return undefined;
}

export async function evaluateErrorsFolder(dataDir: string, predDir: string, options: ErrorsEvalOptions = {}): Promise<ErrorsReport> {
  await checkPredictionFolder(predDir);
  const samples = await loadReasonSeg(dataDir);
  const queries = reasonQueries(samples, options.allQueries);
  const proposalsDir = options.proposalsDir ?? defaultProposalsDir(predDir);
  const results: ErrorSample[] = [];
  const skipped: { id: string; reason: string }[] = [];
  let gt: LabelImage | undefined;
  let gtFor: ReasonSegSample | undefined;
  for (const [i, q] of queries.entries()) {
    options.onProgress?.(i, queries.length);
    const file = await findPredictionFile(predDir, q.id);
    if (!file) {
      skipped.push({ id: q.id, reason: "no prediction" });
      continue;
    }
    if (gtFor !== q.sample) {
      gtFor = q.sample;
      try {
        gt = await reasonSegGroundTruth(q.sample);
      } catch (err) {
        gt = undefined;
        skipped.push({ id: q.id, reason: describeError(err) });
        continue;
      }
    }
    if (!gt) {
      skipped.push({ id: q.id, reason: "ground truth unavailable" });
      continue;
    }
    const g = gt;
    const pred = await readReasonPrediction(file, g.height, g.width);
    checkPredictionSize(pred, g.height, g.width);
    const proposals = pred.proposals ?? (proposalsDir ? await readProposalFolder(join(proposalsDir, q.sample.name)) : undefined);
    if (!proposals || proposals.length === 0) {
      skipped.push({ id: q.id, reason: "no proposals (none in result.json, none in a proposals folder: option proposalsDir)" });
      continue;
    }
    results.push(analyseSample(q.id, proposals, pred.mask, g, pred.maskIds, options.maxRegions));
  }
  options.onProgress?.(queries.length, queries.length);
  if (results.length === 0 && queries.length > 0) {
    throw new GearSegError(`no sample could be analysed in "${predDir}": ${skipped[0]!.reason} (e.g. ${skipped[0]!.id})`);
  }
  return { ...summarizeErrors(results), per_sample: results, skipped };
}
