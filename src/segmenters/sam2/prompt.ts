/**
 * Interactive SAM 2: one object from clicks and/or a box on an image whose embedding is computed once and
 * kept, as `SAM2ImagePredictor.set_image` + `predict` in facebookresearch/sam2 `sam2/sam2_image_predictor.py`:
 *
 * - coordinates go to the model's 1024 frame (`SAM2Transforms.transform_coords`, normalize=True);
 * - a box becomes its two corners with labels 2 and 3, placed before the clicks (`_predict`'s concat_points);
 *   clicks keep their labels (1 on the object, 0 not on it);
 * - the ONNX exports return only the multimask outputs, so the mask with the highest predicted IoU is taken
 *   (what `predict(multimask_output=True)` users pick), upscaled bilinearly to the image and thresholded at 0
 *   (`postprocess_masks`, mask_threshold 0.0; hole filling is off by default there too).
 *
 * The exports differ from the PyTorch model in one way we cannot change: their decoders append a padding
 * point to every prompt, also when a box is given.
 */
import type { RgbImage } from "../../image/types.js";
import { toBbox } from "../../masks/index.js";
import type { Region, RegionPrompt, StageContext } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { toModelFrame } from "./amg.js";
import type { OnnxSam2Model, Sam2Embedding } from "./onnx-model.js";
import { UpscaleKernel, kernelFrame } from "./upscale.js";

const BOX_TOP_LEFT = 2;
const BOX_BOTTOM_RIGHT = 3;

export class Sam2Prompter {
  /** Embeddings of the most recent images (about 17 MB each), most recently used last. */
  private readonly embeddings = new Map<RgbImage, Promise<Sam2Embedding>>();
  private readonly kernel = new UpscaleKernel();

  constructor(
    private readonly model: OnnxSam2Model,
    private readonly keep = 4,
  ) {}

  /** How many image embeddings were computed (one per image while it stays among the kept ones). */
  embedded = 0;

  async segment(image: RgbImage, prompt: RegionPrompt, ctx?: StageContext): Promise<Region> {
    const { points, labels } = promptPoints(image, prompt);
    const embedding = await this.embedding(image);
    ctx?.signal?.throwIfAborted();
    const batch = await this.model.decodePrompt(embedding, points, labels);
    ctx?.signal?.throwIfAborted();
    let best = 0;
    for (let k = 1; k < batch.masksPerPrompt; k++) if (batch.iou[k]! > batch.iou[best]!) best = k;
    const frame = kernelFrame(batch.lowH, batch.lowW, [0, 0, image.width, image.height], image.height, image.width);
    const stats = this.kernel.run(batch.lowRes, best * batch.lowH * batch.lowW, frame, 0, 0);
    if (stats.area === 0) throw new UsageError("SAM 2 found no object for this prompt: click inside the object or draw a box around it");
    const rle = this.kernel.rle(image.height, image.width);
    const clicks = (prompt.points ?? []).filter((p) => p.label === 1).map((p): [number, number] => [p.x, p.y]);
    return {
      id: 0,
      rle,
      bbox: toBbox(rle),
      area: stats.area,
      predictedIou: batch.iou[best]!,
      ...(clicks.length > 0 && { pointCoords: clicks }),
    };
  }

  private embedding(image: RgbImage): Promise<Sam2Embedding> {
    let p = this.embeddings.get(image);
    if (p) {
      this.embeddings.delete(image);
    } else {
      this.embedded++;
      p = this.model.embed(image);
      p.catch(() => this.embeddings.delete(image));
    }
    this.embeddings.set(image, p);
    while (this.embeddings.size > this.keep) this.embeddings.delete(this.embeddings.keys().next().value!);
    return p;
  }
}

/** The prompt as the decoder takes it: 1024-frame coordinates and SAM 2's labels, the box's corners first. */
export function promptPoints(image: RgbImage, prompt: RegionPrompt): { points: Float32Array; labels: number[] } {
  const { width: w, height: h } = image;
  const xy: number[] = [];
  const labels: number[] = [];
  const inside = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && x >= 0 && y >= 0 && x <= w && y <= h;
  if (prompt.box) {
    const [x0, y0, x1, y1] = prompt.box;
    if (!inside(x0, y0) || !inside(x1, y1)) throw new UsageError(`the box [${prompt.box.join(", ")}] is not inside the ${w}×${h} image`);
    if (!(x1 > x0 && y1 > y0)) throw new UsageError(`the box [${prompt.box.join(", ")}] is empty: give [x0, y0, x1, y1] with x1 > x0 and y1 > y0`);
    xy.push(x0, y0, x1, y1);
    labels.push(BOX_TOP_LEFT, BOX_BOTTOM_RIGHT);
  }
  for (const p of prompt.points ?? []) {
    if (!inside(p.x, p.y)) throw new UsageError(`the point (${p.x}, ${p.y}) is not inside the ${w}×${h} image`);
    if (p.label !== 0 && p.label !== 1) throw new UsageError(`a point's label is 1 (on the object) or 0 (not on it), got ${String(p.label)}`);
    xy.push(p.x, p.y);
    labels.push(p.label);
  }
  if (labels.length === 0) throw new UsageError("give points, a box, or both");
  if (!labels.some((l) => l !== 0)) throw new UsageError("give at least one point on the object (label 1) or a box");
  const points = new Float32Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    points[i] = toModelFrame(xy[i]!, w);
    points[i + 1] = toModelFrame(xy[i + 1]!, h);
  }
  return { points, labels };
}
