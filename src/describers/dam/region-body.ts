/**
 * A region's request body: the JSON text around its PNG as base64. Most of every region's PNG is the image's
 * shared chunks (region-png.ts), so their base64 is made once per image, from each of the offsets 0, 1 and 2
 * (`sharedBase64`): wherever the shared bytes fall in a region's PNG, the groups of three that start at the
 * same phase are copied from the matching text, and only the region's own chunks and the few bytes at the
 * seams are encoded per region. The bytes are exactly those of `head + base64(encodeRegionPng(...)) + tail`.
 */
import { regionPngParts, type RegionPngBase } from "./region-png.js";
import type { Rle } from "../../masks/types.js";

const ALPHABET = Uint8Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", (c) => c.charCodeAt(0));
const PAD = 61; // "="

/** Base64 (ASCII) of `chunks` from offset k, for k = 0, 1, 2; `alloc` gives the memory (shared, for the workers). */
export function sharedBase64(chunks: Uint8Array, alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(n)): Uint8Array[] {
  return [0, 1, 2].map((k) => {
    const bytes = Buffer.from(chunks.buffer, chunks.byteOffset + Math.min(k, chunks.length), Math.max(0, chunks.length - k));
    const text = bytes.toString("base64");
    const out = alloc(text.length);
    Buffer.from(out.buffer, out.byteOffset, out.length).write(text, "latin1");
    return out;
  });
}

/** Writes base64 into `out` from `at`, three bytes at a time, taking the shared chunks' text from `shared`. */
class Base64Writer {
  private readonly pending = new Uint8Array(3);
  private n = 0;

  constructor(
    private readonly out: Buffer,
    public at: number,
    private readonly chunks: Uint8Array,
    private readonly shared: readonly Uint8Array[] | undefined,
  ) {}

  private push(byte: number): void {
    this.pending[this.n++] = byte;
    if (this.n === 3) {
      const [a, b, c] = this.pending as unknown as [number, number, number];
      const o = this.out;
      o[this.at++] = ALPHABET[a >> 2]!;
      o[this.at++] = ALPHABET[((a & 3) << 4) | (b >> 4)]!;
      o[this.at++] = ALPHABET[((b & 15) << 2) | (c >> 6)]!;
      o[this.at++] = ALPHABET[c & 63]!;
      this.n = 0;
    }
  }

  bytes(src: Uint8Array): void {
    let i = 0;
    while (this.n > 0 && i < src.length) this.push(src[i++]!);
    const full = i + 3 * Math.floor((src.length - i) / 3);
    if (full > i) {
      // whole groups of three: no padding in the middle of the text
      this.at += this.out.write(Buffer.from(src.buffer, src.byteOffset + i, full - i).toString("base64"), this.at, "latin1");
    }
    for (i = full; i < src.length; i++) this.push(src[i]!);
  }

  /** The shared chunks' bytes [from, to). */
  sharedRange(from: number, to: number): void {
    if (!this.shared) return this.bytes(this.chunks.subarray(from, to));
    let i = from;
    while (this.n > 0 && i < to) this.push(this.chunks[i++]!);
    const k = i % 3;
    const groups = Math.floor((to - i) / 3);
    if (groups > 0) {
      const c = (4 * (i - k)) / 3;
      this.out.set(this.shared[k]!.subarray(c, c + 4 * groups), this.at);
      this.at += 4 * groups;
      i += 3 * groups;
    }
    for (; i < to; i++) this.push(this.chunks[i]!);
  }

  /** The last one or two bytes, padded. */
  finish(): void {
    if (this.n === 0) return;
    const [a, b] = [this.pending[0]!, this.n > 1 ? this.pending[1]! : 0];
    const o = this.out;
    o[this.at++] = ALPHABET[a >> 2]!;
    o[this.at++] = ALPHABET[((a & 3) << 4) | (b >> 4)]!;
    o[this.at++] = this.n > 1 ? ALPHABET[(b & 15) << 2]! : PAD;
    o[this.at++] = PAD;
    this.n = 0;
  }
}

/**
 * `head` + the region's PNG as base64 + `tail`, as UTF-8 bytes in a buffer of their own (transferable).
 * `base64` is `sharedBase64(base.chunks)`; without it the shared chunks are encoded here too.
 */
export function regionRequestBody(base: RegionPngBase, rle: Rle, head: string, tail: string, base64?: readonly Uint8Array[]): Uint8Array {
  const parts = regionPngParts(base, rle);
  const shared = base.chunks;
  const pngLength = parts.head.length + parts.sharedBefore + parts.region.length + (shared.length - parts.sharedAfter) + parts.end.length;
  const headBytes = Buffer.byteLength(head, "utf8");
  const size = headBytes + 4 * Math.ceil(pngLength / 3) + Buffer.byteLength(tail, "utf8");
  const body = Buffer.from(new ArrayBuffer(size));
  body.write(head, 0, "utf8");
  const w = new Base64Writer(body, headBytes, shared, base64);
  w.bytes(parts.head);
  w.sharedRange(0, parts.sharedBefore);
  w.bytes(parts.region);
  w.sharedRange(parts.sharedAfter, shared.length);
  w.bytes(parts.end);
  w.finish();
  const end = w.at + body.write(tail, w.at, "utf8");
  if (end !== size) throw new Error(`region request body: wrote ${end} bytes, expected ${size}`);
  return new Uint8Array(body.buffer, 0, size);
}
