/**
 * A region's request body: the JSON text around its PNG as base64, as pieces sent one after the other. Every
 * piece of a region's PNG is a multiple of 3 bytes long (region-png.ts), so the PNG's base64 is the
 * concatenation of its pieces' own: the text of the chunks every region shares is made once per image
 * (`sharedText`), and a region's body is two views of that text around the text of the region's own pieces
 * (`regionText`, small). Nothing of the shared text is copied per region. The bytes, joined, are exactly
 * those of `head + base64(encodeRegionPng(...)) + tail`.
 */
import { pngHead, regionPngParts, type RegionPngBase, type RegionRows } from "./region-png.js";
import type { Rle } from "../../masks/types.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** The two characters of every 12 bits, as the low 16 bits in memory order. */
const PAIRS = new Uint32Array(4096);
for (let v = 0; v < 4096; v++) {
  const hi = ALPHABET.charCodeAt(v >> 6);
  const lo = ALPHABET.charCodeAt(v & 63);
  PAIRS[v] = LITTLE_ENDIAN ? hi | (lo << 8) : (hi << 8) | lo;
}

/** The four characters of the 24 bits `t` as one 32-bit word in memory order. */
function quad(t: number): number {
  return LITTLE_ENDIAN ? PAIRS[t >>> 12]! | (PAIRS[t & 4095]! << 16) : (PAIRS[t >>> 12]! << 16) | PAIRS[t & 4095]!;
}

/**
 * Base64 of `bytes` as ASCII bytes, in a buffer of their own. Written here rather than by Buffer's toString:
 * that makes a string of the text (a region's is 0.7 MB) only to copy it out again, and the strings' garbage
 * cost more than the encoding. Aligned input on a little-endian machine is read 12 bytes (three words) at a time.
 */
export function base64Ascii(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const whole = n - (n % 3);
  const out = new Uint8Array(4 * Math.ceil(n / 3));
  const quads = new Uint32Array(out.buffer, 0, out.length >> 2);
  let i = 0;
  let j = 0;
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(n / 12) * 3);
    for (let k = 0; k < words.length; k += 3, j += 4) {
      const a = words[k]!;
      const b = words[k + 1]!;
      const c = words[k + 2]!;
      quads[j] = quad(((a & 0xff) << 16) | (a & 0xff00) | ((a >>> 16) & 0xff));
      quads[j + 1] = quad(((a >>> 24) << 16) | ((b & 0xff) << 8) | ((b >>> 8) & 0xff));
      quads[j + 2] = quad((((b >>> 16) & 0xff) << 16) | ((b >>> 24) << 8) | (c & 0xff));
      quads[j + 3] = quad((((c >>> 8) & 0xff) << 16) | (((c >>> 16) & 0xff) << 8) | (c >>> 24));
    }
    i = words.length * 4;
  }
  for (; i < whole; i += 3, j++) quads[j] = quad((bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!);
  if (whole < n) out.set(Buffer.from(Buffer.from(bytes.subarray(whole)).toString("base64"), "latin1"), (4 * whole) / 3);
  return out;
}

/** The base64 of an image's shared chunks, and where each block's text starts (`start[blocks]` is the end). */
export interface SharedText {
  text: Uint8Array;
  start: Float64Array;
}

/** The shared chunks' text from the shared chunks (every chunk a multiple of 3 bytes: 4 characters per 3 bytes). */
export function sharedText(base: RegionPngBase): SharedText {
  return { text: base64Ascii(base.chunks), start: base.chunkStart.map((at) => (4 * at) / 3) };
}

/** The text of a region's own pieces: its blocks [b0, b1) and the end of the PNG. */
export interface RegionText {
  b0: number;
  b1: number;
  region: Uint8Array;
  end: Uint8Array;
}

export function regionText(base: RegionRows, rle: Rle): RegionText {
  const { b0, b1, region, end } = regionPngParts(base, rle);
  return { b0, b1, region: base64Ascii(region), end: base64Ascii(end) };
}

/** What comes before the shared chunks in every body of one image: `head` (UTF-8) and the PNG head's base64. */
export function bodyPrefix(head: string, width: number, height: number): Uint8Array {
  return Buffer.concat([Buffer.from(head, "utf8"), base64Ascii(pngHead(width, height))]);
}

/**
 * The pieces of a region's body, in order: `prefix` (bodyPrefix), the shared text of blocks [0, b0), the
 * region's text, the shared text of blocks [b1, end), the end's text, `suffix` (the JSON after the URL, UTF-8).
 */
export function bodyPieces(prefix: Uint8Array, shared: SharedText, own: RegionText, suffix: Uint8Array): Uint8Array[] {
  const { text, start } = shared;
  const pieces = [prefix, text.subarray(0, start[own.b0]), own.region, text.subarray(start[own.b1]), own.end, suffix];
  return pieces.filter((p) => p.length > 0);
}

/** A region's whole body in one buffer (`head + base64(PNG) + tail`), made on this thread. */
export function regionRequestBody(base: RegionPngBase, rle: Rle, head: string, tail: string, shared = sharedText(base)): Uint8Array {
  const pieces = bodyPieces(bodyPrefix(head, base.width, base.height), shared, regionText(base, rle), Buffer.from(tail, "utf8"));
  return Buffer.concat(pieces);
}
