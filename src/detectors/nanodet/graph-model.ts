/**
 * The NanoDet graph model, published as a TF.js graph model (model.json topology + weights), on one of two
 * runtimes, both loaded lazily so that a run without the detector loads neither:
 * - "onnx" (default): the graph rewritten as ONNX (./tfjs-to-onnx.ts) on ONNX Runtime, whose convolutions run
 *   several times faster than the WebAssembly kernels and off the JavaScript thread;
 * - "tfjs": TensorFlow.js's WebAssembly backend (SIMD; in Node on one thread), which runs wherever Node runs.
 * Both are checked against each other in the tests. The model is read once and kept for every image.
 */
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import type { GraphModel } from "@tensorflow/tfjs-converter";
import type { InferenceSession } from "onnxruntime-node";
import { fileHasSha256 } from "../../models/store.js";
import { GearSegError } from "../../util/errors.js";
import { makeDir, pathExists, sha256File, temporarySibling } from "../../util/fs.js";
import type { NanodetLevel } from "./decode.js";
import { tfjsGraphToOnnx, type TfjsGraphJson } from "./tfjs-to-onnx.js";

export type NanodetRuntime = "onnx" | "tfjs";

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

interface ModelJson extends TfjsGraphJson {
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

/** What a runtime executes: input in, the named outputs' values out. */
interface Executor {
  run(input: Float32Array): Promise<Float32Array[]>;
  dispose(): void;
}

async function tfjsExecutor(json: ModelJson, weights: Buffer, name: string, inputSize: number, outputNames: readonly string[]): Promise<Executor> {
  // One file read whole is its own ArrayBuffer: handed over as it is (two copies of 7.5 MB less).
  const whole = weights.byteOffset === 0 && weights.byteLength === weights.buffer.byteLength;
  const weightData = (whole ? weights.buffer : weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength)) as ArrayBuffer;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const { tf, loadGraphModel } = await tfWasm();
  let model: GraphModel;
  try {
    model = await loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: weightSpecs as never, weightData }));
  } catch (err) {
    throw new GearSegError(`cannot load detector model "${name}": ${(err as Error).message}`, { cause: err });
  }
  return {
    async run(data) {
      const x = tf.tensor4d(data, [1, 3, inputSize, inputSize], "float32");
      try {
        const outs = model.execute(x, [...outputNames]) as import("@tensorflow/tfjs-core").Tensor[];
        try {
          return (await Promise.all(outs.map((t) => t.data<"float32">()))) as Float32Array[];
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

type Ort = typeof import("onnxruntime-node");
let ortModule: Ort | undefined;

function loadOrt(): Ort {
  // onnxruntime-node is CommonJS: require() skips the ES-module loader's scan of it.
  ortModule ??= createRequire(import.meta.url)("onnxruntime-node") as Ort;
  return ortModule;
}

/**
 * The optimised graph kept between processes, a folder of three files: ONNX Runtime's graph, its weights in a
 * file of their own, and a record of both files' sizes and sha256. ONNX Runtime maps a weights file into
 * memory rather than copying every weight out of the graph's protobuf: creating the session took 61 ms of CPU
 * instead of 185 ms (one core, NanoDet-g's 15 MB of weights). The folder is written under a temporary name and
 * renamed into place whole, so a reader sees all three files or none.
 */
const KEPT_GRAPH = "graph.onnx";
const KEPT_WEIGHTS = "graph.weights";
const KEPT_RECORD = "record.json";

type KeptRecord = Record<string, { bytes?: unknown; sha256?: unknown } | undefined>;

/** Every file of the kept graph has the size and sha256 its record gives. */
async function keptGraphWhole(dir: string): Promise<boolean> {
  const record = await readFile(join(dir, KEPT_RECORD), "utf8")
    .then((text) => JSON.parse(text) as KeptRecord | null)
    .catch(() => undefined);
  for (const name of [KEPT_GRAPH, KEPT_WEIGHTS]) {
    const entry = record?.[name];
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!entry || !info || info.size !== entry.bytes || typeof entry.sha256 !== "string") return false;
    if (!(await fileHasSha256(path, info.size, info.mtimeMs, entry.sha256))) return false;
  }
  return true;
}

/**
 * An ONNX Runtime session of the model. The graph is converted and optimised (fusions, constant folding; not
 * the CPU-specific layouts of level "all", so the files stay valid on any machine) on the first load, and ONNX
 * Runtime's optimised graph is kept for the next processes, which load it without optimising again. The
 * folder's name carries ONNX Runtime's version, which wrote it.
 */
async function onnxSession(
  convert: () => Promise<Uint8Array>,
  name: string,
  cacheBase: string | undefined,
  threads: number | undefined,
): Promise<InferenceSession> {
  const ort = loadOrt();
  // Threads that spin while waiting for work would take the core the segmenter runs on meanwhile.
  const sessionConfig = { intra_op: { allow_spinning: "0" } };
  const options: InferenceSession.SessionOptions = {
    executionMode: "sequential",
    extra: { session: sessionConfig },
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
  const keptDir = cacheBase && `${cacheBase}.ort-${ort.env.versions.common ?? "unknown"}`;
  if (keptDir && (await keptGraphWhole(keptDir))) {
    try {
      return await ort.InferenceSession.create(join(keptDir, KEPT_GRAPH), { ...options, graphOptimizationLevel: "disabled" });
    } catch {
      // Made again below, as if it were not there.
    }
  }
  const onnx = await convert();
  const create = (extra: InferenceSession.SessionOptions) => ort.InferenceSession.create(onnx, { ...options, graphOptimizationLevel: "extended", ...extra });
  const fail = (err: unknown): never => {
    throw new GearSegError(`cannot load detector model "${name}" into ONNX Runtime: ${(err as Error).message}`, { cause: err });
  };
  if (!keptDir) return create({}).catch(fail);
  // A cache: a folder that cannot be written only means converting again next time.
  const tmp = temporarySibling(keptDir);
  let session: InferenceSession;
  try {
    await makeDir(tmp);
    session = await create({
      optimizedModelFilePath: join(tmp, KEPT_GRAPH),
      extra: { session: { ...sessionConfig, optimized_model_external_initializers_file_name: KEPT_WEIGHTS, optimized_model_external_initializers_min_size_in_bytes: "1024" } },
    });
  } catch {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    return create({}).catch(fail);
  }
  try {
    const record: KeptRecord = {};
    for (const file of [KEPT_GRAPH, KEPT_WEIGHTS]) {
      const path = join(tmp, file);
      record[file] = { bytes: (await stat(path)).size, sha256: await sha256File(path) };
    }
    await writeFile(join(tmp, KEPT_RECORD), JSON.stringify(record) + "\n");
    // A damaged folder found above is replaced; one another process has just put there stays (rename fails).
    if (await pathExists(keptDir)) await rm(keptDir, { recursive: true, force: true });
    await rename(tmp, keptDir);
    // The single-file form this cache had before (graph and weights in one .onnx beside a .onnx.json).
    await Promise.all([rm(`${keptDir}.onnx`, { force: true }), rm(`${keptDir}.onnx.json`, { force: true })]);
  } catch {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
  return session;
}

function onnxExecutor(session: InferenceSession, input: { name: string; shape: number[] }, outputs: readonly { name: string }[]): Executor {
  const ort = loadOrt();
  return {
    async run(data) {
      const feeds = { [input.name]: new ort.Tensor("float32", data, input.shape) };
      const result = await session.run(feeds);
      return outputs.map((o) => result[o.name]!.data as Float32Array);
    },
    dispose: () => void session.release(),
  };
}

export interface NanodetGraphOptions {
  runtime?: NanodetRuntime;
  /** ONNX Runtime's intra-op threads (default: its choice, one per core). */
  threads?: number;
  /** Where the ONNX conversion of this very model is kept between processes (runtime "onnx"): a path without
   * extension, which the caller names by the weights' sha256 (a changed model is never paired with an old
   * conversion). */
  onnxCacheBase?: string;
}

/**
 * Loads `model.json` (and the weight files it names, beside it) and checks that its outputs are NanoDet's:
 * per level [1, cells, classes] scores and [1, cells, 4·bins] distances, cells = (inputSize / stride)².
 */
export async function loadNanodetGraph(modelJsonPath: string, classes: number, options: NanodetGraphOptions = {}): Promise<NanodetGraph> {
  const name = basename(modelJsonPath);
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, "utf8")) as ModelJson;
  } catch (err) {
    throw new GearSegError(`cannot read detector model "${modelJsonPath}": ${(err as Error).message}`, { cause: err });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new GearSegError(`detector model "${modelJsonPath}" is not a TF.js graph model`);
  const inputs = signatureShapes(json.signature?.inputs);
  const outputs = signatureShapes(json.signature?.outputs);
  const input = inputs[0];
  const inputSize = input?.shape[3] ?? 0;
  if (inputs.length !== 1 || input?.shape.length !== 4 || input.shape[1] !== 3 || input.shape[2] !== inputSize || inputSize <= 0) {
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
    throw new GearSegError(`detector model "${name}": outputs ${JSON.stringify(outputs.map((o) => o.shape))} are not NanoDet's (${classes} class scores and 4 distance distributions per level)`);
  }
  complete.sort((a, b) => a.stride - b.stride);
  const names = complete.flatMap((l) => [l.scores, l.distances]);
  const readWeights = async () => {
    const buffers: Buffer[] = [];
    for (const group of json.weightsManifest) for (const p of group.paths) buffers.push(await readFile(join(dirname(modelJsonPath), p)));
    return buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
  };
  let executor: Executor;
  if (options.runtime === "tfjs") executor = await tfjsExecutor(json, await readWeights(), name, inputSize, names);
  else {
    const ends = { inputs: [input], outputs: names.map((n) => outputs.find((o) => o.name === n)!) };
    const session = await onnxSession(async () => tfjsGraphToOnnx(json, await readWeights(), ends, name), name, options.onnxCacheBase, options.threads);
    executor = onnxExecutor(session, input, ends.outputs);
  }
  return {
    inputSize,
    classes,
    bins,
    async run(data: Float32Array): Promise<NanodetLevel[]> {
      const values = await executor.run(data);
      return complete.map((l, i) => ({ stride: l.stride, scores: values[2 * i]!, distances: values[2 * i + 1]! }));
    },
    dispose: () => executor.dispose(),
  };
}
