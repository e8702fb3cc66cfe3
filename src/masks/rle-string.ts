/**
 * COCO's compressed RLE strings and the JSON forms of an RLE.
 *
 * The string format follows rleToString / rleFrString in cocodataset/cocoapi `common/maskApi.c`: each
 * count (from the fourth on, its difference from the count two places earlier) is written as a
 * little-endian sequence of 5-bit groups, two's complement, one character per group: bit 0x20 marks "more
 * groups follow", and 48 is added to reach printable ASCII ('0'..'o').
 */
import { GearSegError } from "../util/errors.js";
import type { CocoRle, Rle } from "./types.js";

let charBuf = new Uint8Array(1 << 16);

/** Compressed counts string, byte-identical to pycocotools' rleToString (images below 2^31 pixels). */
export function rleToString(rle: Rle): string {
  const c = rle.counts;
  // A count below 2^31 needs at most 7 groups of 5 bits.
  if (charBuf.length < c.length * 7) charBuf = new Uint8Array(c.length * 7 * 2);
  const s = charBuf;
  let p = 0;
  for (let i = 0; i < c.length; i++) {
    let x = c[i]!;
    if (i > 2) x -= c[i - 2]!;
    for (;;) {
      let ch = x & 0x1f;
      x >>= 5; // arithmetic shift: negative differences keep their sign
      const more = ch & 0x10 ? x !== -1 : x !== 0;
      if (more) ch |= 0x20;
      s[p++] = ch + 48;
      if (!more) break;
    }
  }
  return Buffer.from(s.buffer, s.byteOffset, p).toString("latin1");
}

let countBuf = new Int32Array(1 << 12);
let countBufU32 = new Uint32Array(countBuf.buffer); // the same counts, to copy out as the Rle's own
let byteBuf = new Uint8Array(1 << 16);
const asciiEncoder = new TextEncoder();

/**
 * Parse a compressed counts string, as rleFrString, and check it: every character in '0'..'o', no value
 * cut off at the end, no negative or oversized count, counts summing to height * width.
 * `what` names the thing in error messages.
 *
 * Speed: the string is copied to bytes natively (TextEncoder.encodeInto; a string that is not all ASCII is
 * invalid anyway and goes to the checking parser, which names the character); most counts of real masks are
 * one character (a difference within ±15 of the count two places earlier), so that case is a straight path;
 * the last two counts stay in locals for the differences. Counts go to a reused buffer and are copied out
 * once at their exact length.
 */
export function rleFromString(counts: string, height: number, width: number, what = "RLE string"): Rle {
  if (typeof counts !== "string") throw new GearSegError(`${what}: counts must be a string`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new GearSegError(`${what}: size must be two non-negative integers, got ${height}x${width}`);
  }
  const n = height * width;
  const len = counts.length;
  // Above 2^31 pixels counts leave int32: the general parser handles them.
  if (n > 0x7fffffff) return parseRleStringChecked(counts, height, width, what);
  if (byteBuf.length < len) byteBuf = new Uint8Array(Math.max(len, byteBuf.length * 2));
  if (countBuf.length < len) {
    countBuf = new Int32Array(Math.max(len, countBuf.length * 2));
    countBufU32 = new Uint32Array(countBuf.buffer);
  }
  const bytes = byteBuf;
  const { read, written } = asciiEncoder.encodeInto(counts, bytes);
  if (read !== len || written !== len) return parseRleStringChecked(counts, height, width, what);
  const out = countBuf;
  let m = 0;
  let p = 0;
  let sum = 0;
  let before2 = 0; // count m - 2
  let before1 = 0; // count m - 1
  while (p < len) {
    let c = bytes[p++]! - 48;
    let x: number;
    if (c >>> 0 < 32) {
      x = (c << 27) >> 27; // one 5-bit group, two's complement
    } else {
      // several groups, little-endian, up to six here (int32); a seventh, a bad character or a count cut off
      // at the end go to the checking parser
      if (c >>> 0 > 63) return parseRleStringChecked(counts, height, width, what);
      x = c & 0x1f;
      let shift = 5;
      for (;;) {
        if (p >= len || shift > 25) return parseRleStringChecked(counts, height, width, what);
        c = bytes[p++]! - 48;
        if (c >>> 0 > 63) return parseRleStringChecked(counts, height, width, what);
        x |= (c & 0x1f) << shift;
        shift += 5;
        if (!(c & 0x20)) {
          if (c & 0x10) x |= -1 << shift;
          break;
        }
      }
    }
    if (m > 2) x += before2;
    if (x < 0 || x > n) throw countRangeError(what, m, x, n);
    out[m++] = x;
    sum += x;
    before2 = before1;
    before1 = x;
  }
  if (sum !== n) throw new GearSegError(`${what}: counts sum to ${sum} but size ${height}x${width} has ${n} pixels`);
  return { height, width, counts: countBufU32.slice(0, m) };
}

function countRangeError(what: string, m: number, x: number, n: number): GearSegError {
  return new GearSegError(`${what}: count ${m} is ${x}, outside 0..${n}`);
}

/** Count m from its stored value (from the fourth on, a difference with the count two places earlier), checked. */
function absoluteCount(x: number, out: Int32Array | Uint32Array, m: number, n: number, what: string): number {
  if (m > 2) x += out[m - 2]!;
  if (x < 0 || x > n) throw countRangeError(what, m, x, n);
  return x;
}

/** The character-by-character parser: slower, and its errors say which character or count is wrong. */
function parseRleStringChecked(counts: string, height: number, width: number, what: string): Rle {
  const n = height * width;
  const out = new Uint32Array(counts.length);
  let m = 0;
  let p = 0;
  let sum = 0;
  const len = counts.length;
  while (p < len) {
    let x = 0;
    let k = 0;
    let scale = 1;
    for (;;) {
      if (p >= len) throw new GearSegError(`${what}: string ends in the middle of a count`);
      const ch = counts.charCodeAt(p) - 48;
      if (ch < 0 || ch > 63) {
        throw new GearSegError(`${what}: character ${JSON.stringify(counts[p])} at ${p} is not in '0'..'o'`);
      }
      x += (ch & 0x1f) * scale;
      scale *= 32;
      p++;
      k++;
      if (k > 7) throw new GearSegError(`${what}: count at ${p - k} is too long`);
      if (!(ch & 0x20)) {
        if (ch & 0x10) x -= scale; // sign-extend
        break;
      }
    }
    x = absoluteCount(x, out, m, n, what);
    out[m++] = x;
    sum += x;
  }
  if (sum !== n) throw new GearSegError(`${what}: counts sum to ${sum} but size ${height}x${width} has ${n} pixels`);
  return { height, width, counts: out.slice(0, m) };
}

/** COCO JSON form `{size: [h, w], counts: "<compressed>"}`. */
export function toCocoRle(rle: Rle): CocoRle {
  return { size: [rle.height, rle.width], counts: rleToString(rle) };
}

/**
 * An Rle from COCO JSON: `{size: [h, w], counts}` where counts is the compressed string or an
 * uncompressed number array (as `iscrowd` ground truth). Validates everything; `what` names the thing in
 * error messages (e.g. "annotation 12 segmentation").
 */
export function fromCocoRle(obj: unknown, what = "RLE"): Rle {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new GearSegError(`${what}: expected an object with size and counts`);
  const { size, counts } = obj as { size?: unknown; counts?: unknown };
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
    throw new GearSegError(`${what}: size must be [height, width] with non-negative integers`);
  }
  const [height, width] = size as [number, number];
  if (typeof counts === "string") return rleFromString(counts, height, width, what);
  if (Array.isArray(counts)) {
    const out = new Uint32Array(counts.length);
    let sum = 0;
    for (let i = 0; i < counts.length; i++) {
      const v = counts[i];
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) {
        throw new GearSegError(`${what}: counts[${i}] is not a non-negative integer`);
      }
      out[i] = v as number;
      sum += v as number;
    }
    if (sum !== height * width) {
      throw new GearSegError(`${what}: counts sum to ${sum} but size ${height}x${width} has ${height * width} pixels`);
    }
    return { height, width, counts: out };
  }
  throw new GearSegError(`${what}: counts must be a string or an array of numbers`);
}
