/**
 * Tiny SAM 2 test models, built as real ONNX graphs (onnx-proto, IR 8, opset 13) with exactly the input and
 * output names, dtypes and shapes of the two export layouts the sam2 segmenter reads. They compute real,
 * prompt-dependent logits, so the whole generator runs end to end:
 *
 * - encoder: average-pools the normalised image to 256², 128² and 64² and copies the three colour channels
 *   into the first channels of each feature map (the rest are zero);
 * - decoder: for each prompt point, reads the colour of the 256² map under the point and returns three
 *   logit maps `A − B·|colour − colour(point)|² − C_k·distance(point)/1024` with C = (60, 12, 1) — a small
 *   blob, a medium blob, and (k = 2) the whole region of the point's colour — and a predicted IoU
 *   `1 − 10·mean(1 − |tanh(logit/2)|)` (sharp masks score high, blurry ones low).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

type Dim = number | string;
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;

interface Node {
  opType: string;
  input: string[];
  output: string[];
  name: string;
  attribute: object[];
}

class Graph {
  nodes: Node[] = [];
  inits: object[] = [];
  inputs: object[] = [];
  outputs: object[] = [];
  private n = 0;

  tmp(prefix = "t"): string {
    return `${prefix}_${this.n++}`;
  }
  op(opType: string, input: string[], attrs: object[] = [], out?: string): string {
    const o = out ?? this.tmp(opType.toLowerCase());
    this.nodes.push({ opType, input, output: [o], name: `${o}_node`, attribute: attrs });
    return o;
  }
  f32(values: number[] | Float32Array, dims: number[], name = this.tmp("c")): string {
    const a = Float32Array.from(values);
    this.inits.push({ name, dataType: FLOAT, dims, rawData: new Uint8Array(a.buffer) });
    return name;
  }
  i64(values: number[], dims: number[] = [values.length], name = this.tmp("c")): string {
    const a = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.inits.push({ name, dataType: INT64, dims, rawData: new Uint8Array(a.buffer) });
    return name;
  }
  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }
  output(name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }
  encode(name: string): Uint8Array {
    const model = {
      irVersion: 8,
      producerName: "gear-seg-tests",
      opsetImport: [{ domain: "", version: 13 }],
      graph: { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model as never).finish();
  }
}

function valueInfo(name: string, elemType: number, dims: Dim[]): object {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } } };
}
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });
const str = (name: string, v: string) => ({ name, type: 3, s: new TextEncoder().encode(v) });

export type TinyLayout = "samexporter" | "onnx-community";

export interface TinySam2Options {
  layout: TinyLayout;
  /** samexporter only: add `orig_im_size` and return full-size masks. */
  origImSize?: boolean;
  /** Break the contract, for error tests. */
  encoderInputName?: string;
  imageEmbedChannels?: number;
  decoderOutputName?: string;
}

/** Encoder: image → three pooled feature maps carrying the colour in their first three channels. */
export function buildEncoder(opts: TinySam2Options): Uint8Array {
  const g = new Graph();
  const a = opts.layout === "samexporter";
  const inName = opts.encoderInputName ?? (a ? "image" : "pixel_values");
  g.input(inName, FLOAT, a ? [1, 3, 1024, 1024] : ["batch_size", 3, 1024, 1024]);
  const levels: [string, number, number][] = a
    ? [
        ["high_res_feats_0", 32, 4],
        ["high_res_feats_1", 64, 8],
        ["image_embed", opts.imageEmbedChannels ?? 256, 16],
      ]
    : [
        ["image_embeddings.0", 32, 4],
        ["image_embeddings.1", 64, 8],
        ["image_embeddings.2", opts.imageEmbedChannels ?? 256, 16],
      ];
  for (const [name, ch, k] of levels) {
    const pooled = g.op("AveragePool", [inName], [ints("kernel_shape", [k, k]), ints("strides", [k, k])]);
    const w = new Float32Array(ch * 3);
    for (let c = 0; c < 3; c++) w[c * 3 + c] = 1;
    g.op("Conv", [pooled, g.f32(w, [ch, 3, 1, 1])], [], name);
    g.output(name, FLOAT, [a ? 1 : "batch_size", ch, 1024 / k, 1024 / k]);
  }
  return g.encode("tiny_sam2_encoder");
}

/** Scales all logits: SAM's logits change by several units across an object edge. */
const SHARPNESS = Number(process.env.TINY_SAM2_SHARPNESS ?? 5);

/** The decoder's computation from the 256² colour map and [L, 2] points (1024 frame) to [L,3,65536] logits. */
function decoderCore(g: Graph, feats0: string, points2: string): { logits: string; iou: string } {
  const colour = g.op("Slice", [feats0, g.i64([0]), g.i64([3]), g.i64([1])]); // [1,3,256,256]
  const flatB = g.op("Reshape", [colour, g.i64([1, 3, 65536])]);
  const flatG = g.op("Reshape", [colour, g.i64([3, 65536])]);
  const px = g.op("Slice", [points2, g.i64([0]), g.i64([1]), g.i64([1])]); // [L,1]
  const py = g.op("Slice", [points2, g.i64([1]), g.i64([2]), g.i64([1])]);
  const four = g.f32([4], []);
  const lo = g.f32([0], []);
  const hi = g.f32([255], []);
  const ix = g.op("Clip", [g.op("Floor", [g.op("Div", [px, four])]), lo, hi]);
  const iy = g.op("Clip", [g.op("Floor", [g.op("Div", [py, four])]), lo, hi]);
  const idxF = g.op("Add", [g.op("Mul", [iy, g.f32([256], [])]), ix]);
  const idx = g.op("Reshape", [g.op("Cast", [idxF], [int("to", INT64)]), g.i64([-1])]); // [L]
  const col = g.op("Gather", [flatG, idx], [int("axis", 1)]); // [3, L]
  // |F − c|² = |F|² − 2·F·c + |c|², as matrix products (cheap for [L, 65536]).
  const colT = g.op("Transpose", [col], [ints("perm", [1, 0])]); // [L,3]
  const ff = g.op("ReduceSum", [g.op("Mul", [flatG, flatG]), g.i64([0])], [int("keepdims", 1)]); // [1,65536]
  const cc = g.op("ReduceSum", [g.op("Mul", [colT, colT]), g.i64([1])], [int("keepdims", 1)]); // [L,1]
  const cross = g.op("MatMul", [colT, flatG]); // [L,65536]
  const minus2 = g.f32([-2], []);
  const cd = g.op("Relu", [g.op("Add", [g.op("Add", [ff, g.op("Mul", [cross, minus2])]), cc])]);
  const gxy = new Float32Array(2 * 65536);
  const gg = new Float32Array(65536);
  for (let p = 0; p < 65536; p++) {
    const x = ((p % 256) + 0.5) * 4;
    const y = (Math.floor(p / 256) + 0.5) * 4;
    gxy[p] = x;
    gxy[65536 + p] = y;
    gg[p] = x * x + y * y;
  }
  const pp = g.op("ReduceSum", [g.op("Mul", [points2, points2]), g.i64([1])], [int("keepdims", 1)]); // [L,1]
  const cross2 = g.op("MatMul", [points2, g.f32(gxy, [2, 65536])]); // [L,65536]
  const d2 = g.op("Relu", [g.op("Add", [g.op("Add", [g.f32(gg, [1, 65536]), g.op("Mul", [cross2, minus2])]), pp])]);
  const dist = g.op("Div", [g.op("Sqrt", [d2]), g.f32([1024], [])]);
  const feats = g.op("Concat", [g.op("Unsqueeze", [cd, g.i64([1])]), g.op("Unsqueeze", [dist, g.i64([1])])], [int("axis", 1)]); // [L,2,65536]
  // logits_k = 6 − 2·cd − C_k·dist, C = (60, 12, 1)
  const weights = g.f32([-2, -60, -2, -12, -2, -1].map((w) => w * SHARPNESS), [3, 2]);
  const logits = g.op("Add", [g.op("MatMul", [weights, feats]), g.f32([6 * SHARPNESS], [])]); // [L,3,65536]
  const sharp = g.op("Abs", [g.op("Tanh", [g.op("Div", [logits, g.f32([2], [])])])]);
  const blur = g.op("ReduceMean", [g.op("Sub", [g.f32([1], []), sharp])], [ints("axes", [2]), int("keepdims", 0)]); // [L,3]
  const iou = g.op("Sub", [g.f32([1], []), g.op("Mul", [blur, g.f32([10], [])])]);
  return { logits, iou };
}

/** 0 · mean(x): ties an otherwise unused input into the graph. */
function zeroOf(g: Graph, x: string): string {
  const xf = x;
  return g.op("Mul", [g.op("ReduceMean", [xf], [int("keepdims", 0)]), g.f32([0], [])]);
}

export function buildDecoder(opts: TinySam2Options): Uint8Array {
  const g = new Graph();
  if (opts.layout === "samexporter") {
    const embed = g.input("image_embed", FLOAT, [1, opts.imageEmbedChannels ?? 256, 64, 64]);
    const f0 = g.input("high_res_feats_0", FLOAT, [1, 32, 256, 256]);
    const f1 = g.input("high_res_feats_1", FLOAT, [1, 64, 128, 128]);
    const pc = g.input("point_coords", FLOAT, ["num_labels", "num_points", 2]);
    const pl = g.input("point_labels", FLOAT, ["num_labels", "num_points"]);
    const mi = g.input("mask_input", FLOAT, ["num_labels", 1, 256, 256]);
    const hm = g.input("has_mask_input", FLOAT, ["num_labels"]);
    const first = g.op("Slice", [pc, g.i64([0]), g.i64([1]), g.i64([1])]); // first point of each prompt
    const pts = g.op("Reshape", [first, g.i64([-1, 2])]);
    const { logits, iou } = decoderCore(g, f0, pts);
    let zero = g.op("Add", [zeroOf(g, embed), zeroOf(g, f1)]);
    for (const x of [pl, mi, hm]) zero = g.op("Add", [zero, zeroOf(g, x)]);
    const low = g.op("Add", [g.op("Reshape", [logits, g.i64([-1, 3, 256, 256])]), zero]);
    const masksName = opts.decoderOutputName ?? "masks";
    if (opts.origImSize) {
      const size = g.input("orig_im_size", INT32, [2]);
      const lead = g.op("Slice", [g.op("Shape", [low]), g.i64([0]), g.i64([2]), g.i64([0])]);
      const sizes = g.op("Concat", [lead, g.op("Cast", [size], [int("to", INT64)])], [int("axis", 0)]);
      g.op("Resize", [low, "", "", sizes], [str("mode", "linear"), str("coordinate_transformation_mode", "half_pixel")], masksName);
      g.output(masksName, FLOAT, ["num_labels", 3, "H", "W"]);
    } else {
      g.op("Identity", [low], [], masksName);
      g.output(masksName, FLOAT, ["num_labels", 3, 256, 256]);
    }
    g.op("Add", [iou, zero], [], "iou_predictions");
    g.output("iou_predictions", FLOAT, ["num_labels", 3]);
    return g.encode("tiny_sam2_decoder");
  }
  const pts4 = g.input("input_points", FLOAT, ["batch_size", "point_batch_size", "num_points", 2]);
  const labels = g.input("input_labels", INT64, ["batch_size", "point_batch_size", "num_points"]);
  const boxes = g.input("input_boxes", FLOAT, ["batch_size", "num_boxes", 4]);
  const e0 = g.input("image_embeddings.0", FLOAT, ["batch_size", 32, 256, 256]);
  const e1 = g.input("image_embeddings.1", FLOAT, ["batch_size", 64, 128, 128]);
  const e2 = g.input("image_embeddings.2", FLOAT, ["batch_size", opts.imageEmbedChannels ?? 256, 64, 64]);
  const first = g.op("Slice", [pts4, g.i64([0]), g.i64([1]), g.i64([2])]); // [1,P,1,2]
  const pts = g.op("Reshape", [first, g.i64([-1, 2])]);
  const { logits, iou } = decoderCore(g, e0, pts);
  let zero = g.op("Add", [zeroOf(g, e1), zeroOf(g, e2)]);
  zero = g.op("Add", [zero, zeroOf(g, g.op("Cast", [labels], [int("to", FLOAT)]))]);
  // input_boxes may be empty ([1,0,4]): ReduceSum of an empty tensor is 0.
  zero = g.op("Add", [zero, g.op("Mul", [g.op("ReduceSum", [boxes], [int("keepdims", 0)]), g.f32([0], [])])]);
  const masksName = opts.decoderOutputName ?? "pred_masks";
  g.op("Add", [g.op("Reshape", [logits, g.i64([1, -1, 3, 256, 256])]), zero], [], masksName);
  g.output(masksName, FLOAT, ["batch_size", "point_batch_size", 3, 256, 256]);
  g.op("Add", [g.op("Reshape", [iou, g.i64([1, -1, 3])]), zero], [], "iou_scores");
  g.output("iou_scores", FLOAT, ["batch_size", "point_batch_size", 3]);
  g.op("Reshape", [g.op("Slice", [iou, g.i64([0]), g.i64([1]), g.i64([1])]), g.i64([1, -1, 1])], [], "object_score_logits");
  g.output("object_score_logits", FLOAT, ["batch_size", "point_batch_size", 1]);
  return g.encode("tiny_sam2_decoder");
}

/** Writes the two files into `dir` under the layout's usual names; returns their paths. */
export async function writeTinySam2(dir: string, opts: TinySam2Options): Promise<{ encoder: string; decoder: string }> {
  const sub = opts.layout === "onnx-community" ? join(dir, "onnx") : dir;
  await mkdir(sub, { recursive: true });
  const encoder = join(sub, opts.layout === "onnx-community" ? "vision_encoder.onnx" : "sam2_tiny_test.encoder.onnx");
  const decoder = join(sub, opts.layout === "onnx-community" ? "prompt_encoder_mask_decoder.onnx" : "sam2_tiny_test.decoder.onnx");
  await writeFile(encoder, buildEncoder(opts));
  await writeFile(decoder, buildDecoder(opts));
  return { encoder, decoder };
}
