/**
 * The geometric steps of SAM 2's automatic mask generator: point grids, crop boxes, the crop-edge filter,
 * uncropping, the stability score and the mask → box rule.
 *
 * Port of facebookresearch/sam2 `sam2/utils/amg.py` (build_point_grid, build_all_layer_point_grids,
 * generate_crop_boxes, is_box_near_crop_edge, uncrop_boxes_xyxy, uncrop_points, calculate_stability_score,
 * batched_mask_to_box). Float32 rounding is reproduced where torch computes in float32 (Math.fround).
 */
import { maskBbox } from "../../masks/bbox.js";

const f32 = Math.fround;

/** A box as [x0, y0, x1, y1]: crop boxes are half-open (x1, y1 exclusive), mask boxes inclusive. */
export type Xyxy = [number, number, number, number];

/**
 * `n × n` points evenly spaced in [0,1]², row by row (x varies fastest), at
 * linspace(1/(2n), 1 − 1/(2n), n) — numpy's linspace: start + i·step, the last point exactly the stop.
 * Returned as interleaved [x0, y0, x1, y1, ...] (float64, as numpy).
 */
export function buildPointGrid(n: number): Float64Array {
  const offset = 1 / (2 * n);
  const side = new Float64Array(n);
  if (n === 1) side[0] = offset;
  else {
    const step = (1 - offset - offset) / (n - 1);
    for (let i = 0; i < n; i++) side[i] = i * step + offset;
    side[n - 1] = 1 - offset;
  }
  const out = new Float64Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      out[2 * (r * n + c)] = side[c]!;
      out[2 * (r * n + c) + 1] = side[r]!;
    }
  }
  return out;
}

/** One grid per crop layer: layer i has int(n / scale^i) points per side. */
export function buildAllLayerPointGrids(n: number, nLayers: number, scalePerLayer: number): Float64Array[] {
  const grids: Float64Array[] = [];
  for (let i = 0; i <= nLayers; i++) grids.push(buildPointGrid(Math.trunc(n / scalePerLayer ** i)));
  return grids;
}

export interface CropBoxes {
  /** Half-open [x0, y0, x1, y1] boxes; the first is the whole image. */
  boxes: Xyxy[];
  layers: number[];
}

/**
 * Layer 0 is the whole image; layer i (1-based) has 2^i crops per side overlapping by
 * int(overlapRatio · shortSide · 2 / 2^i) pixels, each int(ceil((overlap·(n−1) + len) / n)) long, listed
 * x-major (all y for the first x0, then the next x0), clipped to the image.
 */
export function generateCropBoxes(imH: number, imW: number, nLayers: number, overlapRatio: number): CropBoxes {
  const boxes: Xyxy[] = [[0, 0, imW, imH]];
  const layers = [0];
  const shortSide = Math.min(imH, imW);
  const cropLen = (len: number, n: number, overlap: number) => Math.trunc(Math.ceil((overlap * (n - 1) + len) / n));
  for (let layer = 0; layer < nLayers; layer++) {
    const perSide = 2 ** (layer + 1);
    const overlap = Math.trunc(overlapRatio * shortSide * (2 / perSide));
    const cropW = cropLen(imW, perSide, overlap);
    const cropH = cropLen(imH, perSide, overlap);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < perSide; i++) {
      xs.push(Math.trunc((cropW - overlap) * i));
      ys.push(Math.trunc((cropH - overlap) * i));
    }
    for (const x0 of xs) {
      for (const y0 of ys) {
        boxes.push([x0, y0, Math.min(x0 + cropW, imW), Math.min(y0 + cropH, imH)]);
        layers.push(layer + 1);
      }
    }
  }
  return { boxes, layers };
}

/**
 * True when a box (crop frame, inclusive) lies within `atol` of an edge of its crop that is not also an
 * edge of the image: torch.isclose(a, b, atol, rtol=0) is |a − b| ≤ atol.
 */
export function isBoxNearCropEdge(box: Xyxy, cropBox: Xyxy, origBox: Xyxy, atol = 20): boolean {
  const [cx0, cy0] = cropBox;
  const uncropped = [box[0] + cx0, box[1] + cy0, box[2] + cx0, box[3] + cy0];
  for (let k = 0; k < 4; k++) {
    const nearCrop = Math.abs(uncropped[k]! - cropBox[k]!) <= atol;
    const nearImage = Math.abs(uncropped[k]! - origBox[k]!) <= atol;
    if (nearCrop && !nearImage) return true;
  }
  return false;
}

/**
 * |logits > t + offset| / |logits > t − offset| as float32 (torch's int32 / int32 true division); 0/0 is NaN,
 * which fails every threshold, as in the reference.
 */
export function stabilityFromCounts(intersections: number, unions: number): number {
  return f32(intersections / unions);
}

/** The reference's stability score over a full logits map (the straightforward form). */
export function calculateStabilityScore(logits: ArrayLike<number>, maskThreshold: number, offset: number): number {
  const hi = maskThreshold + offset;
  const lo = maskThreshold - offset;
  let inter = 0;
  let union = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > hi) inter++;
    if (v > lo) union++;
  }
  return stabilityFromCounts(inter, union);
}

/** Inclusive [x0, y0, x1, y1] around the set pixels of a row-major mask; [0, 0, 0, 0] when empty. */
export function maskToBox(mask: Uint8Array, h: number, w: number): Xyxy {
  const box = maskBbox({ height: h, width: w, data: mask });
  return box ? [box[0], box[1], box[0] + box[2] - 1, box[1] + box[3] - 1] : [0, 0, 0, 0];
}

/** The 1024-frame coordinate the model sees for a crop-frame point: (p / len) · 1024 in float32. */
export function toModelFrame(p: number, len: number, resolution = 1024): number {
  return f32(f32(f32(p) / len) * resolution);
}

export { f32 };
