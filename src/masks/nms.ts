/**
 * Box non-maximum suppression, as torchvision.ops.nms / batched_nms (torchvision `csrc/ops/cpu/nms_kernel.cpp`
 * and `torchvision/ops/boxes.py`): boxes (x1, y1, x2, y2), visited by descending score, each kept box
 * suppresses later boxes whose IoU with it is greater than the threshold; area = (x2 − x1) · (y2 − y1),
 * no +1. Equal scores keep their input order.
 */
import { GearSegError } from "../util/errors.js";

function order(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  // Stable: ties keep input order.
  return idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

function check(boxes: ArrayLike<number>, scores: ArrayLike<number>, what: string): void {
  if (boxes.length !== scores.length * 4) {
    throw new GearSegError(`${what}: ${boxes.length} box coordinates for ${scores.length} scores (need 4 per box)`);
  }
}

function run(boxes: ArrayLike<number>, scores: ArrayLike<number>, groups: ArrayLike<number> | null, thr: number): number[] {
  const n = scores.length;
  const ord = order(scores);
  const areas = new Float64Array(n);
  for (let i = 0; i < n; i++) areas[i] = (boxes[4 * i + 2]! - boxes[4 * i]!) * (boxes[4 * i + 3]! - boxes[4 * i + 1]!);
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let a = 0; a < n; a++) {
    const i = ord[a]!;
    if (suppressed[i]) continue;
    keep.push(i);
    const ix1 = boxes[4 * i]!;
    const iy1 = boxes[4 * i + 1]!;
    const ix2 = boxes[4 * i + 2]!;
    const iy2 = boxes[4 * i + 3]!;
    const ia = areas[i]!;
    for (let b = a + 1; b < n; b++) {
      const j = ord[b]!;
      if (suppressed[j]) continue;
      if (groups !== null && groups[j] !== groups[i]) continue;
      const w = Math.max(0, Math.min(ix2, boxes[4 * j + 2]!) - Math.max(ix1, boxes[4 * j]!));
      const h = Math.max(0, Math.min(iy2, boxes[4 * j + 3]!) - Math.max(iy1, boxes[4 * j + 1]!));
      const inter = w * h;
      const ovr = inter / (ia + areas[j]! - inter);
      if (ovr > thr) suppressed[j] = 1;
    }
  }
  return keep;
}

/** Indices of the kept boxes, by descending score. `boxesXyxy` holds 4 numbers per box. */
export function nms(boxesXyxy: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): number[] {
  check(boxesXyxy, scores, "nms");
  return run(boxesXyxy, scores, null, iouThreshold);
}

/** NMS within each group (e.g. class or crop) independently; kept indices by descending score. */
export function batchedNms(
  boxesXyxy: ArrayLike<number>,
  scores: ArrayLike<number>,
  groups: ArrayLike<number>,
  iouThreshold: number,
): number[] {
  check(boxesXyxy, scores, "batchedNms");
  if (groups.length !== scores.length) throw new GearSegError(`batchedNms: ${groups.length} group ids for ${scores.length} boxes`);
  return run(boxesXyxy, scores, groups, iouThreshold);
}
