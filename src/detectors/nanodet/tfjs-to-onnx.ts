/**
 * A TensorFlow.js graph model (model.json + weights) rewritten as an ONNX model, so that ONNX Runtime can run it.
 *
 * Covers the operations of convolutional detectors exported through onnx-tf and tensorflowjs_converter (as the
 * published NanoDet-g is): Conv2D, MaxPool, Pad/PadV2, Transpose, Add/AddV2/Sub/Mul, LeakyRelu/Relu/Sigmoid,
 * ConcatV2, ResizeBilinear, SplitV, Reshape, Identity. Integer side computations whose inputs are all constant
 * (the shapes onnx-tf computes with SparseToDense, Cast, AddV2 …) are evaluated here, so the ONNX graph holds only
 * the float path. Every tensor's static shape is tracked: the input's shape comes from the model's signature.
 *
 * TensorFlow's NHWC operations become ONNX's NCHW ones between two transposes; ONNX Runtime's transpose optimiser
 * cancels the pairs the onnx-tf export had put around them. Semantics follow TensorFlow's kernels:
 * - Conv2D / MaxPool `VALID` padding is no padding, `SAME` puts the odd pixel at the end (ONNX `SAME_UPPER`);
 * - ResizeBilinear's `half_pixel_centers` is ONNX Resize's `half_pixel` (both clamp source coordinates to the
 *   image), `align_corners` is `align_corners`, neither is `asymmetric`.
 * - Conv2D's filter takes every input channel (TF.js has no grouped convolution).
 * Anything else is refused by name: a wrong graph is never produced silently.
 */
import { GearSegError } from "../../util/errors.js";
import { encodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type DeferredBytes, type OnnxAttribute, type OnnxNode, type OnnxTensor } from "./onnx-writer.js";

/** Changes whenever the conversion's output would change: cached conversions carry it in their name. */
export const TFJS_TO_ONNX_VERSION = 1;

export interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfjsAttr>;
}

interface TfjsAttr {
  b?: boolean;
  f?: number;
  i?: string | number;
  s?: string;
  list?: { i?: (string | number)[]; s?: string[] };
  type?: string;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

export interface TfjsGraphJson {
  modelTopology: { node?: TfjsNode[] };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
}

export interface GraphEnd {
  /** Node name (no `:0`). */
  name: string;
  shape: readonly number[];
}

/** A constant (weights, folded side computations): float or integer values. */
interface Constant {
  kind: "const";
  shape: number[];
  float: boolean;
  values: Float32Array | Float64Array;
  /** Where a float16 weight's bytes are: large filters are converted straight into the model's bytes. */
  half?: { bytes: Uint8Array; offset: number };
}

/** A tensor the ONNX graph computes, by its ONNX name. */
interface Computed {
  kind: "tensor";
  onnx: string;
  shape: number[];
}

type Value = Constant | Computed;

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** float16 bits → float32 bits (IEEE 754 half to single, subnormals normalised). */
function halfToSingleBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exp = (h >> 10) & 0x1f;
  let frac = h & 0x3ff;
  if (exp === 0x1f) return sign | 0x7f800000 | (frac << 13);
  if (exp === 0) {
    if (frac === 0) return sign;
    // Subnormal: shift the fraction up until its leading one is the implicit bit.
    exp = 1;
    while ((frac & 0x400) === 0) {
      frac <<= 1;
      exp--;
    }
    frac &= 0x3ff;
  }
  return sign | ((exp + 112) << 23) | (frac << 13);
}

let halfTable: Uint32Array | undefined;

/** The float32 bits of all 65,536 halves (256 KB). */
function halfBits(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToSingleBits(h);
  }
  return halfTable;
}

/** `count` float16 values from `bytes` at `offset` as float32. */
function halfsToFloats(bytes: Uint8Array, offset: number, count: number): Float32Array {
  return new Float32Array(halfsToBits(bytes, offset, count).buffer);
}

/** Each weight's values, in the manifest's order over the concatenated weight files (TF.js's layout). */
function readWeights(specs: readonly TfjsWeightSpec[], data: Uint8Array, modelName: string): Map<string, Constant> {
  const out = new Map<string, Constant>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (const spec of specs) {
    const n = size(spec.shape);
    const q = spec.quantization;
    const stored = q?.dtype ?? spec.dtype;
    const width = stored === "float32" || stored === "int32" ? 4 : stored === "float16" || stored === "uint16" ? 2 : stored === "uint8" || stored === "bool" ? 1 : 0;
    if (width === 0) throw new GearSegError(`${modelName}: weight "${spec.name}" has unsupported dtype ${stored}`);
    if (at + n * width > data.byteLength) throw new GearSegError(`${modelName}: the weights file ends inside "${spec.name}" (${data.byteLength} bytes)`);
    const float = spec.dtype === "float32";
    let values: Float32Array | Float64Array;
    if (stored === "float16") {
      // Decoded when something other than a filter reads it (filters are converted into the model's bytes).
      const half = { bytes: data, offset: at };
      let decoded: Float32Array | undefined;
      const weight: Constant = {
        kind: "const",
        shape: [...spec.shape],
        float,
        half,
        get values() {
          return (decoded ??= halfsToFloats(half.bytes, half.offset, n));
        },
      };
      out.set(spec.name, weight);
      at += n * width;
      continue;
    } else if (stored === "float32") {
      values = new Float32Array(n);
      for (let k = 0; k < n; k++) values[k] = view.getFloat32(at + 4 * k, true);
    } else {
      values = float ? new Float32Array(n) : new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const o = at + k * width;
        let v = stored === "int32" ? view.getInt32(o, true) : stored === "uint16" ? view.getUint16(o, true) : view.getUint8(o);
        if (q?.scale !== undefined) v = v * q.scale + (q.min ?? 0);
        values[k] = v;
      }
    }
    out.set(spec.name, { kind: "const", shape: [...spec.shape], float, values });
    at += n * width;
  }
  if (at !== data.byteLength) throw new GearSegError(`${modelName}: the weights file has ${data.byteLength} bytes, the manifest describes ${at}`);
  return out;
}

/** Rows ob … ob + nb − 1 of the [out, in, taps] layout, from [taps, in, out] values. */
function gatherRows(bits: Uint32Array, rows: Uint32Array, ob: number, nb: number, taps: number, ci: number, co: number): void {
  const row = ci * taps;
  for (let t = 0; t < taps; t++) {
    for (let i = 0; i < ci; i++) {
      const from = (t * ci + i) * co + ob;
      const to = i * taps + t;
      for (let o = 0; o < nb; o++) rows[o * row + to] = bits[from + o]!;
    }
  }
}

/** float16 values as float32 bits. */
function halfsToBits(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const table = halfBits();
  const out = new Uint32Array(count);
  for (let k = 0, o = offset; k < count; k++, o += 2) out[k] = table[bytes[o]! | (bytes[o + 1]! << 8)]!;
  return out;
}

/**
 * A [kh, kw, in, out] (TensorFlow) filter as [out, in, kh, kw] (ONNX) float32 bytes, written into the model's
 * buffer at any alignment; from float16 bytes when the weight is stored so (one pass, no intermediate copy).
 */
function oihwFilter(w: Constant, kh: number, kw: number, ci: number, co: number): DeferredBytes {
  const count = kh * kw * ci * co;
  return {
    byteLength: 4 * count,
    write(target: Uint8Array, at: number) {
      const taps = kh * kw;
      const row = ci * taps;
      // float32 bits of the source, in TensorFlow's order.
      const bits = w.half ? halfsToBits(w.half.bytes, w.half.offset, count) : new Uint32Array(Float32Array.from(w.values).buffer);
      // Blocks of output filters: a block's rows fit in the cache and are copied into the (unaligned) target whole.
      const BLOCK = 16;
      const rows = new Uint32Array(BLOCK * row);
      const rowBytes = new Uint8Array(rows.buffer);
      for (let ob = 0; ob < co; ob += BLOCK) {
        const nb = Math.min(BLOCK, co - ob);
        gatherRows(bits, rows, ob, nb, taps, ci, co);
        target.set(rowBytes.subarray(0, 4 * nb * row), at + 4 * ob * row);
      }
    },
  };
}

function ints(attr: TfjsAttr | undefined): number[] {
  return (attr?.list?.i ?? []).map(Number);
}

function text(attr: TfjsAttr | undefined): string {
  return attr?.s === undefined ? "" : Buffer.from(attr.s, "base64").toString("utf8");
}

function floatBytes(values: ArrayLike<number>): Uint8Array {
  const f = values instanceof Float32Array ? values : Float32Array.from(values);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function int64Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
}

/** Converts the graph; `inputs`/`outputs` name the graph's ends (from the model's signature). */
export function tfjsGraphToOnnx(json: TfjsGraphJson, weightData: Uint8Array, ends: { inputs: readonly GraphEnd[]; outputs: readonly GraphEnd[] }, modelName = "model"): Uint8Array {
  const fail = (message: string): never => {
    throw new GearSegError(`${modelName}: cannot convert to ONNX: ${message}`);
  };
  const nodes = new Map<string, TfjsNode>();
  for (const n of json.modelTopology.node ?? []) nodes.set(n.name, n);
  const weights = readWeights(
    json.weightsManifest.flatMap((g) => g.weights),
    weightData,
    modelName,
  );

  const onnxNodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const values = new Map<string, Value>();
  let fresh = 0;
  const tmp = (base: string) => `${base}__${fresh++}`;

  const emit = (op: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = []) => {
    onnxNodes.push({ op, inputs, outputs, attributes, name: outputs[0] });
  };
  const floatInit = (base: string, shape: number[], data: ArrayLike<number>): string => {
    const name = tmp(base);
    initializers.push({ name, dims: shape, dataType: ONNX_FLOAT, raw: floatBytes(data) });
    return name;
  };
  const int64Init = (base: string, data: number[]): string => {
    const name = tmp(base);
    initializers.push({ name, dims: [data.length], dataType: ONNX_INT64, raw: int64Bytes(data) });
    return name;
  };

  /** The ONNX name of a float value: constants become initializers once. */
  const asTensor = (ref: string, v: Value): Computed => {
    if (v.kind === "tensor") return v;
    if (!v.float) fail(`"${ref}" is an integer tensor where a float one is expected`);
    const t: Computed = { kind: "tensor", onnx: floatInit(ref.replace(/:0$/, ""), v.shape, v.values), shape: v.shape };
    values.set(ref, t);
    return t;
  };

  const constOf = (ref: string, v: Value, what: string): Constant => (v.kind === "const" ? v : fail(`${what} of "${ref}" is computed, not constant`));

  /** NHWC → NCHW before an operation, NCHW → NHWC after it. */
  const toNchw = (x: Computed): string => {
    const out = tmp(`${x.onnx}_nchw`);
    emit("Transpose", [x.onnx], [out], [{ name: "perm", ints: [0, 3, 1, 2] }]);
    return out;
  };
  const fromNchw = (nchwName: string, outName: string) => emit("Transpose", [nchwName], [outName], [{ name: "perm", ints: [0, 2, 3, 1] }]);

  const visiting = new Set<string>();
  const resolve = (ref: string): Value => {
    const [nodeName, index = "0"] = ref.split(":") as [string, string?];
    const key = `${nodeName}:${index}`;
    const known = values.get(key);
    if (known) return known;
    if (visiting.has(nodeName)) fail(`the graph has a cycle through "${nodeName}"`);
    visiting.add(nodeName);
    convert(nodeName);
    visiting.delete(nodeName);
    return values.get(key) ?? fail(`"${ref}" is not an output of its node`);
  };

  const convert = (name: string): void => {
    const weight = weights.get(name);
    if (weight) {
      values.set(`${name}:0`, weight);
      return;
    }
    const node = nodes.get(name) ?? fail(`the graph refers to "${name}", which it does not define`);
    const refs = (node.input ?? []).filter((r) => !r.startsWith("^"));
    const ins = refs.map(resolve);
    const set = (v: Value, index = 0) => values.set(`${name}:${index}`, v);
    const out = (shape: number[], index = 0): Computed => {
      const v: Computed = { kind: "tensor", onnx: index === 0 ? name : `${name}:${index}`, shape };
      set(v, index);
      return v;
    };
    const allConst = ins.every((v) => v.kind === "const");
    const attr = node.attr ?? {};

    switch (node.op) {
      case "Placeholder": {
        const end = ends.inputs.find((e) => e.name === name) ?? fail(`input "${name}" is not in the signature`);
        out([...end.shape]);
        return;
      }
      case "Const":
        fail(`constant "${name}" has no weights`);
        return;
      case "Identity": {
        set(ins[0]!);
        return;
      }
      case "SparseToDense": {
        // Dense tensor of default values with the listed indices set (onnx-tf builds its shape vectors this way).
        if (!allConst) fail(`SparseToDense "${name}" on computed inputs`);
        const [indices, shape, vals, dflt] = ins as Constant[];
        const dims = Array.from(shape!.values);
        const dense = new Float64Array(size(dims)).fill(dflt!.values[0] ?? 0);
        const rank = indices!.shape.length === 2 ? indices!.shape[1]! : 1;
        const count = indices!.shape[0] ?? 0;
        for (let k = 0; k < count; k++) {
          let flat = 0;
          for (let d = 0; d < rank; d++) flat = flat * (dims[d] ?? 1) + indices!.values[k * rank + d]!;
          dense[flat] = vals!.values.length === 1 ? vals!.values[0]! : vals!.values[k]!;
        }
        set({ kind: "const", shape: dims, float: false, values: dense });
        return;
      }
      case "Cast": {
        if (!allConst) fail(`Cast "${name}" on a computed tensor`);
        const c = ins[0] as Constant;
        const to = attr.DstT?.type ?? "";
        const float = to === "DT_FLOAT";
        const v = float ? Float32Array.from(c.values) : Float64Array.from(c.values, (x) => Math.trunc(x));
        set({ kind: "const", shape: c.shape, float, values: v });
        return;
      }
      case "Add":
      case "AddV2":
      case "Sub":
      case "Mul": {
        const [a, b] = ins as [Value, Value];
        if (allConst && !(a as Constant).float) {
          const ca = a as Constant;
          const cb = b as Constant;
          if (ca.values.length !== cb.values.length && cb.values.length !== 1 && ca.values.length !== 1) fail(`${node.op} "${name}" of constants with shapes ${JSON.stringify(ca.shape)} and ${JSON.stringify(cb.shape)}`);
          const n = Math.max(ca.values.length, cb.values.length);
          const r = new Float64Array(n);
          for (let k = 0; k < n; k++) {
            const x = ca.values[ca.values.length === 1 ? 0 : k]!;
            const y = cb.values[cb.values.length === 1 ? 0 : k]!;
            r[k] = node.op === "Sub" ? x - y : node.op === "Mul" ? x * y : x + y;
          }
          set({ kind: "const", shape: ca.values.length >= cb.values.length ? ca.shape : cb.shape, float: false, values: r });
          return;
        }
        const ta = asTensor(refs[0]!, a);
        const tb = asTensor(refs[1]!, b);
        emit(node.op === "AddV2" ? "Add" : node.op, [ta.onnx, tb.onnx], [name]);
        out(broadcast(ta.shape, tb.shape) ?? fail(`${node.op} "${name}": shapes ${JSON.stringify(ta.shape)} and ${JSON.stringify(tb.shape)} do not broadcast`));
        return;
      }
      case "LeakyRelu":
      case "Relu":
      case "Sigmoid": {
        const x = asTensor(refs[0]!, ins[0]!);
        emit(node.op, [x.onnx], [name], node.op === "LeakyRelu" ? [{ name: "alpha", f: attr.alpha?.f ?? 0.2 }] : []);
        out(x.shape);
        return;
      }
      case "Transpose": {
        const x = asTensor(refs[0]!, ins[0]!);
        const perm = Array.from(constOf(refs[1]!, ins[1]!, "the permutation").values);
        emit("Transpose", [x.onnx], [name], [{ name: "perm", ints: perm }]);
        out(perm.map((p) => x.shape[p]!));
        return;
      }
      case "Pad":
      case "PadV2": {
        const x = asTensor(refs[0]!, ins[0]!);
        const p = Array.from(constOf(refs[1]!, ins[1]!, "the paddings").values);
        const rank = x.shape.length;
        if (p.length !== 2 * rank) fail(`Pad "${name}": ${p.length / 2} paddings for a rank-${rank} tensor`);
        const begins = p.filter((_, k) => k % 2 === 0);
        const endsP = p.filter((_, k) => k % 2 === 1);
        const inputs = [x.onnx, int64Init(`${name}_pads`, [...begins, ...endsP])];
        if (node.op === "PadV2") {
          const c = constOf(refs[2]!, ins[2]!, "the padding value");
          inputs.push(floatInit(`${name}_value`, [], [c.values[0] ?? 0]));
        }
        emit("Pad", inputs, [name], [{ name: "mode", s: "constant" }]);
        out(x.shape.map((d, k) => d + begins[k]! + endsP[k]!));
        return;
      }
      case "Conv2D": {
        const x = asTensor(refs[0]!, ins[0]!);
        const w = constOf(refs[1]!, ins[1]!, "the filter");
        const nhwc = text(attr.data_format) !== "NCHW";
        const [kh, kw, ci, co] = w.shape as [number, number, number, number];
        const strides = ints(attr.strides);
        const dilations = ints(attr.dilations);
        const [sh, sw] = nhwc ? [strides[1] ?? 1, strides[2] ?? 1] : [strides[2] ?? 1, strides[3] ?? 1];
        const [dh, dw] = nhwc ? [dilations[1] ?? 1, dilations[2] ?? 1] : [dilations[2] ?? 1, dilations[3] ?? 1];
        const [n, h, wd, c] = nhwc ? (x.shape as [number, number, number, number]) : ([x.shape[0], x.shape[2], x.shape[3], x.shape[1]] as [number, number, number, number]);
        // TensorFlow.js has no grouped convolution: the filter takes every input channel.
        if (c !== ci) fail(`Conv2D "${name}": ${c} input channels for a filter of ${ci}`);
        // HWIO → OIHW.
        const padding = text(attr.padding);
        const attrs: OnnxAttribute[] = [
          { name: "kernel_shape", ints: [kh, kw] },
          { name: "strides", ints: [sh, sw] },
          { name: "dilations", ints: [dh, dw] },
        ];
        let oh: number, ow: number;
        if (padding === "VALID") {
          attrs.push({ name: "pads", ints: [0, 0, 0, 0] });
          oh = Math.floor((h - (kh - 1) * dh - 1) / sh) + 1;
          ow = Math.floor((wd - (kw - 1) * dw - 1) / sw) + 1;
        } else if (padding === "SAME") {
          attrs.push({ name: "auto_pad", s: "SAME_UPPER" });
          oh = Math.ceil(h / sh);
          ow = Math.ceil(wd / sw);
        } else return fail(`Conv2D "${name}": padding ${padding || "(none)"} is not supported`);
        const weightName = tmp(`${name}_weight`);
        initializers.push({ name: weightName, dims: [co, ci, kh, kw], dataType: ONNX_FLOAT, raw: oihwFilter(w, kh, kw, ci, co) });
        if (nhwc) {
          const y = tmp(`${name}_nchw`);
          emit("Conv", [toNchw(x), weightName], [y], attrs);
          fromNchw(y, name);
          out([n, oh, ow, co]);
        } else {
          emit("Conv", [x.onnx, weightName], [name], attrs);
          out([n, co, oh, ow]);
        }
        return;
      }
      case "MaxPool": {
        const x = asTensor(refs[0]!, ins[0]!);
        if (text(attr.data_format) === "NCHW") fail(`MaxPool "${name}" in NCHW`);
        const [, kh, kw] = ints(attr.ksize);
        const [, sh, sw] = ints(attr.strides);
        const padding = text(attr.padding);
        const [n, h, w, c] = x.shape as [number, number, number, number];
        const attrs: OnnxAttribute[] = [
          { name: "kernel_shape", ints: [kh!, kw!] },
          { name: "strides", ints: [sh!, sw!] },
        ];
        let oh: number, ow: number;
        if (padding === "VALID") {
          oh = Math.floor((h - kh!) / sh!) + 1;
          ow = Math.floor((w - kw!) / sw!) + 1;
        } else if (padding === "SAME") {
          attrs.push({ name: "auto_pad", s: "SAME_UPPER" });
          oh = Math.ceil(h / sh!);
          ow = Math.ceil(w / sw!);
        } else return fail(`MaxPool "${name}": padding ${padding || "(none)"} is not supported`);
        const y = tmp(`${name}_nchw`);
        emit("MaxPool", [toNchw(x)], [y], attrs);
        fromNchw(y, name);
        out([n, oh, ow, c]);
        return;
      }
      case "ConcatV2": {
        const axisValue = constOf(refs[refs.length - 1]!, ins[ins.length - 1]!, "the axis").values[0]!;
        const parts = refs.slice(0, -1).map((r, k) => asTensor(r, ins[k]!));
        const rank = parts[0]!.shape.length;
        const axis = axisValue < 0 ? axisValue + rank : axisValue;
        emit("Concat", parts.map((p) => p.onnx), [name], [{ name: "axis", i: axis }]);
        const shape = [...parts[0]!.shape];
        shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
        out(shape);
        return;
      }
      case "ResizeBilinear": {
        const x = asTensor(refs[0]!, ins[0]!);
        const [oh, ow] = Array.from(constOf(refs[1]!, ins[1]!, "the size").values) as [number, number];
        const mode = attr.align_corners?.b ? "align_corners" : attr.half_pixel_centers?.b ? "half_pixel" : "asymmetric";
        const [n, , , c] = x.shape as [number, number, number, number];
        const y = tmp(`${name}_nchw`);
        emit("Resize", [toNchw(x), "", "", int64Init(`${name}_sizes`, [n, c, oh, ow])], [y], [
          { name: "mode", s: "linear" },
          { name: "coordinate_transformation_mode", s: mode },
        ]);
        fromNchw(y, name);
        out([n, oh, ow, c]);
        return;
      }
      case "SplitV": {
        const x = asTensor(refs[0]!, ins[0]!);
        const sizes = Array.from(constOf(refs[1]!, ins[1]!, "the split sizes").values);
        const axisValue = constOf(refs[2]!, ins[2]!, "the axis").values[0]!;
        const axis = axisValue < 0 ? axisValue + x.shape.length : axisValue;
        const known = sizes.reduce((s, v) => s + (v < 0 ? 0 : v), 0);
        const full = sizes.map((v) => (v < 0 ? x.shape[axis]! - known : v));
        const names = full.map((_, k) => (k === 0 ? name : `${name}:${k}`));
        emit("Split", [x.onnx, int64Init(`${name}_split`, full)], names, [{ name: "axis", i: axis }]);
        full.forEach((s, k) => {
          const shape = [...x.shape];
          shape[axis] = s;
          out(shape, k);
        });
        return;
      }
      case "Reshape": {
        const x = asTensor(refs[0]!, ins[0]!);
        const target = Array.from(constOf(refs[1]!, ins[1]!, "the shape").values);
        const known = target.reduce((p, d) => (d < 0 ? p : p * d), 1);
        const shape = target.map((d) => (d < 0 ? size(x.shape) / known : d));
        if (size(shape) !== size(x.shape)) fail(`Reshape "${name}": ${JSON.stringify(x.shape)} to ${JSON.stringify(target)}`);
        emit("Reshape", [x.onnx, int64Init(`${name}_shape`, shape)], [name]);
        out(shape);
        return;
      }
      default:
        fail(`operation ${node.op} ("${name}") is not supported`);
    }
  };

  const outputs = ends.outputs.map((e) => {
    const v = resolve(e.name);
    const t = asTensor(e.name, v);
    if (JSON.stringify(t.shape) !== JSON.stringify(e.shape)) fail(`output "${e.name}" has shape ${JSON.stringify(t.shape)}, the signature says ${JSON.stringify(e.shape)}`);
    // Graph outputs carry the signature's names even when the node is an alias (Identity).
    if (t.onnx !== e.name) emit("Identity", [t.onnx], [e.name]);
    return { name: e.name, dataType: ONNX_FLOAT, shape: e.shape } as const;
  });
  return encodeOnnxModel({
    name: modelName,
    producer: "gear-seg tfjs-to-onnx",
    opset: 17,
    nodes: onnxNodes,
    initializers,
    inputs: ends.inputs.map((e) => ({ name: e.name, dataType: ONNX_FLOAT, shape: e.shape })),
    outputs,
  });
}

/** NumPy/TensorFlow broadcasting of two shapes, or undefined when they do not broadcast. */
function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[a.length - rank + k] ?? 1;
    const y = b[b.length - rank + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}
