/**
 * Post-processing of one batch of decoder outputs, as `SAM2AutomaticMaskGenerator._process_batch` in
 * facebookresearch/sam2 `sam2/automatic_mask_generator.py` (with `_predict`'s `postprocess_masks` from
 * `sam2/sam2_image_predictor.py` / `sam2/utils/transforms.py`):
 *
 *   flatten (prompt-major, K masks each) → IoU filter (iou > thresh) → hole/sprinkle removal on the
 *   low-resolution logits → bilinear upscale to the crop → stability (≥ thresh) → binarise (> mask threshold)
 *   → box → drop boxes near crop edges → uncrop → RLE.
 *
 * Two orders differ from the reference and give the same result: the IoU filter runs first (the predicted
 * IoU does not depend on the logits' post-processing, so filtering earlier only skips work), and the
 * upscale, stability, box and RLE are one fused pass (./upscale.ts) that skips pixels that cannot count.
 */
import type { Rle } from "../../masks/types.js";
import { f32, isBoxNearCropEdge, stabilityFromCounts, type Xyxy } from "./amg.js";
import { RunLabeler } from "./holes.js";
import type { AmgParams } from "./params.js";
import { UpscaleKernel, kernelFrame, type KernelFrame } from "./upscale.js";

/** Decoder output for one batch of point prompts. */
export interface DecodedBatch {
  /** prompts × K maps of lowH × lowW logits, prompt-major. */
  lowRes: Float32Array;
  lowH: number;
  lowW: number;
  /** prompts × K predicted IoUs. */
  iou: Float32Array;
  masksPerPrompt: number;
}

/** One mask that survived a batch's filters. */
export interface Candidate {
  rle: Rle;
  area: number;
  /** Inclusive box in the crop frame. */
  box: Xyxy;
  iou: number;
  stability: number;
  /** The prompt point in the crop frame (float32, as the reference's tensor). */
  point: [number, number];
}

export interface BatchFrame {
  crop: Xyxy;
  imageH: number;
  imageW: number;
}

/** Reusable state for post-processing batches of one crop size on one thread. */
export class BatchPostprocessor {
  private readonly kernel = new UpscaleKernel();
  private readonly labeler = new RunLabeler();
  private frame: KernelFrame | null = null;
  private frameKey = "";

  private frameFor(lowH: number, lowW: number, f: BatchFrame): KernelFrame {
    const key = `${lowH},${lowW},${f.crop.join(",")},${f.imageH},${f.imageW}`;
    if (key !== this.frameKey || !this.frame) {
      this.frame = kernelFrame(lowH, lowW, f.crop, f.imageH, f.imageW);
      this.frameKey = key;
    }
    return this.frame;
  }

  /**
   * `points` are the batch's prompt points in the crop frame, interleaved x, y (float32 values). Masks are
   * post-processed in place in `batch.lowRes` (hole filling writes to it).
   */
  process(batch: DecodedBatch, points: ArrayLike<number>, f: BatchFrame, p: AmgParams): Candidate[] {
    const { lowRes, lowH, lowW, iou, masksPerPrompt } = batch;
    const plane = lowH * lowW;
    const out: Candidate[] = [];
    const n = iou.length;
    for (let m = 0; m < n; m++) {
      if (!passesIou(iou[m]!, p)) continue;
      const prompt = Math.floor(m / masksPerPrompt);
      const c = this.processMask(lowRes, m * plane, lowH, lowW, f, p, iou[m]!, points[2 * prompt]!, points[2 * prompt + 1]!);
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * One mask that passed the IoU filter: the logits `lowRes[offset .. offset + lowH·lowW)` (changed in place
   * when holes are filled), its predicted IoU and its prompt point. Null when a later filter drops it.
   */
  processMask(lowRes: Float32Array, offset: number, lowH: number, lowW: number, f: BatchFrame, p: AmgParams, iou: number, x: number, y: number): Candidate | null {
    const frame = this.frameFor(lowH, lowW, f);
    const stabThresh = f32(p.stabilityScoreThresh);
    if (p.minMaskRegionArea > 0) {
      this.labeler.fill(lowRes, offset, lowH, lowW, p.maskThreshold, p.minMaskRegionArea, p.minMaskRegionArea);
    }
    const s = this.kernel.run(lowRes, offset, frame, p.maskThreshold, p.stabilityScoreOffset, p.stabilityScoreThresh > 0 ? stabThresh : 0);
    if (!s) return null; // cannot reach the stability threshold
    const stability = stabilityFromCounts(s.intersections, s.unions);
    if (p.stabilityScoreThresh > 0 && !(stability >= stabThresh)) return null;
    if (isBoxNearCropEdge(s.box, f.crop, [0, 0, f.imageW, f.imageH])) return null;
    return { rle: this.kernel.rle(f.imageH, f.imageW), area: s.area, box: s.box, iou, stability, point: [x, y] };
  }
}

/** The predicted-IoU filter: iou > thresh (as float32); none when thresh ≤ 0. */
export function passesIou(iou: number, p: AmgParams): boolean {
  return !(p.predIouThresh > 0) || iou > f32(p.predIouThresh);
}
