/**
 * A region's request body: the JSON text around its PNG as base64, as pieces sent one after the other. Every
 * piece of a region's PNG is a multiple of 3 bytes long (region-png.ts), so the PNG's base64 is the
 * concatenation of its pieces' own: the text of the chunks every region shares is made once per image
 * (`sharedText`), and a region's body is two views of that text around the text of the region's own pieces
 * (`regionText`, small). Nothing of the shared text is copied per region. The bytes, joined, are exactly
 * those of `head + base64(encodeRegionPng(...)) + tail`.
 */
import { compressBlocks, filterBlocks, pngHead, regionPngParts, type RegionPngBase, type RegionRows } from "./region-png.js";
import type { Rle } from "../../masks/types.js";

/** Base64 of `bytes` as ASCII bytes, in a buffer of their own (transferable). */
export function base64Ascii(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  const out = new Uint8Array(text.length);
  Buffer.from(out.buffer).write(text, "latin1");
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

/** Blocks [from, to) of share `index` when `blocks` blocks are cut into `shares` shares. */
export function shareBlocks(index: number, shares: number, blocks: number): [number, number] {
  return [Math.floor((index * blocks) / shares), Math.floor(((index + 1) * blocks) / shares)];
}

/** A share of the shared text: its blocks' text, where each block's text starts in it, their Adler-32s when filtered here. */
export interface TextShare {
  index: number;
  text: Uint8Array;
  /** Text offsets of the share's blocks, and its end. */
  starts: Float64Array;
  adler?: Float64Array;
}

/**
 * Share `index` of the shared text at zlib `level`: its blocks filtered first into `filtered` when `rgb` is
 * given (otherwise the rows are already there), compressed into padded chunks, base64.
 */
export function textShare(
  index: number,
  shares: number,
  image: { width: number; height: number; blockRows: number; filtered: Uint8Array; rgb?: Uint8Array },
  level: number,
): TextShare {
  const { width, height, blockRows, filtered, rgb } = image;
  const [from, to] = shareBlocks(index, shares, Math.ceil(height / blockRows));
  const adler = rgb ? filterBlocks(rgb, width, height, from, to, blockRows, filtered) : undefined;
  const { chunks, starts } = compressBlocks(filtered, width, height, level, from, to, blockRows);
  // every chunk is a multiple of 3 bytes long: the share's text is its chunks' texts end to end
  return { index, text: base64Ascii(chunks), starts: starts.map((at) => (4 * at) / 3), adler };
}

/** The shared text from all its shares (in any order), and the blocks' Adler-32s when the shares carry them. */
export function joinShares(parts: readonly TextShare[], blocks: number): SharedText & { adler: Float64Array } {
  const sorted = [...parts].sort((a, b) => a.index - b.index);
  const start = new Float64Array(blocks + 1);
  const adler = new Float64Array(blocks);
  let at = 0;
  let b = 0;
  for (const p of sorted) {
    for (let k = 0; k < p.starts.length - 1; k++, b++) {
      start[b] = at + p.starts[k]!;
      if (p.adler) adler[b] = p.adler[k]!;
    }
    at += p.text.length;
  }
  if (b !== blocks) throw new Error(`shared text: ${b} blocks in the shares, expected ${blocks}`);
  start[blocks] = at;
  return { text: Buffer.concat(sorted.map((p) => p.text), at), start, adler };
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
