/**
 * From NanoDet's raw outputs to boxes, as upstream post-processes them (RangiLyu/nanodet, v0.x, the version
 * NanoDet-g was trained with):
 * - nanodet/model/head/gfl_head.py, get_bboxes_single / get_single_level_center_point: per level (strides
 *   8, 16, 32) the prior of cell (row, col) is its centre ((col + 0.5)·s, (row + 0.5)·s); at most 1000 cells
 *   per level, those with the highest class score, are decoded;
 * - gfl_head.py, Integral: each of the four distances (left, top, right, bottom) is a distribution over
 *   0..reg_max; its value is the softmax-weighted bin index, times the stride;
 * - nanodet/util/box_transform.py, distance2bbox: box = centre ∓ distances, clamped to the input square;
 * - nanodet/model/module/nms.py, multiclass_nms / batched_nms: every (cell, class) scoring above the threshold
 *   is a candidate; NMS runs per class (torchvision's nms: suppress IoU > threshold, areas without +1); the
 *   best `max_num` are kept, best first;
 * - gfl_head.py post_process / warp.py warp_boxes: boxes go back through the inverse warp and are clipped to
 *   the image.
 * The TF.js export applies the sigmoid to the class scores inside the graph (as upstream's _forward_onnx
 * does), so scores arrive as probabilities.
 */
import type { Detection } from "../../pipeline/types.js";
import { toImageX, toImageY, type Letterbox } from "./preprocess.js";

/** One output level: `cells` = (size/stride)² priors, row-major; scores [cells × classes], distances [cells × 4·(regMax+1)]. */
export interface NanodetLevel {
  stride: number;
  scores: Float32Array;
  distances: Float32Array;
}

export interface DecodeSettings {
  scoreThreshold: number;
  nmsIou: number;
  maxDetections: number;
  labels: readonly string[];
}

/** Upstream decodes at most this many cells per level (`nms_pre`). */
const CELLS_PER_LEVEL = 1000;

interface Candidate {
  classId: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Softmax-weighted bin index of `bins` values starting at `at` (the Integral layer). */
function expectedBin(values: Float32Array, at: number, bins: number): number {
  let max = -Infinity;
  for (let i = 0; i < bins; i++) if (values[at + i]! > max) max = values[at + i]!;
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < bins; i++) {
    const e = Math.exp(values[at + i]! - max);
    sum += e;
    weighted += e * i;
  }
  return weighted / sum;
}

function levelCandidates(level: NanodetLevel, size: number, classes: number, threshold: number, out: Candidate[]): void {
  const { stride, scores, distances } = level;
  const cols = Math.round(size / stride);
  const cells = scores.length / classes;
  const bins = distances.length / cells / 4;
  const best = new Float32Array(cells);
  let kept: number[] = [];
  for (let cell = 0; cell < cells; cell++) {
    let max = 0;
    const base = cell * classes;
    for (let c = 0; c < classes; c++) if (scores[base + c]! > max) max = scores[base + c]!;
    best[cell] = max;
    if (max > threshold) kept.push(cell);
  }
  if (kept.length > CELLS_PER_LEVEL) kept = kept.sort((a, b) => best[b]! - best[a]!).slice(0, CELLS_PER_LEVEL);
  for (const cell of kept) {
    const cx = ((cell % cols) + 0.5) * stride;
    const cy = (Math.floor(cell / cols) + 0.5) * stride;
    const d = cell * 4 * bins;
    const left = expectedBin(distances, d, bins) * stride;
    const top = expectedBin(distances, d + bins, bins) * stride;
    const right = expectedBin(distances, d + 2 * bins, bins) * stride;
    const bottom = expectedBin(distances, d + 3 * bins, bins) * stride;
    const x1 = Math.min(size, Math.max(0, cx - left));
    const y1 = Math.min(size, Math.max(0, cy - top));
    const x2 = Math.min(size, Math.max(0, cx + right));
    const y2 = Math.min(size, Math.max(0, cy + bottom));
    const base = cell * classes;
    for (let c = 0; c < classes; c++) {
      const score = scores[base + c]!;
      if (score > threshold) out.push({ classId: c, score, x1, y1, x2, y2 });
    }
  }
}

function iou(a: Candidate, b: Candidate): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy NMS within each class; returns the survivors, best first. */
export function classNms(candidates: Candidate[], iouThreshold: number, max: number): Candidate[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  const byClass = new Map<number, Candidate[]>();
  for (const c of sorted) {
    const same = byClass.get(c.classId) ?? [];
    if (same.some((k) => iou(k, c) > iouThreshold)) continue;
    same.push(c);
    byClass.set(c.classId, same);
    kept.push(c);
    if (kept.length === max) break;
  }
  return kept;
}

/** Decodes the three levels into detections in image pixels, best first. */
export function decodeNanodet(levels: readonly NanodetLevel[], lb: Letterbox, settings: DecodeSettings): Detection[] {
  const classes = settings.labels.length;
  const candidates: Candidate[] = [];
  for (const level of levels) levelCandidates(level, lb.size, classes, settings.scoreThreshold, candidates);
  const kept = classNms(candidates, settings.nmsIou, settings.maxDetections);
  const out: Detection[] = [];
  for (const k of kept) {
    const x1 = Math.min(lb.width, Math.max(0, toImageX(lb, k.x1)));
    const y1 = Math.min(lb.height, Math.max(0, toImageY(lb, k.y1)));
    const x2 = Math.min(lb.width, Math.max(0, toImageX(lb, k.x2)));
    const y2 = Math.min(lb.height, Math.max(0, toImageY(lb, k.y2)));
    if (x2 <= x1 || y2 <= y1) continue;
    out.push({ label: settings.labels[k.classId]!, classId: k.classId, score: k.score, bbox: [x1, y1, x2 - x1, y2 - y1] });
  }
  return out;
}
