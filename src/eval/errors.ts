/**
 * Cascading-error analysis (the GEAR-Seg paper's Table 5, automated): was a failure the segmenter's fault
 * (no combination of proposals reaches the target) or the selection's (the proposals could, the reasoner
 * chose wrong)?
 *
 * Per sample:
 * - oracle IoU: greedy union of up to `maxRegions` (6, GEAR-Seg's cap) proposals; each step adds the proposal
 *   that raises the IoU most and stops when none raises it;
 * - chosen IoU: the IoU of the prediction (the union of the chosen regions);
 * - class: `ok` (chosen ≥ 0.5), `segmentation` (oracle < 0.5: segmentation-limited), `selection`
 *   (oracle ≥ 0.5 but chosen < 0.5).
 * IoU is LISA's per-sample IoU (./reason.ts): ignored ground truth excluded, I / (U + 1e-5), 1 when U = 0.
 */
import { decode } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import type { LabelImage } from "../datasets/raster.js";
import { GearSegError } from "../util/errors.js";
import { reasonCounts, sampleIou } from "./reason.js";

export type ErrorClass = "ok" | "segmentation" | "selection";

export interface OracleResult {
  iou: number;
  /** Proposal indices (into the given list) in the order the greedy search added them. */
  picked: number[];
}

/**
 * Greedy oracle. Each proposal is decoded once to the list of its pixels; a step costs the sum of the
 * proposals' areas, not proposals × image size.
 */
export function oracleIou(proposals: readonly Rle[], gt: LabelImage, maxRegions = 6): OracleResult {
  const n = gt.width * gt.height;
  const g = gt.data;
  const pixels: Int32Array[] = proposals.map((rle, k) => {
    if (rle.width !== gt.width || rle.height !== gt.height) {
      throw new GearSegError(`proposal ${k} is ${rle.width}x${rle.height} but the ground truth is ${gt.width}x${gt.height}`);
    }
    const m = decode(rle).data;
    let c = 0;
    for (let i = 0; i < n; i++) if (m[i] && g[i] !== 255) c++;
    const out = new Int32Array(c);
    c = 0;
    for (let i = 0; i < n; i++) if (m[i] && g[i] !== 255) out[c++] = i;
    return out;
  });
  let gtN = 0;
  for (let i = 0; i < n; i++) if (g[i] === 1) gtN++;
  const current = new Uint8Array(n);
  let inter = 0;
  let pred = 0;
  let best = sampleIou({ intersection: 0, union: gtN });
  const picked: number[] = [];
  const used = new Uint8Array(proposals.length);
  while (picked.length < maxRegions) {
    let bestK = -1;
    let bestIou = best;
    let bestAdd = { i: 0, p: 0 };
    for (let k = 0; k < pixels.length; k++) {
      if (used[k]) continue;
      const px = pixels[k]!;
      let addI = 0;
      let addP = 0;
      for (let j = 0; j < px.length; j++) {
        const i = px[j]!;
        if (current[i]) continue;
        addP++;
        if (g[i] === 1) addI++;
      }
      const I = inter + addI;
      const P = pred + addP;
      const v = sampleIou({ intersection: I, union: P + gtN - I });
      if (v > bestIou) {
        bestIou = v;
        bestK = k;
        bestAdd = { i: addI, p: addP };
      }
    }
    if (bestK < 0) break;
    used[bestK] = 1;
    for (const i of pixels[bestK]!) current[i] = 1;
    inter += bestAdd.i;
    pred += bestAdd.p;
    best = bestIou;
    picked.push(bestK);
  }
  return { iou: best, picked };
}

export interface ErrorSample {
  id: string;
  oracleIou: number;
  chosenIou: number;
  oracleIds: number[];
  chosenIds?: number[];
  class: ErrorClass;
}

export function classify(oracle: number, chosen: number, threshold = 0.5): ErrorClass {
  if (chosen >= threshold) return "ok";
  return oracle < threshold ? "segmentation" : "selection";
}

export function analyseSample(
  id: string,
  proposals: readonly { id: number; rle: Rle }[],
  prediction: Rle,
  gt: LabelImage,
  chosenIds?: number[],
  maxRegions = 6,
): ErrorSample {
  const oracle = oracleIou(proposals.map((p) => p.rle), gt, maxRegions);
  const chosenIou = sampleIou(reasonCounts(decode(prediction), gt));
  return {
    id,
    oracleIou: oracle.iou,
    chosenIou,
    oracleIds: oracle.picked.map((k) => proposals[k]!.id),
    ...(chosenIds && { chosenIds }),
    class: classify(oracle.iou, chosenIou),
  };
}

export interface ErrorSummary {
  samples: number;
  ok: number;
  failures: number;
  segmentationLimited: number;
  selectionErrors: number;
  /** Shares of the failures (0 when there are none). */
  segmentationShare: number;
  selectionShare: number;
  meanOracleIou: number;
  meanChosenIou: number;
}

export function summarizeErrors(samples: readonly ErrorSample[]): ErrorSummary {
  const seg = samples.filter((s) => s.class === "segmentation").length;
  const sel = samples.filter((s) => s.class === "selection").length;
  const failures = seg + sel;
  const mean = (f: (s: ErrorSample) => number) => (samples.length ? samples.reduce((a, s) => a + f(s), 0) / samples.length : 0);
  return {
    samples: samples.length,
    ok: samples.length - failures,
    failures,
    segmentationLimited: seg,
    selectionErrors: sel,
    segmentationShare: failures ? seg / failures : 0,
    selectionShare: failures ? sel / failures : 0,
    meanOracleIou: mean((s) => s.oracleIou),
    meanChosenIou: mean((s) => s.chosenIou),
  };
}
