/**
 * Instance classification accuracy (e.g. maturity grading: unripe / turning / ripe).
 *
 * Per image, predictions are matched to ground truth greedily by score (highest first, stable), each to the
 * still-unmatched ground-truth instance of highest mask IoU, when that IoU is ≥ the threshold (0.5), whatever
 * the classes. Then:
 * - accuracy = ground-truth instances matched by a prediction of the same class / all ground-truth instances
 *   (an unmatched ground-truth instance counts as wrong);
 * - per class: precision = correct predictions of the class / predictions of the class (unmatched ones
 *   included), recall = correct / ground truth of the class;
 * - confusion matrix: rows = ground-truth class plus "(none)" for unmatched predictions, columns = predicted
 *   class plus "(none)" for missed ground truth.
 */
import { iou } from "../masks/index.js";
import type { Rle } from "../masks/types.js";

export interface GradedInstance {
  rle: Rle;
  label: string;
  /** Predictions only; missing scores sort as 0. */
  score?: number;
}

export interface GradingImage {
  gt: readonly GradedInstance[];
  pred: readonly GradedInstance[];
}

export interface ClassStats {
  label: string;
  gt: number;
  predicted: number;
  correct: number;
  precision: number;
  recall: number;
}

export interface GradingReport {
  accuracy: number;
  gtInstances: number;
  predictions: number;
  matched: number;
  correct: number;
  perClass: ClassStats[];
  /** `labels` index rows and columns; the last label is "(none)". matrix[gtRow][predCol]. */
  confusion: { labels: string[]; matrix: number[][] };
}

export const NONE = "(none)";

/** Greedy score-ordered matching in one image: returns pred index → gt index (or -1). */
export function matchInstances(gt: readonly GradedInstance[], pred: readonly GradedInstance[], threshold = 0.5): Int32Array {
  const out = new Int32Array(pred.length).fill(-1);
  if (gt.length === 0 || pred.length === 0) return out;
  const order = pred.map((_, i) => i).sort((a, b) => (pred[b]!.score ?? 0) - (pred[a]!.score ?? 0));
  const ious = iou(pred.map((p) => p.rle), gt.map((g) => g.rle), gt.map(() => false));
  const taken = new Uint8Array(gt.length);
  for (const pi of order) {
    let best = -1;
    let bestIou = threshold;
    const row = ious[pi]!;
    for (let gi = 0; gi < gt.length; gi++) {
      if (taken[gi]) continue;
      if (row[gi]! >= bestIou && (best < 0 || row[gi]! > bestIou)) {
        best = gi;
        bestIou = row[gi]!;
      }
    }
    if (best >= 0) {
      taken[best] = 1;
      out[pi] = best;
    }
  }
  return out;
}

export function gradeInstances(images: readonly GradingImage[], threshold = 0.5): GradingReport {
  const labelSet = new Set<string>();
  for (const im of images) for (const x of [...im.gt, ...im.pred]) labelSet.add(x.label);
  const labels = [...labelSet].sort();
  const all = [...labels, NONE];
  const at = new Map(all.map((l, i) => [l, i]));
  const matrix = all.map(() => all.map(() => 0));
  let gtN = 0;
  let predN = 0;
  let matched = 0;
  for (const im of images) {
    const m = matchInstances(im.gt, im.pred, threshold);
    const gtHit = new Int32Array(im.gt.length).fill(-1);
    m.forEach((g, p) => {
      if (g >= 0) gtHit[g] = p;
    });
    gtN += im.gt.length;
    predN += im.pred.length;
    im.gt.forEach((g, gi) => {
      const p = gtHit[gi]!;
      if (p >= 0) matched++;
      matrix[at.get(g.label)!]![at.get(p >= 0 ? im.pred[p]!.label : NONE)!]!++;
    });
    im.pred.forEach((p, pi) => {
      if (m[pi]! < 0) matrix[at.get(NONE)!]![at.get(p.label)!]!++;
    });
  }
  const perClass = labels.map((label, i): ClassStats => {
    const gt = matrix[i]!.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, row) => a + row[i]!, 0);
    const correct = matrix[i]![i]!;
    return { label, gt, predicted, correct, precision: predicted ? correct / predicted : 0, recall: gt ? correct / gt : 0 };
  });
  const correct = perClass.reduce((a, c) => a + c.correct, 0);
  return { accuracy: gtN ? correct / gtN : 0, gtInstances: gtN, predictions: predN, matched, correct, perClass, confusion: { labels: all, matrix } };
}

/** Grading images from a COCO ground truth and a COCO results list (class = category name). */
export function gradingImagesFromCoco(
  gt: import("../datasets/coco.js").CocoIndex,
  dt: import("../datasets/coco.js").CocoIndex,
  rleOf: (ann: import("../datasets/coco.js").CocoAnnotation, index: import("../datasets/coco.js").CocoIndex) => Rle,
): GradingImage[] {
  const name = new Map(gt.categories.map((c) => [c.id, c.name]));
  const label = (id: number) => name.get(id) ?? String(id);
  return gt.imageIds.map((imgId) => ({
    gt: (gt.byImage.get(imgId) ?? []).filter((a) => !a.iscrowd).map((a) => ({ rle: rleOf(a, gt), label: label(a.category_id) })),
    pred: (dt.byImage.get(imgId) ?? []).map((a) => ({ rle: rleOf(a, dt), label: label(a.category_id), score: a.score })),
  }));
}
