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
   * `points` are the batch's prompt points in the crop frame, interleaved x, y (float32 values). When `batch`
   * holds only part of a batch's masks (a worker's share), `maskOffset` is the index of its first mask.
   */
  process(batch: DecodedBatch, points: ArrayLike<number>, f: BatchFrame, p: AmgParams, maskOffset = 0): Candidate[] {
    const { lowRes, lowH, lowW, iou, masksPerPrompt } = batch;
    const frame = this.frameFor(lowH, lowW, f);
    const plane = lowH * lowW;
    const iouThresh = f32(p.predIouThresh);
    const stabThresh = f32(p.stabilityScoreThresh);
    const origBox: Xyxy = [0, 0, f.imageW, f.imageH];
    const out: Candidate[] = [];
    const n = iou.length;
    for (let m = 0; m < n; m++) {
      if (p.predIouThresh > 0 && !(iou[m]! > iouThresh)) continue;
      const offset = m * plane;
      if (p.minMaskRegionArea > 0) {
        this.labeler.fill(lowRes, offset, lowH, lowW, p.maskThreshold, p.minMaskRegionArea, p.minMaskRegionArea);
      }
      const s = this.kernel.run(lowRes, offset, frame, p.maskThreshold, p.stabilityScoreOffset, p.stabilityScoreThresh > 0 ? stabThresh : 0);
      if (!s) continue; // cannot reach the stability threshold
      const stability = stabilityFromCounts(s.intersections, s.unions);
      if (p.stabilityScoreThresh > 0 && !(stability >= stabThresh)) continue;
      if (isBoxNearCropEdge(s.box, f.crop, origBox)) continue;
      const prompt = Math.floor((m + maskOffset) / masksPerPrompt);
      out.push({
        rle: this.kernel.rle(f.imageH, f.imageW),
        area: s.area,
        box: s.box,
        iou: iou[m]!,
        stability,
        point: [points[2 * prompt]!, points[2 * prompt + 1]!],
      });
    }
    return out;
  }
}
