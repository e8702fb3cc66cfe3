/**
 * The NanoDet TF.js graph model on TensorFlow.js's WebAssembly backend (SIMD; in Node it runs on one thread).
 * TF.js keeps one backend per process: it is set up once, lazily, so that a run without the detector never
 * loads TensorFlow.js. The model is read from its files (model.json topology + the weights file) and kept
 * for every image the detector sees.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import type { GraphModel } from "@tensorflow/tfjs-converter";
import { GearSegError } from "../../util/errors.js";
import type { NanodetLevel } from "./decode.js";

type Tf = typeof import("@tensorflow/tfjs-core");

let runtime: Promise<{ tf: Tf; loadGraphModel: typeof import("@tensorflow/tfjs-converter").loadGraphModel }> | null = null;

function tfWasm() {
  runtime ??= (async () => {
    // TF.js ships CommonJS bundles of a megabyte or more each: require() compiles them, while import() of a
    // CommonJS module first has Node scan its whole source for export names (about 5x the time, measured).
    const require = createRequire(import.meta.url);
    const tf = require("@tensorflow/tfjs-core") as Tf;
    const { loadGraphModel } = require("@tensorflow/tfjs-converter") as typeof import("@tensorflow/tfjs-converter");
    require("@tensorflow/tfjs-backend-wasm");
    if (!(await tf.setBackend("wasm"))) throw new GearSegError("TensorFlow.js: the WebAssembly backend did not start");
    await tf.ready();
    return { tf, loadGraphModel };
  })();
  runtime.catch(() => {
    runtime = null;
  });
  return runtime;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  signature?: { inputs?: Record<string, SignatureEntry>; outputs?: Record<string, SignatureEntry> };
}

interface SignatureEntry {
  name?: string;
  tensorShape?: { dim?: { size?: string }[] };
}

/** Tensor names and shapes as the model's signature declares them (the graph's own tensors carry no shapes). */
function signatureShapes(entries: Record<string, SignatureEntry> | undefined): { name: string; shape: number[] }[] {
  return Object.entries(entries ?? {}).map(([key, e]) => ({
    name: (e.name ?? key).replace(/:0$/, ""),
    shape: (e.tensorShape?.dim ?? []).map((d) => Number(d.size ?? -1)),
  }));
}

/** One output level's two tensors, by name. */
interface LevelOutputs {
  stride: number;
  scores: string;
  distances: string;
}

export interface NanodetGraph {
  /** The square input side (416 for NanoDet-g). */
  inputSize: number;
  classes: number;
  /** Number of bins per distance (reg_max + 1). */
  bins: number;
  run(input: Float32Array): Promise<NanodetLevel[]>;
  dispose(): void;
}

/**
 * Loads `model.json` (and the weight files it names, beside it) and checks that its outputs are NanoDet's:
 * per level [1, cells, classes] scores and [1, cells, 4·bins] distances, cells = (inputSize / stride)².
 */
export async function loadNanodetGraph(modelJsonPath: string, classes: number): Promise<NanodetGraph> {
  const name = basename(modelJsonPath);
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, "utf8")) as ModelJson;
  } catch (err) {
    throw new GearSegError(`cannot read detector model "${modelJsonPath}": ${(err as Error).message}`, { cause: err });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new GearSegError(`detector model "${modelJsonPath}" is not a TF.js graph model`);
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) buffers.push(await readFile(join(dirname(modelJsonPath), p)));
  // One file read whole is its own ArrayBuffer: handed over as it is (two copies of 7.5 MB less).
  const weights = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
  const whole = weights.byteOffset === 0 && weights.byteLength === weights.buffer.byteLength;
  const weightData = (whole ? weights.buffer : weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength)) as ArrayBuffer;
  const { tf, loadGraphModel } = await tfWasm();
  let model: GraphModel;
  try {
    model = await loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: weightSpecs as never, weightData }));
  } catch (err) {
    throw new GearSegError(`cannot load detector model "${name}": ${(err as Error).message}`, { cause: err });
  }
  const inputs = signatureShapes(json.signature?.inputs);
  const outputs = signatureShapes(json.signature?.outputs);
  const input = inputs[0];
  const inputSize = input?.shape[3] ?? 0;
  if (inputs.length !== 1 || input?.shape.length !== 4 || input.shape[1] !== 3 || input.shape[2] !== inputSize || inputSize <= 0) {
    model.dispose();
    throw new GearSegError(`detector model "${name}": expected one [1, 3, S, S] input, got ${JSON.stringify(inputs.map((i) => i.shape))}`);
  }
  const levels = new Map<number, Partial<LevelOutputs>>();
  let bins = 0;
  for (const out of outputs) {
    const [, cells, channels] = out.shape;
    const side = Math.round(Math.sqrt(cells ?? 0));
    if (!cells || !channels || side * side !== cells || inputSize % side !== 0) continue;
    const level = levels.get(cells) ?? { stride: inputSize / side };
    if (channels === classes) level.scores = out.name;
    else if (channels % 4 === 0) {
      level.distances = out.name;
      bins = channels / 4;
    }
    levels.set(cells, level);
  }
  const complete = [...levels.values()].filter((l): l is LevelOutputs => l.scores !== undefined && l.distances !== undefined);
  if (complete.length === 0 || complete.length !== outputs.length / 2) {
    model.dispose();
    throw new GearSegError(`detector model "${name}": outputs ${JSON.stringify(outputs.map((o) => o.shape))} are not NanoDet's (${classes} class scores and 4 distance distributions per level)`);
  }
  complete.sort((a, b) => a.stride - b.stride);
  const names = complete.flatMap((l) => [l.scores, l.distances]);
  return {
    inputSize,
    classes,
    bins,
    async run(data: Float32Array): Promise<NanodetLevel[]> {
      const x = tf.tensor4d(data, [1, 3, inputSize, inputSize], "float32");
      try {
        const outs = model.execute(x, names) as import("@tensorflow/tfjs-core").Tensor[];
        try {
          const values = await Promise.all(outs.map((t) => t.data<"float32">()));
          return complete.map((l, i) => ({ stride: l.stride, scores: values[2 * i] as Float32Array, distances: values[2 * i + 1] as Float32Array }));
        } finally {
          tf.dispose(outs);
        }
      } finally {
        x.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}
