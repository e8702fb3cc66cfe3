/**
 * The straightforward port of `_process_batch` (facebookresearch/sam2 `sam2/automatic_mask_generator.py`),
 * step for step as the reference runs it: every mask's logits are post-processed and upscaled to the full
 * crop size first (inside `_predict`), then filtered by predicted IoU and stability, binarised, boxed,
 * edge-filtered, padded to the image (`uncrop_masks`) and run-length encoded.
 *
 * It is the oracle the fast path (src/segmenters/sam2/postprocess.ts) is tested against, and the baseline of
 * bench/sam2.bench.js. A test oracle, not a choice users have: pass it to `generateMasks` as `postprocess`.
 */
import { resizeBilinear } from "../../src/masks/resize.js";
import { encode } from "../../src/masks/rle.js";
import { calculateStabilityScore, f32, isBoxNearCropEdge, maskToBox, type Xyxy } from "../../src/segmenters/sam2/amg.js";
import { RunLabeler } from "../../src/segmenters/sam2/holes.js";
import type { AmgParams } from "../../src/segmenters/sam2/params.js";
import type { BatchFrame, Candidate, DecodedBatch } from "../../src/segmenters/sam2/postprocess.js";

export class ReferenceBatchPostprocessor {
  private readonly labeler = new RunLabeler();

  process(batch: DecodedBatch, points: ArrayLike<number>, f: BatchFrame, p: AmgParams): Candidate[] {
    const { lowH, lowW, iou, masksPerPrompt } = batch;
    const lowRes = batch.lowRes.slice();
    const plane = lowH * lowW;
    const [cx0, cy0, cx1, cy1] = f.crop;
    const cropW = cx1 - cx0;
    const cropH = cy1 - cy0;
    const n = iou.length;
    // _predict: post-process and upscale every mask of the batch.
    const upscaled: Float32Array[] = [];
    for (let m = 0; m < n; m++) {
      if (p.minMaskRegionArea > 0) this.labeler.fill(lowRes, m * plane, lowH, lowW, p.maskThreshold, p.minMaskRegionArea, p.minMaskRegionArea);
      upscaled.push(resizeBilinear(lowRes.subarray(m * plane, (m + 1) * plane), lowH, lowW, cropH, cropW));
    }
    const origBox: Xyxy = [0, 0, f.imageW, f.imageH];
    const out: Candidate[] = [];
    for (let m = 0; m < n; m++) {
      if (p.predIouThresh > 0 && !(iou[m]! > f32(p.predIouThresh))) continue;
      const logits = upscaled[m]!;
      const stability = calculateStabilityScore(logits, p.maskThreshold, p.stabilityScoreOffset);
      if (p.stabilityScoreThresh > 0 && !(stability >= f32(p.stabilityScoreThresh))) continue;
      const bin = new Uint8Array(cropH * cropW);
      let area = 0;
      for (let i = 0; i < bin.length; i++) {
        if (logits[i]! > p.maskThreshold) {
          bin[i] = 1;
          area++;
        }
      }
      const box = maskToBox(bin, cropH, cropW);
      if (isBoxNearCropEdge(box, f.crop, origBox)) continue;
      const full = new Uint8Array(f.imageH * f.imageW);
      for (let y = 0; y < cropH; y++) full.set(bin.subarray(y * cropW, (y + 1) * cropW), (y + cy0) * f.imageW + cx0);
      const prompt = Math.floor(m / masksPerPrompt);
      out.push({
        rle: encode({ height: f.imageH, width: f.imageW, data: full }),
        area,
        box,
        iou: iou[m]!,
        stability,
        point: [points[2 * prompt]!, points[2 * prompt + 1]!],
      });
    }
    return out;
  }
}
