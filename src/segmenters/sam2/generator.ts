/**
 * SAM 2's automatic mask generator over any prompt model: port of `SAM2AutomaticMaskGenerator.generate`,
 * `_generate_masks` and `_process_crop` in facebookresearch/sam2 `sam2/automatic_mask_generator.py`.
 *
 * For each crop box (layer 0 = the whole image): embed the crop once, prompt the layer's point grid scaled to
 * the crop in batches (one foreground point per prompt), post-process each batch (./postprocess.ts), run box
 * NMS within the crop scored by predicted IoU, uncrop; across crops, NMS scored by 1 / crop area. The output
 * order is the reference's: NMS order (descending score) within each crop, crops in order.
 */
import type { RgbImage } from "../../image/types.js";
import { batchedNms } from "../../masks/nms.js";
import type { Region, StageContext } from "../../pipeline/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { buildAllLayerPointGrids, f32, generateCropBoxes, toModelFrame, type Xyxy } from "./amg.js";
import type { AmgParams } from "./params.js";
import { BatchPostprocessor, type BatchFrame, type Candidate, type DecodedBatch } from "./postprocess.js";

/** What the generator needs from a SAM 2 model. */
export interface PromptModel {
  /** Computes (and keeps) the embedding of an image; called once per crop. */
  setImage(image: RgbImage, ctx?: StageContext): Promise<void>;
  /**
   * Decodes `count` single-point prompts (label 1) given in the model's 1024 frame, interleaved x, y.
   * `cropH × cropW` is the size of the image passed to setImage (exports with `orig_im_size` use it).
   */
  decodePoints(points1024: Float32Array, count: number, cropH: number, cropW: number): Promise<DecodedBatch>;
  /** True when the decoder returns masks already at the crop size (exports with `orig_im_size`). */
  readonly fullSizeMasks?: boolean;
}

export interface BatchProcessor {
  process(batch: DecodedBatch, points: ArrayLike<number>, frame: BatchFrame, params: AmgParams): Candidate[] | Promise<Candidate[]>;
}

export interface GeneratorTimings {
  /** Milliseconds inside ONNX sessions (encoder + decoder), summed over calls. */
  modelMs: number;
  encoderMs: number;
  decoderMs: number;
  /** Milliseconds of post-processing (everything outside the sessions except preprocessing). */
  postMs: number;
  /** Wall-clock milliseconds of the whole call. */
  totalMs: number;
  /** Masks decoded, and masks that survived each crop's filters before NMS. */
  decodedMasks: number;
  candidates: number;
}

export interface GenerateOptions extends StageContext {
  /** The batch post-processor: the fused, skipping kernel by default (./postprocess.ts), or a pool of them
   * (./pool.ts); the tests pass the step-for-step port of the reference here. */
  postprocess?: BatchProcessor;
  timings?: GeneratorTimings;
  /** Decode the next batch while this one is post-processed (default true). Off, the timings of the sessions
   * and of post-processing do not overlap (benchmarks). */
  overlap?: boolean;
}

export function emptyTimings(): GeneratorTimings {
  return { modelMs: 0, encoderMs: 0, decoderMs: 0, postMs: 0, totalMs: 0, decodedMasks: 0, candidates: 0 };
}

function cropImage(image: RgbImage, [x0, y0, x1, y1]: Xyxy): RgbImage {
  if (x0 === 0 && y0 === 0 && x1 === image.width && y1 === image.height) return image;
  const w = x1 - x0;
  const h = y1 - y0;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(image.data.subarray(((y + y0) * image.width + x0) * 3, ((y + y0) * image.width + x1) * 3), y * w * 3);
  return { width: w, height: h, data, source: image.source };
}

/** Runs the automatic mask generator on one image. Regions get ids in output order (the agent renumbers). */
export async function generateMasks(model: PromptModel, image: RgbImage, params: AmgParams, options: GenerateOptions = {}): Promise<Region[]> {
  if (params.useM2m) {
    throw new UsageError("AMG use_m2m is not supported: the ONNX decoders return only the multimask outputs, not the single-mask output m2m refines");
  }
  if (model.fullSizeMasks && params.minMaskRegionArea > 0) {
    throw new UsageError(
      "min_mask_region_area > 0 needs the decoder's low-resolution masks, but this export returns full-size masks (it has orig_im_size); use an export without orig_im_size or set min_mask_region_area 0",
    );
  }
  const started = performance.now();
  const t = options.timings ?? emptyTimings();
  const processor: BatchProcessor = options.postprocess ?? new BatchPostprocessor();
  const { boxes: cropBoxes, layers } = generateCropBoxes(image.height, image.width, params.cropNLayers, params.cropOverlapRatio);
  const grids = buildAllLayerPointGrids(params.pointsPerSide, params.cropNLayers, params.cropNPointsDownscaleFactor);
  const totalPoints = layers.reduce((s, l) => s + grids[l]!.length / 2, 0);
  let donePoints = 0;

  const all: { c: Candidate; crop: Xyxy }[] = [];
  for (let ci = 0; ci < cropBoxes.length; ci++) {
    const crop = cropBoxes[ci]!;
    const cropW = crop[2] - crop[0];
    const cropH = crop[3] - crop[1];
    if (cropW <= 0 || cropH <= 0) throw new GearSegError(`image "${image.source ?? "image"}" is empty (${image.width}×${image.height})`);
    options.signal?.throwIfAborted();
    const e0 = performance.now();
    await model.setImage(cropImage(image, crop), options);
    const e1 = performance.now();
    t.encoderMs += e1 - e0;
    t.modelMs += e1 - e0;

    const grid = grids[layers[ci]!]!;
    const nPoints = grid.length / 2;
    // points_for_image = grid · (w, h) in float64, then a float32 tensor.
    const points = new Float32Array(nPoints * 2);
    for (let i = 0; i < nPoints; i++) {
      points[2 * i] = grid[2 * i]! * cropW;
      points[2 * i + 1] = grid[2 * i + 1]! * cropH;
    }
    const frame: BatchFrame = { crop, imageH: image.height, imageW: image.width };
    const batches: [number, number][] = [];
    for (let s = 0; s < nPoints; s += params.pointsPerBatch) batches.push([s, Math.min(nPoints, s + params.pointsPerBatch)]);

    const decode = (s: number, e: number) => {
      const count = e - s;
      const p1024 = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        p1024[2 * i] = toModelFrame(points[2 * (s + i)]!, cropW);
        p1024[2 * i + 1] = toModelFrame(points[2 * (s + i) + 1]!, cropH);
      }
      const d0 = performance.now();
      return model.decodePoints(p1024, count, cropH, cropW).then((batch) => {
        const dt = performance.now() - d0;
        t.decoderMs += dt;
        t.modelMs += dt;
        return batch;
      });
    };

    const cropCandidates: Candidate[] = [];
    // The next batch decodes (on ONNX Runtime's threads) while this one is post-processed.
    let pending = batches.length ? decode(...batches[0]!) : null;
    for (let b = 0; b < batches.length; b++) {
      options.signal?.throwIfAborted();
      const batch = await pending!;
      const overlap = options.overlap !== false;
      pending = overlap && b + 1 < batches.length ? decode(...batches[b + 1]!) : null;
      pending?.catch(() => undefined); // surfaced when awaited
      const [s, e] = batches[b]!;
      if (batch.iou.length !== (e - s) * batch.masksPerPrompt) {
        throw new GearSegError(`SAM 2 decoder returned ${batch.iou.length} IoU scores for ${e - s} prompts × ${batch.masksPerPrompt} masks`);
      }
      t.decodedMasks += batch.iou.length;
      const p0 = performance.now();
      const got = await processor.process(batch, points.subarray(2 * s, 2 * e), frame, params);
      t.postMs += performance.now() - p0;
      for (const c of got) cropCandidates.push(c);
      if (!overlap && b + 1 < batches.length) pending = decode(...batches[b + 1]!);
      donePoints += e - s;
      options.onProgress?.(donePoints, totalPoints);
    }

    const p0 = performance.now();
    t.candidates += cropCandidates.length;
    // Duplicates within this crop: batched_nms with one category, scored by predicted IoU.
    const boxes = new Float64Array(cropCandidates.length * 4);
    const scores = new Float64Array(cropCandidates.length);
    cropCandidates.forEach((c, i) => {
      boxes.set(c.box, 4 * i);
      scores[i] = c.iou;
    });
    const keep = batchedNms(boxes, scores, new Int32Array(cropCandidates.length), params.boxNmsThresh);
    for (const i of keep) {
      const c = cropCandidates[i]!;
      // Return to the image frame.
      c.box = [c.box[0] + crop[0], c.box[1] + crop[1], c.box[2] + crop[0], c.box[3] + crop[1]];
      c.point = [f32(c.point[0] + crop[0]), f32(c.point[1] + crop[1])];
      all.push({ c, crop });
    }
    t.postMs += performance.now() - p0;
  }

  const p0 = performance.now();
  let final = all;
  if (cropBoxes.length > 1) {
    // Prefer masks from smaller crops: score 1 / crop area (float32, as torch).
    const boxes = new Float64Array(all.length * 4);
    const scores = new Float64Array(all.length);
    all.forEach(({ c, crop }, i) => {
      boxes.set(c.box, 4 * i);
      scores[i] = f32(1 / ((crop[2] - crop[0]) * (crop[3] - crop[1])));
    });
    final = batchedNms(boxes, scores, new Int32Array(all.length), params.cropNmsThresh).map((i) => all[i]!);
  }
  const regions: Region[] = final.map(({ c, crop }, id) => ({
    id,
    rle: c.rle,
    // COCO's toBbox of the mask (the reference's box_xyxy_to_xywh of the inclusive box is one pixel narrower).
    bbox: c.area > 0 ? [c.box[0], c.box[1], c.box[2] - c.box[0] + 1, c.box[3] - c.box[1] + 1] : [0, 0, 0, 0],
    area: c.area,
    predictedIou: c.iou,
    stabilityScore: c.stability,
    pointCoords: [[c.point[0], c.point[1]]],
    cropBox: [crop[0], crop[1], crop[2] - crop[0], crop[3] - crop[1]],
  }));
  t.postMs += performance.now() - p0;
  t.totalMs += performance.now() - started;
  return regions;
}
