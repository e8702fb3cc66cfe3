/**
 * The few ONNX messages a converted graph needs, written as protocol buffers (onnx/onnx.proto: ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto). Repeated scalars are written unpacked, as
 * the proto2 file declares them. Tensor bytes are referenced, not copied, until the one final concatenation.
 */

/** Byte arrays at least this long are referenced, not copied, until the final concatenation. */
const BY_REFERENCE = 4096;

/** Bytes written straight into the final buffer (a large tensor converted in place, without a copy). */
export interface DeferredBytes {
  readonly byteLength: number;
  write(target: Uint8Array, at: number): void;
}

type Chunk = Uint8Array | DeferredBytes;

/** A growing protobuf message: small fields in a growing buffer, large byte fields by reference. */
class Message {
  readonly chunks: Chunk[] = [];
  length = 0;
  private buf = new Uint8Array(64);
  private used = 0;

  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.used + n));
    grown.set(this.buf.subarray(0, this.used));
    this.buf = grown;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.chunks.push(this.buf.slice(0, this.used));
    this.length += this.used;
    this.used = 0;
  }

  private varint(value: number | bigint): void {
    this.room(10);
    if (typeof value === "number" && value >= 0 && value <= 0x7fffffff) {
      let v = value;
      while (v >= 0x80) {
        this.buf[this.used++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.used++] = v;
      return;
    }
    // Negative int64s take all ten bytes (two's complement).
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.buf[this.used++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.used++] = Number(v);
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    this.room(4);
    new DataView(this.buf.buffer).setFloat32(this.used, value, true);
    this.used += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array | DeferredBytes): this {
    this.key(field, 2);
    this.varint(data.byteLength);
    if (!(data instanceof Uint8Array)) {
      this.flush();
      this.chunks.push(data);
      this.length += data.byteLength;
      return this;
    }
    if (data.length < BY_REFERENCE) {
      this.room(data.length);
      this.buf.set(data, this.used);
      this.used += data.length;
      return this;
    }
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, child: Message): this {
    child.flush();
    this.key(field, 2);
    this.varint(child.length);
    this.flush();
    for (const c of child.chunks) this.chunks.push(c);
    this.length += child.length;
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      if (c instanceof Uint8Array) out.set(c, at);
      else c.write(out, at);
      at += c.byteLength;
    }
    return out;
  }
}

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  dataType: typeof ONNX_FLOAT | typeof ONNX_INT64;
  /** Little-endian element bytes. */
  raw: Uint8Array | DeferredBytes;
}

export type OnnxAttribute =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: readonly number[] };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly OnnxAttribute[];
}

export interface OnnxValue {
  name: string;
  dataType: typeof ONNX_FLOAT | typeof ONNX_INT64;
  shape: readonly number[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  opset: number;
  producer: string;
}

function tensorMessage(t: OnnxTensor): Message {
  return new Message().ints(1, t.dims).int(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function attributeMessage(a: OnnxAttribute): Message {
  const m = new Message().string(1, a.name);
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7.
  if ("f" in a) return m.float(2, a.f).int(20, 1);
  if ("i" in a) return m.int(3, a.i).int(20, 2);
  if ("s" in a) return m.string(4, a.s).int(20, 3);
  return m.ints(8, a.ints).int(20, 7);
}

function valueMessage(v: OnnxValue): Message {
  const shape = new Message();
  for (const d of v.shape) shape.message(1, new Message().int(1, d));
  const tensorType = new Message().int(1, v.dataType).message(2, shape);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

/** The serialised ModelProto of `graph` (IR version 8). */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const g = new Message();
  for (const n of graph.nodes) {
    const node = new Message();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    if (n.name) node.string(3, n.name);
    node.string(4, n.op);
    for (const a of n.attributes ?? []) node.message(5, attributeMessage(a));
    g.message(1, node);
  }
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensorMessage(t));
  for (const v of graph.inputs) g.message(11, valueMessage(v));
  for (const v of graph.outputs) g.message(12, valueMessage(v));
  return new Message()
    .int(1, 8)
    .string(2, graph.producer)
    .message(7, g)
    .message(8, new Message().string(1, "").int(2, graph.opset))
    .finish();
}
