/**
 * Reasoning-segmentation metrics: gIoU, cIoU (LISA) and ncIoU (LLM-Seg).
 *
 * - LISA (dvlab-research/LISA `train_ds.py` validate(), `utils/utils.py` intersectionAndUnionGPU with K = 2 and
 *   ignore_index = 255): prediction pixels are mask > 0; wherever the ground truth is 255 the prediction is set
 *   to 255 too, so ignored pixels count in neither prediction, ground truth nor intersection. Class-1 counts:
 *   I = |pred ∩ gt|, U = |pred| + |gt| − I. Per sample IoU = I / (U + 1e-5), plus 1.0 when U = 0 (the
 *   "no-object target" rule). gIoU = mean per-sample IoU; cIoU = ΣI / (ΣU + 1e-10).
 * - LLM-Seg (wangjunchi/LLMSeg `validate_llmseg.py`, the 1024×1024 resize of prediction and ground truth
 *   before intersectionAndUnionGPU): ncIoU = cIoU computed after resizing both to 1024×1024 by nearest
 *   neighbour, so that large images do not dominate the sums. The resize is `resizeMaskNearest` (OpenCV
 *   INTER_NEAREST indices), applied to the 0/1/255 label map and to the prediction.
 */
import { resizeMaskNearest } from "../masks/index.js";
import type { BinaryMask } from "../masks/types.js";
import type { LabelImage } from "../datasets/raster.js";
import { GearSegError } from "../util/errors.js";

export const NORMALIZED_SIZE = 1024;

export interface ReasonCounts {
  intersection: number;
  union: number;
}

export interface ReasonSampleScore {
  id: string;
  /** I / (U + 1e-5), or 1 when U = 0. */
  iou: number;
  intersection: number;
  union: number;
  /** The same counts after resizing to 1024×1024. */
  normalized: ReasonCounts;
}

export interface ReasonMetrics {
  gIoU: number;
  cIoU: number;
  ncIoU: number;
  samples: number;
}

/** Class-1 intersection and union with LISA's ignore rule. `pred` is any byte mask (> 0 = inside). */
export function reasonCounts(pred: { width: number; height: number; data: Uint8Array }, gt: LabelImage): ReasonCounts {
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new GearSegError(`prediction is ${pred.width}x${pred.height} but the ground truth is ${gt.width}x${gt.height}`);
  }
  const p = pred.data;
  const g = gt.data;
  let inter = 0;
  let predN = 0;
  let gtN = 0;
  for (let i = 0; i < g.length; i++) {
    const gv = g[i]!;
    if (gv === 255) continue;
    const pv = p[i]! > 0;
    if (gv === 1) {
      gtN++;
      if (pv) {
        inter++;
        predN++;
      }
    } else if (pv) predN++;
  }
  return { intersection: inter, union: predN + gtN - inter };
}

/** Per-sample IoU as LISA: I / (U + 1e-5), and 1.0 for an empty union. */
export function sampleIou(c: ReasonCounts): number {
  return c.intersection / (c.union + 1e-5) + (c.union === 0 ? 1 : 0);
}

export function scoreReasonSample(id: string, pred: BinaryMask, gt: LabelImage): ReasonSampleScore {
  const c = reasonCounts(pred, gt);
  const n = NORMALIZED_SIZE;
  const normalized = reasonCounts(resizeMaskNearest(pred, n, n), resizeMaskNearest(gt, n, n));
  return { id, iou: sampleIou(c), intersection: c.intersection, union: c.union, normalized };
}

/** gIoU, cIoU, ncIoU over a split. An empty split gives zeros (and samples = 0). */
export function summarizeReason(scores: readonly ReasonSampleScore[]): ReasonMetrics {
  let sumIou = 0;
  let i = 0;
  let u = 0;
  let ni = 0;
  let nu = 0;
  for (const s of scores) {
    sumIou += s.iou;
    i += s.intersection;
    u += s.union;
    ni += s.normalized.intersection;
    nu += s.normalized.union;
  }
  const n = scores.length;
  return { gIoU: n ? sumIou / n : 0, cIoU: i / (u + 1e-10), ncIoU: ni / (nu + 1e-10), samples: n };
}
