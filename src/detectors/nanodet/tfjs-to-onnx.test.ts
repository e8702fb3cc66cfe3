// The converter against TensorFlow.js itself: a small graph in the onnx-tf export style of the published NanoDet
// (NCHW tensors, transposes around NHWC convolutions and pooling, float16-quantised filters, integer side
// computations for shapes, a cast folded, Mul/Sub/Relu), run by TF.js's WebAssembly backend and, converted, by ONNX Runtime: the outputs
// must agree to float rounding. Then what the converter refuses, by name.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { tfjsGraphToOnnx, type TfjsGraphJson, type TfjsNode, type TfjsWeightSpec } from "./tfjs-to-onnx.js";

const require = createRequire(import.meta.url);

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** float32 → float16 bits (round to nearest even; the test values are in the normal range). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (v === 0) return sign;
  const mant = x & 0x7fffff;
  let h = sign | (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

/** A TF.js graph model under construction: nodes, and the weights with their bytes. */
class GraphBuilder {
  readonly nodes: TfjsNode[] = [];
  readonly specs: TfjsWeightSpec[] = [];
  private readonly chunks: Buffer[] = [];
  /** The float values as TF.js will see them (float16 ones rounded). */
  private seed = 1;

  random(n: number, scale = 1): number[] {
    return Array.from({ length: n }, () => {
      this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
      return (this.seed / 2147483648 - 0.5) * 2 * scale;
    });
  }

  constFloat(name: string, shape: number[], values: number[], half = false): string {
    const dim = shape.map((d) => ({ size: String(d) }));
    this.nodes.push({ name, op: "Const", attr: { dtype: { type: "DT_FLOAT" }, value: { tensor: { dtype: "DT_FLOAT", tensorShape: { dim } } } as never } });
    if (half) {
      const buf = Buffer.alloc(2 * values.length);
      values.forEach((v, k) => buf.writeUInt16LE(toHalf(v), 2 * k));
      this.chunks.push(buf);
      this.specs.push({ name, shape, dtype: "float32", quantization: { dtype: "float16", original_dtype: "float32" } });
    } else {
      this.chunks.push(Buffer.from(new Float32Array(values).buffer));
      this.specs.push({ name, shape, dtype: "float32" });
    }
    return name;
  }

  constInt(name: string, shape: number[], values: number[]): string {
    const dim = shape.map((d) => ({ size: String(d) }));
    this.nodes.push({ name, op: "Const", attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape: { dim } } } as never } });
    this.chunks.push(Buffer.from(new Int32Array(values).buffer));
    this.specs.push({ name, shape, dtype: "int32" });
    return name;
  }

  op(name: string, op: string, input: string[], attr: TfjsNode["attr"] = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: "DT_FLOAT" }, ...attr } });
    return name;
  }

  json(): TfjsGraphJson {
    // TF.js reads the producer version from `versions`.
    const modelTopology = { node: this.nodes, versions: {}, library: {} };
    return { modelTopology, weightsManifest: [{ paths: ["w.bin"], weights: this.specs }] };
  }

  weights(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const nhwc = { s: b64("NHWC") };
const list = (...i: number[]) => ({ list: { i: i.map(String) } });

/** The test graph: input x [1, 3, 9, 9] → outputs "scores" [1, 36, 3] and "boxes" [1, 36, 5]. */
function testGraph(): { g: GraphBuilder; inputs: { name: string; shape: number[] }[]; outputs: { name: string; shape: number[] }[] } {
  const g = new GraphBuilder();
  g.nodes.push({ name: "x", op: "Placeholder", attr: { dtype: { type: "DT_FLOAT" } } });
  const pads1 = g.constInt("pads1", [4, 2], [0, 0, 0, 0, 1, 1, 1, 1]);
  const perm = g.constInt("perm_nhwc", [4], [0, 2, 3, 1]);
  const permBack = g.constInt("perm_nchw", [4], [0, 3, 1, 2]);
  const w1 = g.constFloat("w1", [3, 3, 3, 4], g.random(108, 0.5), true);
  const b1 = g.constFloat("b1", [4], g.random(4, 0.1));
  g.op("pad", "Pad", ["x", pads1]);
  g.op("t1", "Transpose", ["pad", perm]);
  g.op("conv1", "Conv2D", ["t1", w1], { padding: { s: b64("VALID") }, data_format: nhwc, strides: list(1, 2, 2, 1), dilations: list(1, 1, 1, 1) });
  g.op("bias1", "Add", ["conv1", b1]);
  g.op("t2", "Transpose", ["bias1", permBack]);
  g.op("relu", "LeakyRelu", ["t2"], { alpha: { f: 0.1 } });
  const pads2 = g.constInt("pads2", [4, 2], [0, 0, 0, 0, 0, 1, 0, 1]);
  const padValue = g.constFloat("pad_value", [], [-50]);
  g.op("padv2", "PadV2", ["relu", pads2, padValue]);
  g.op("t3", "Transpose", ["padv2", perm]);
  g.op("pool", "MaxPool", ["t3"], { padding: { s: b64("VALID") }, data_format: nhwc, ksize: list(1, 3, 3, 1), strides: list(1, 2, 2, 1) });
  const w2 = g.constFloat("w2", [3, 3, 4, 4], g.random(144, 0.3));
  g.op("conv2", "Conv2D", ["t3", w2], { padding: { s: b64("SAME") }, data_format: nhwc, strides: list(1, 1, 1, 1), dilations: list(1, 1, 1, 1) });
  const size = g.constInt("size", [2], [6, 6]);
  g.op("resize", "ResizeBilinear", ["pool", size], { half_pixel_centers: { b: true }, align_corners: { b: false } });
  const axis = g.constInt("axis", [], [-1]);
  g.op("cat", "ConcatV2", ["resize", "conv2", axis]);
  const splits = g.constInt("splits", [2], [3, -1]);
  g.op("split", "SplitV", ["cat", splits, axis], { num_split: { i: "2" } });
  g.op("sig", "Sigmoid", ["split"]);
  // Scaled by an integer constant cast to float (folded), shifted, rectified.
  const two = g.constInt("two", [], [2]);
  g.nodes.push({ name: "two_f", op: "Cast", input: [two], attr: { SrcT: { type: "DT_INT32" }, DstT: { type: "DT_FLOAT" } } });
  const shift = g.constFloat("shift", [], [1.2]);
  g.op("scaled", "Mul", ["sig", "two_f"]);
  g.op("shifted", "Sub", ["scaled", shift]);
  g.op("rectified", "Relu", ["shifted"]);
  // The reshape target computed as onnx-tf does: a SparseToDense of nothing, plus the constant shape.
  const where = g.constInt("where", [0, 1], []);
  const dense = g.constInt("dense_shape", [1], [3]);
  const gathered = g.constInt("gathered", [0], []);
  const zero = g.constInt("zero", [], [0]);
  g.nodes.push({ name: "sparse", op: "SparseToDense", input: [where, dense, gathered, zero], attr: { T: { type: "DT_INT32" }, Tindices: { type: "DT_INT32" } } });
  const base = g.constInt("base_shape", [3], [1, 36, 3]);
  g.nodes.push({ name: "shape", op: "AddV2", input: [base, "sparse"], attr: { T: { type: "DT_INT32" } } });
  g.op("scores_r", "Reshape", ["rectified", "shape"]);
  const boxShape = g.constInt("box_shape", [3], [1, -1, 5]);
  g.op("boxes_r", "Reshape", ["split:1", boxShape]);
  g.op("scores", "Identity", ["scores_r"]);
  g.op("boxes", "Identity", ["boxes_r"]);
  return {
    g,
    inputs: [{ name: "x", shape: [1, 3, 9, 9] }],
    outputs: [
      { name: "scores", shape: [1, 36, 3] },
      { name: "boxes", shape: [1, 36, 5] },
    ],
  };
}

describe("tfjsGraphToOnnx", () => {
  it("runs on ONNX Runtime as TensorFlow.js runs the original", async () => {
    const { g, inputs, outputs } = testGraph();
    const onnx = tfjsGraphToOnnx(g.json(), g.weights(), { inputs, outputs }, "test-graph");
    const input = new Float32Array(g.random(3 * 81, 2));

    const ort = require("onnxruntime-node") as typeof import("onnxruntime-node");
    const session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: "all" });
    const ortOut = await session.run({ x: new ort.Tensor("float32", input, [1, 3, 9, 9]) });
    await session.release();

    const tf = require("@tensorflow/tfjs-core") as typeof import("@tensorflow/tfjs-core");
    const { loadGraphModel } = require("@tensorflow/tfjs-converter") as typeof import("@tensorflow/tfjs-converter");
    require("@tensorflow/tfjs-backend-wasm");
    await tf.setBackend("wasm");
    const w = g.weights();
    const model = await loadGraphModel(
      tf.io.fromMemory({ modelTopology: g.json().modelTopology, weightSpecs: g.specs as never, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer }),
    );
    const x = tf.tensor4d(input, [1, 3, 9, 9]);
    const tfOut = model.execute(x, ["scores", "boxes"]) as import("@tensorflow/tfjs-core").Tensor[];
    const expected = await Promise.all(tfOut.map((t) => t.data<"float32">()));
    tf.dispose([x, ...tfOut]);
    model.dispose();

    for (const [k, o] of outputs.entries()) {
      const got = ortOut[o.name]!;
      expect(got.dims).toEqual(o.shape);
      const want = expected[k]!;
      expect(got.data.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got.data as Float32Array)[i]! - want[i]!));
      expect(worst, o.name).toBeLessThan(1e-4);
      // Not a constant answer: the values vary.
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(0.05);
    }
  });

  it("refuses an operation it does not know, by name", () => {
    const { g, inputs } = testGraph();
    g.op("odd", "Erf", ["x"]);
    expect(() => tfjsGraphToOnnx(g.json(), g.weights(), { inputs, outputs: [{ name: "odd", shape: [1, 3, 9, 9] }] }, "m.json")).toThrow(
      'm.json: cannot convert to ONNX: operation Erf ("odd") is not supported',
    );
  });

  it("refuses weights that do not match the manifest, and a signature shape the graph does not produce", () => {
    const { g, inputs, outputs } = testGraph();
    expect(() => tfjsGraphToOnnx(g.json(), g.weights().subarray(0, 100), { inputs, outputs }, "m.json")).toThrow(/m\.json: the weights file ends inside "w1"/);
    expect(() => tfjsGraphToOnnx(g.json(), Buffer.concat([g.weights(), Buffer.alloc(4)]), { inputs, outputs }, "m.json")).toThrow(/the weights file has \d+ bytes, the manifest describes \d+/);
    expect(() => tfjsGraphToOnnx(g.json(), g.weights(), { inputs, outputs: [{ name: "scores", shape: [1, 3, 36] }] }, "m.json")).toThrow(
      'm.json: cannot convert to ONNX: output "scores" has shape [1,36,3], the signature says [1,3,36]',
    );
  });
});
