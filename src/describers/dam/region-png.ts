/**
 * The RGBA PNG that DAM's protocol needs for every region: the whole photo, the region in the alpha channel.
 *
 * Every region of a photo shares its RGB, and outside the rows the region spans, every row is the same for all
 * regions (alpha 0). So the image is cut into blocks of rows, each compressed on its own (raw deflate ending in a
 * sync flush: byte-aligned, no reference to earlier blocks) and wrapped in an IDAT chunk of its own (PNG allows
 * the zlib stream to be split over any number of consecutive IDAT chunks). The alpha-0 blocks are compressed
 * once per image (`prepareRegionPng`); a region rewrites only the blocks its rows touch (`encodeRegionPng`):
 * by default as literals under Huffman codes of the image's own (huffman.ts: its rows' bits copied from bits
 * encoded once per image, only the bytes around its alpha encoded anew), or recompressed by zlib at another
 * level; the PNG is those chunks spliced in among the shared ones, with a zlib header chunk in
 * front and a final chunk holding an empty final deflate block and the Adler-32 of the whole stream (combined
 * from the blocks' own, as zlib's adler32_combine does). PNG layout and chunk CRCs: the PNG specification
 * (ISO/IEC 15948), zlib stream: RFC 1950, deflate blocks: RFC 1951.
 *
 * Settings, chosen by measurement on an 1800×1200 photo (BENCHMARKS.md "Describers over HTTP"): filter Paeth on
 * every row (5 % smaller than Sub at level 1, as small as choosing the best filter per row; the row under a
 * region reads the region's last row, so its block is the region's too), the shared blocks at zlib level 4 at
 * least (once per image: 14 % smaller than level 1 for 1.7× the time), a region's own blocks as literals
 * (1.4 ms instead of zlib level 1's 12 ms per region of the photo's 60-region grid, 494 KB instead of 343 KB:
 * the PNG 7 % larger; smaller blocks of rows made the PNG larger still: 8 rows 2.32 MB, 4 rows 2.35 MB, 16
 * rows 2.31 MB). Blocks of 16 rows.
 */
import zlib from "node:zlib";
import { forEachColumnSpan } from "../../masks/runs.js";
import type { Rle } from "../../masks/types.js";
import { BitWriter, CHECKPOINT_BYTES, HuffmanRows } from "./huffman.js";
import { PaethRows } from "./paeth-rows.js";

export const BLOCK_ROWS = 16;
/** Least zlib level of the blocks every region shares: compressed once per image, so a better level is cheap. */
export const SHARED_MIN_LEVEL = 4;

/** The zlib level of the shared blocks for regions encoded at `level`. */
export function sharedLevel(level: number): number {
  return Math.max(level, SHARED_MIN_LEVEL);
}

/**
 * The level of a region's own rows that means "literals under the image's own Huffman code" (huffman.ts), the
 * default: no zlib run per region. Any other level is zlib's.
 */
export const LITERAL_LEVEL = 1;

/** What a region's own part of its PNG needs. */
export interface RegionRows {
  width: number;
  height: number;
  level: number;
  /** Every row's bits under the image's literal code (at LITERAL_LEVEL). */
  literals?: HuffmanRows;
  blockRows: number;
  /** Adler-32 of each block's uncompressed (filtered) bytes. */
  adler: Float64Array;
  /**
   * Every row filtered (Paeth) with alpha 0: height × (1 + 4 · width) bytes. Paeth works on each channel
   * alone, so a region's rows are these with only their alpha bytes rewritten.
   */
  filtered: Uint8Array;
}

/** What every region's PNG of one image shares: the rows, and the alpha-0 blocks as IDAT chunks. */
export interface RegionPngBase extends RegionRows {
  /** The alpha-0 blocks as complete IDAT chunks, concatenated; chunk b is bytes [chunkStart[b], chunkStart[b + 1]). */
  chunks: Uint8Array;
  chunkStart: Float64Array;
  /** Gives the memory of `filtered` to the next image (PaethRows.release): nothing of the base is read after. */
  release(): void;
}

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const IDAT = Uint8Array.of(73, 68, 65, 84);
const crcIdat = zlib.crc32(IDAT);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, zlib.crc32(out.subarray(8, 8 + data.length), zlib.crc32(out.subarray(4, 8))) >>> 0);
  return out;
}

/**
 * An empty stored deflate block from a byte boundary (RFC 1951, 3.2.4: not final, type 00, LEN 0, NLEN 0xffff),
 * as zlib's sync flush itself writes: five bytes that inflate to nothing.
 */
const EMPTY_STORED = Uint8Array.of(0, 0, 0, 0xff, 0xff);

/**
 * Every IDAT chunk written here is a multiple of 3 bytes long (and so is the PNG's head and its end): then the
 * base64 of a PNG is the base64 of its chunks, each encoded on its own, and the text of the chunks every region
 * shares is made once per image (region-body.ts). A chunk around n bytes of deflate data gets n mod 3 empty
 * stored blocks after them (5 ≡ 2 mod 3: one makes n ≡ 1 whole, two make n ≡ 2 whole; 12 bytes of length, type
 * and CRC change nothing).
 */
function padBlocks(dataLength: number): number {
  return dataLength % 3;
}

/** Bytes of the IDAT chunk around `dataLength` bytes of deflate data, padding included. */
export function idatSize(dataLength: number): number {
  return 12 + dataLength + EMPTY_STORED.length * padBlocks(dataLength);
}

/** An IDAT chunk around `data` (ending byte-aligned and not final), padded, written into `out` at `at`; returns the end. */
function writeIdat(out: Uint8Array, at: number, data: Uint8Array): number {
  const pads = padBlocks(data.length);
  const length = data.length + EMPTY_STORED.length * pads;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, length);
  out.set(IDAT, at + 4);
  out.set(data, at + 8);
  for (let k = 0; k < pads; k++) out.set(EMPTY_STORED, at + 8 + data.length + k * EMPTY_STORED.length);
  view.setUint32(at + 8 + length, zlib.crc32(out.subarray(at + 8, at + 8 + length), crcIdat) >>> 0);
  return at + 12 + length;
}

function ihdr(width: number, height: number): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data[8] = 8; // bit depth
  data[9] = 6; // colour type: RGBA
  return chunk("IHDR", data); // compression, filter method, interlace: 0
}

const IEND = chunk("IEND", new Uint8Array(0));
/** zlib header: deflate, 32 KiB window, no dictionary ((0x78 · 256 + 0x01) is a multiple of 31). */
const ZLIB_HEADER = Uint8Array.of(0x78, 0x01);
/** The last deflate block: final, fixed Huffman codes, nothing but the end-of-block code. */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

const ADLER_MOD = 65521;

/** Adler-32 (RFC 1950) of bytes, continuing from `adler`. */
export function adler32(data: Uint8Array, adler = 1): number {
  let a = adler & 0xffff;
  let b = adler >>> 16;
  const n = data.length;
  for (let i = 0; i < n; ) {
    // 5552 bytes is the most that can be summed before b can overflow 2^32 (zlib's NMAX)
    const end = Math.min(n, i + 5552);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/** Adler-32 of the concatenation of two byte strings, from theirs and the second one's length (zlib's adler32_combine). */
export function adler32Combine(adler1: number, adler2: number, len2: number): number {
  const rem = len2 % ADLER_MOD;
  let sum1 = adler1 & 0xffff;
  let sum2 = (rem * sum1) % ADLER_MOD;
  sum1 += (adler2 & 0xffff) + ADLER_MOD - 1;
  sum2 += (adler1 >>> 16) + (adler2 >>> 16) + ADLER_MOD - rem;
  if (sum1 >= ADLER_MOD) sum1 -= ADLER_MOD;
  if (sum1 >= ADLER_MOD) sum1 -= ADLER_MOD;
  if (sum2 >= ADLER_MOD * 2) sum2 -= ADLER_MOD * 2;
  if (sum2 >= ADLER_MOD) sum2 -= ADLER_MOD;
  return ((sum2 << 16) | sum1) >>> 0;
}

function compressBlock(filtered: Uint8Array, level: number): Uint8Array {
  // A sync flush ends the segment byte-aligned and not final: segments concatenate into one deflate stream.
  return zlib.deflateRawSync(filtered, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/**
 * Block b's rows filtered (into `rows.filtered`); returns their Adler-32 and writes the byte counts of each group of
 * LITERAL_GROUP_ROWS rows into `counts` (256 per group).
 */
function filterBlock(rows: PaethRows, b: number, blockRows: number, counts?: Float64Array): number {
  const { width, height, filtered } = rows;
  const stride = 1 + 4 * width;
  const y0 = b * blockRows;
  const y1 = Math.min(height, y0 + blockRows);
  const adler = rows.filter(y0, y1);
  if (counts) {
    // The code needs the bytes' statistics, not their exact counts: every COUNTED_ROWS-th row is counted (a
    // quarter of the time). A row is its filter type (4), then R, G, B and 0 per pixel: the alpha and type
    // bytes are counted by multiplication, and the three channels in counts of their own (increments of one
    // count in a row wait on each other).
    const r = new Uint32Array(256);
    const g = new Uint32Array(256);
    const bl = new Uint32Array(256);
    for (let y = y0; y < y1; y++) {
      if (y % COUNTED_ROWS !== 0) continue;
      for (let i = y * stride + 1, end = i + 4 * width; i < end; i += 4) {
        r[filtered[i]!]++;
        g[filtered[i + 1]!]++;
        bl[filtered[i + 2]!]++;
      }
    }
    // every row counted was y0 (or the group's first) plus a multiple of COUNTED_ROWS; groups start at multiples of it
    for (let y = y0; y < y1; y++) {
      if ((y + 1) % LITERAL_GROUP_ROWS !== 0 && y + 1 !== y1) continue;
      const at = 256 * Math.floor(y / LITERAL_GROUP_ROWS);
      let rows = 0;
      for (let k = Math.max(y0, y + 1 - LITERAL_GROUP_ROWS); k <= y; k++) if (k % COUNTED_ROWS === 0) rows++;
      counts[at] += rows * width;
      counts[at + 4] += rows;
    }
    // the channels' counts, into the groups of the rows they came from (the block's rows are in one group or more)
    if (Math.floor(y0 / LITERAL_GROUP_ROWS) !== Math.floor((y1 - 1) / LITERAL_GROUP_ROWS)) {
      throw new Error(`blocks of ${blockRows} rows span several groups of ${LITERAL_GROUP_ROWS}`);
    }
    const at = 256 * Math.floor(y0 / LITERAL_GROUP_ROWS);
    for (let v = 0; v < 256; v++) counts[at + v] += r[v]! + g[v]! + bl[v]!;
  }
  return adler;
}

/** Rows per literal code (huffman.ts): a multiple of the blocks' rows, so that a block is in one group. */
export const LITERAL_GROUP_ROWS = 16;
/** One row in this many is counted for the literal codes (a divisor of LITERAL_GROUP_ROWS). */
const COUNTED_ROWS = 4;

/**
 * Blocks [from, to) of filtered rows (alpha 0), each deflated on its own at zlib `level` into a padded IDAT
 * chunk: the chunks concatenated, and where each starts (`starts[to - from]` is the end).
 */
export function compressBlocks(filtered: Uint8Array, width: number, height: number, level: number, from: number, to: number, blockRows: number) {
  const stride = 1 + 4 * width;
  const parts: Uint8Array[] = [];
  for (let b = from; b < to; b++) {
    const y0 = b * blockRows;
    const y1 = Math.min(height, y0 + blockRows);
    parts.push(compressBlock(filtered.subarray(y0 * stride, y1 * stride), level));
  }
  return idatChunks(parts);
}

/** Each block's deflate data in an IDAT chunk of its own, the chunks concatenated; `starts[parts.length]` is the end. */
function idatChunks(parts: readonly Uint8Array[]): { chunks: Uint8Array; starts: Float64Array } {
  const chunks = new Uint8Array(parts.reduce((n, z) => n + idatSize(z.length), 0));
  const starts = new Float64Array(parts.length + 1);
  let at = 0;
  parts.forEach((z, i) => {
    starts[i] = at;
    at = writeIdat(chunks, at, z);
  });
  starts[parts.length] = at;
  return { chunks, starts };
}

export function blockCount(height: number, blockRows = BLOCK_ROWS): number {
  return Math.ceil(height / blockRows);
}

/** The shared part of every region's PNG of one image (all blocks at alpha 0). */
export function prepareRegionPng(rgb: Uint8Array, width: number, height: number, level: number, blockRows = BLOCK_ROWS): RegionPngBase {
  const stride = 1 + 4 * width;
  const paeth = new PaethRows(rgb, width, height);
  const filtered = paeth.filtered;
  const counts = new Float64Array(256 * Math.ceil(height / LITERAL_GROUP_ROWS));
  const adler = new Float64Array(blockCount(height, blockRows));
  for (let b = 0; b < adler.length; b++) adler[b] = filterBlock(paeth, b, blockRows, counts);
  const { chunks, starts } = compressBlocks(filtered, width, height, sharedLevel(level), 0, adler.length, blockRows);
  const literals = level === LITERAL_LEVEL ? new HuffmanRows(filtered, stride, height, LITERAL_GROUP_ROWS, counts) : undefined;
  return { width, height, level, blockRows, chunks, chunkStart: starts, adler, filtered, literals, release: () => paeth.release() };
}

/**
 * prepareRegionPng with the blocks compressed on libuv's threads (zlib's asynchronous streams) while this thread
 * filters the next ones: the same bytes, the image's one-time work spread over the cores without starting
 * worker threads (each costs 100 ms of CPU or more to start). A block goes to zlib as soon as it is filtered,
 * and this thread lets zlib's callbacks run after every few blocks: a stream takes its next block only from
 * this thread, so a loop that filtered the whole image first left the cores idle meanwhile (50–80 ms when
 * the filter was JavaScript; 4–9 ms in WebAssembly, paeth-rows.wat).
 */
export async function prepareRegionPngAsync(
  rgb: Uint8Array,
  width: number,
  height: number,
  level: number,
  blockRows = BLOCK_ROWS,
  /** Rows [y0, y1) of the regions to be sent first: their literal bits are made while zlib finishes. */
  firstRows: readonly (readonly [number, number])[] = [],
): Promise<RegionPngBase> {
  const stride = 1 + 4 * width;
  const paeth = new PaethRows(rgb, width, height);
  const filtered = paeth.filtered;
  const counts = new Float64Array(256 * Math.ceil(height / LITERAL_GROUP_ROWS));
  const blocks = blockCount(height, blockRows);
  const adler = new Float64Array(blocks);
  // A few zlib streams, block b on stream b mod k, each block ended by a full flush (byte-aligned, the
  // dictionary forgotten): the same bytes as a stream of its own per block (the tests check), without making
  // 75 streams (their objects cost more CPU than a third of the compression).
  const deflaters = Array.from({ length: Math.min(ASYNC_STREAMS, blocks) }, () => new BlockDeflater(sharedLevel(level), blockRows * stride));
  const compressed: Promise<Buffer>[] = [];
  let parts: Buffer[];
  let literals: HuffmanRows | undefined;
  try {
    for (let b = 0; b < blocks; b++) {
      adler[b] = filterBlock(paeth, b, blockRows, counts);
      const rows = filtered.subarray(b * blockRows * stride, Math.min(height, (b + 1) * blockRows) * stride);
      const done = deflaters[b % deflaters.length]!.deflate(rows);
      done.catch(() => {}); // awaited below with the others; an early failure must not go unhandled meanwhile
      compressed.push(done);
      if (b % YIELD_BLOCKS === YIELD_BLOCKS - 1) await new Promise(setImmediate);
    }
    if (level === LITERAL_LEVEL) {
      // This thread is free while zlib compresses the last blocks: the rows of the first regions' blocks
      // (regionPngParts' b0..b1), which their bodies would otherwise encode when they are to be sent.
      literals = new HuffmanRows(filtered, stride, height, LITERAL_GROUP_ROWS, counts);
      for (const [y0, y1] of firstRows) {
        const [b0, b1] = regionBlocks(Math.max(0, y0), Math.min(height, y1), blockRows, blocks);
        for (let y = b0 * blockRows, end = Math.min(height, b1 * blockRows); y < end; y++) literals.start(y);
      }
    }
    parts = await Promise.all(compressed);
  } catch (err) {
    paeth.release();
    throw err;
  } finally {
    for (const d of deflaters) d.close();
  }
  const { chunks, starts: chunkStart } = idatChunks(parts);
  return { width, height, level, blockRows, chunks, chunkStart, adler, filtered, literals, release: () => paeth.release() };
}

/** zlib streams that compress an image's shared blocks (on libuv's threads, in parallel). */
const ASYNC_STREAMS = 4;
/** Blocks filtered between two turns of the event loop (a turn lets the streams take their next blocks). */
const YIELD_BLOCKS = 2;

/**
 * One zlib stream that deflates blocks in turn, each ended by a full flush (every write is flushed: one job on
 * libuv's threads per block, its output in one piece when `chunkSize` holds it), and gives each block's output.
 */
class BlockDeflater {
  private readonly z: zlib.DeflateRaw;
  private out: Buffer[] = [];
  private failure: Error | undefined;

  constructor(level: number, blockBytes: number) {
    // deflate's worst case is the input plus 5 bytes per 16 KB stored block; a little more for the flush
    const chunkSize = Math.max(zlib.constants.Z_MIN_CHUNK, blockBytes + 5 * Math.ceil(blockBytes / 16384) + 64);
    this.z = zlib.createDeflateRaw({ level, flush: zlib.constants.Z_FULL_FLUSH, chunkSize });
    this.z.on("data", (c: Buffer) => this.out.push(c));
    this.z.on("error", (err) => (this.failure ??= err));
  }

  /** The block's deflate output; blocks are compressed in the order given. */
  deflate(rows: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.z.write(rows, (err) => {
        const parts = this.out;
        this.out = [];
        if (err || this.failure) reject(err ?? this.failure);
        else resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      });
    });
  }

  close(): void {
    this.z.close();
  }
}

/**
 * The blocks [b0, b1) of a region on rows [ry0, ry1): those its rows touch, and the one holding the row below
 * it, whose Paeth filter reads the region's last row ([0, 0) for no rows).
 */
function regionBlocks(ry0: number, ry1: number, blockRows: number, blocks: number): [number, number] {
  if (!(ry1 > ry0)) return [0, 0];
  return [Math.floor(ry0 / blockRows), Math.min(blocks, Math.floor(ry1 / blockRows) + 1)];
}

/** The region's box: rows [y0, y1), columns [x0, x1) (all 0 when the mask is empty). */
function box(rle: Rle): [number, number, number, number] {
  let y0 = rle.height;
  let y1 = 0;
  let x0 = rle.width;
  let x1 = 0;
  forEachColumnSpan(rle, (x, top, len) => {
    if (top < y0) y0 = top;
    if (top + len > y1) y1 = top + len;
    if (x < x0) x0 = x;
    if (x + 1 > x1) x1 = x + 1;
  });
  return y0 < y1 ? [y0, y1, x0, x1] : [0, 0, 0, 0];
}

/**
 * The filtered alpha bytes a region changes: rows [cy0, cy1) × pixels [ax0, ax1) (its box and the row and
 * column after it: Paeth reads the upper and left neighbours), with what they add to the Adler-32 sums of the
 * region's rows [y0, …) of `n` bytes: Σ byte and Σ (n − i)·byte at offset i, mod 65521 (they were 0).
 */
interface AlphaBox {
  cy0: number;
  cy1: number;
  ax0: number;
  ax1: number;
  /** Filtered alpha, (cy1 − cy0) rows of (ax1 − ax0) bytes. */
  bytes: Uint8Array;
  addA: number;
  addB: number;
}

function alphaBox(rle: Rle, width: number, height: number, y0: number, n: number): AlphaBox {
  const [ry0, ry1, rx0, rx1] = box(rle);
  const cy0 = ry0;
  const cy1 = Math.min(height, ry1 + 1);
  const ax0 = rx0;
  const ax1 = Math.min(width, rx1 + 1);
  const aw = ax1 - ax0;
  const mask = new Uint8Array((cy1 - cy0) * aw);
  forEachColumnSpan(rle, (x, top, len) => {
    for (let p = (top - cy0) * aw + x - ax0, end = p + len * aw; p < end; p += aw) mask[p] = 255;
  });
  const bytes = new Uint8Array(mask.length);
  const stride = 1 + 4 * width;
  let sumA = 0;
  let sumB = 0;
  // Paeth on the alpha bytes (PNG specification, 9.4); outside the box alpha is 0
  for (let y = cy0; y < cy1; y++) {
    const row = (y - cy0) * aw;
    const up = y > cy0 ? row - aw : -1;
    let left = 0;
    let upLeft = 0;
    for (let x = ax0, k = row, oo = (y - y0) * stride + 4 + 4 * ax0; x < ax1; x++, k++, oo += 4) {
      const v = mask[k]!;
      const u = up < 0 ? 0 : mask[up + x - ax0]!;
      if ((v | u | left | upLeft) !== 0) {
        const pa = u > upLeft ? u - upLeft : upLeft - u;
        const pb = left > upLeft ? left - upLeft : upLeft - left;
        const sum = left + u - 2 * upLeft;
        const pc = sum < 0 ? -sum : sum;
        const byte = (v - (pa <= pb && pa <= pc ? left : pb <= pc ? u : upLeft)) & 255;
        bytes[k] = byte;
        sumA += byte;
        sumB += (n - oo) * byte; // at most 255 · n per pixel: exact in a double for a row
      }
      left = v;
      upLeft = u;
    }
    sumA %= ADLER_MOD;
    sumB %= ADLER_MOD;
  }
  return { cy0, cy1, ax0, ax1, bytes, addA: sumA, addB: sumB };
}

/**
 * Rows [y0, y1) with the region's alpha as one deflate block of literals under the image's code (huffman.ts):
 * each row's bits copied from the image's, the bytes around the alpha box encoded anew; then an empty stored
 * block, which ends it on a byte boundary as a sync flush does.
 */
/** literalRows' bits, kept from one region to the next (what it returns is a view of them). */
let scratch: Uint32Array | undefined;

function literalRows(base: RegionRows, y0: number, y1: number, a: AlphaBox): Uint8Array {
  const rows = base.literals!;
  const { marks, perRow, groupRows } = rows;
  const stride = 1 + 4 * base.width;
  const f = base.filtered;
  const aw = a.ax1 - a.ax0;
  // the bytes encoded anew: from the checkpoint before the box's first alpha byte to the one after its last
  const s = 4 + 4 * a.ax0;
  const e = 4 * a.ax1 + 1;
  const c0 = Math.floor(s / CHECKPOINT_BYTES);
  const c1 = Math.min(perRow - 1, Math.ceil(e / CHECKPOINT_BYTES));
  const i0 = c0 * CHECKPOINT_BYTES;
  const i1 = Math.min(stride, c1 * CHECKPOINT_BYTES);
  let total = 64;
  for (let y = y0; y < y1; y++) {
    rows.start(y);
    total += marks[y * perRow + perRow - 1]! + (y % groupRows === 0 ? rows.code(y).headerBits + 15 : 0);
  }
  total += (a.cy1 - a.cy0) * (i1 - i0) * 15;
  const bits = rows.bits; // after every row is encoded: encoding may have moved them
  const w = new BitWriter(Math.ceil(total / 32) + 2, scratch);
  scratch = w.out;
  let code = rows.code(y0);
  for (let y = y0; y < y1; y++) {
    if (y === y0 || y % groupRows === 0) {
      // a block of its own for each group of rows: the previous one's end, this one's code
      if (y > y0) w.put(code.codes[256]!, code.lengths[256]!);
      code = rows.code(y);
      w.copy(code.header, 0, code.headerBits);
    }
    const p = rows.start(y);
    const m = y * perRow;
    const end = marks[m + perRow - 1]!;
    if (y < a.cy0 || y >= a.cy1) {
      w.copy(bits, p, end);
      continue;
    }
    w.copy(bits, p, marks[m + c0]!);
    const { codes, lengths } = code;
    const rs = y * stride;
    const ar = (y - a.cy0) * aw - a.ax0 - 1; // alpha of pixel x, at byte 4x + 4 of the row: a.bytes[ar + (i >> 2)]
    for (let i = i0; i < i1; i++) {
      const v = (i & 3) === 0 && i >= s && i < e ? a.bytes[ar + (i >> 2)]! : f[rs + i]!;
      w.put(codes[v]!, lengths[v]!);
    }
    const after = marks[m + c1]!;
    w.copy(bits, p + after, end - after);
  }
  w.put(code.codes[256]!, code.lengths[256]!); // end of block
  w.put(0, 3); // an empty stored block, not final
  w.alignByte();
  w.put(0, 16);
  w.put(0xffff, 16);
  return w.bytes();
}

/**
 * The region's own pieces of the RGBA PNG of the image with the region's pixels at alpha 255 and all others
 * at 0: the PNG is `pngHead`, the shared chunks of blocks [0, b0), `region`, the shared chunks of blocks
 * [b1, end), `end`. Every piece is a multiple of 3 bytes long.
 */
export function regionPngParts(base: RegionRows, rle: Rle): RegionPngParts {
  const { width, height, blockRows, level } = base;
  const blocks = base.adler.length;
  const [ry0, ry1] = box(rle);
  const [b0, b1] = regionBlocks(ry0, ry1, blockRows, blocks);
  const y0 = b0 * blockRows;
  const y1 = Math.min(height, b1 * blockRows);
  const stride = 1 + 4 * width;
  const n = (y1 - y0) * stride;
  let region = new Uint8Array(0);
  let addA = 0;
  let addB = 0;
  if (b1 > b0) {
    const a = alphaBox(rle, width, height, y0, n);
    addA = a.addA;
    addB = a.addB;
    let z: Uint8Array;
    if (level === LITERAL_LEVEL && base.literals) z = literalRows(base, y0, y1, a);
    else {
      // the region's rows with its alpha, recompressed by zlib as one piece
      const rows = base.filtered.slice(y0 * stride, y1 * stride);
      const aw = a.ax1 - a.ax0;
      for (let y = a.cy0; y < a.cy1; y++) {
        for (let x = a.ax0, k = (y - a.cy0) * aw; x < a.ax1; x++, k++) rows[(y - y0) * stride + 4 + 4 * x] = a.bytes[k]!;
      }
      z = compressBlock(rows, level);
    }
    region = Buffer.allocUnsafe(idatSize(z.length)); // every byte written
    writeIdat(region, 0, z);
  }
  // Adler-32 of the whole stream: the shared blocks before, the region's rows, the shared blocks after
  let adler = 1;
  const blockBytes = (b: number) => (Math.min(height, (b + 1) * blockRows) - b * blockRows) * stride;
  for (let b = 0; b < b0; b++) adler = adler32Combine(adler, base.adler[b]!, blockBytes(b));
  if (b1 > b0) {
    // the region's rows are the shared blocks' with alpha bytes added where there were zeros (alphaBox)
    let rows = 1;
    for (let b = b0; b < b1; b++) rows = adler32Combine(rows, base.adler[b]!, blockBytes(b));
    const a = ((rows & 0xffff) + addA) % ADLER_MOD;
    const bSum = ((rows >>> 16) + addB) % ADLER_MOD;
    adler = adler32Combine(adler, ((bSum << 16) | a) >>> 0, n);
  }
  for (let b = b1; b < blocks; b++) adler = adler32Combine(adler, base.adler[b]!, blockBytes(b));
  // the final deflate block and the Adler-32: 6 bytes, a multiple of 3 without padding (nothing may follow it)
  const last = new Uint8Array(FINAL_BLOCK.length + 4);
  last.set(FINAL_BLOCK, 0);
  new DataView(last.buffer).setUint32(FINAL_BLOCK.length, adler);
  const end = new Uint8Array(idatSize(last.length) + IEND.length);
  end.set(IEND, writeIdat(end, 0, last));
  return { b0, b1, region, end };
}

/** A region's own pieces of its PNG (regionPngParts). */
export interface RegionPngParts {
  /** The region's blocks are [b0, b1) (none when the mask is empty). */
  b0: number;
  b1: number;
  /** The region's rows, one IDAT chunk (empty when the mask is). */
  region: Uint8Array;
  /** The last IDAT chunk (final deflate block, Adler-32) and IEND. */
  end: Uint8Array;
}

/**
 * Signature, IHDR and the IDAT chunk with the zlib header (padded): the same for every region of an image, 57
 * bytes.
 */
export function pngHead(width: number, height: number): Uint8Array {
  const out = new Uint8Array(SIGNATURE.length + 25 + idatSize(ZLIB_HEADER.length));
  out.set(SIGNATURE, 0);
  out.set(ihdr(width, height), SIGNATURE.length);
  writeIdat(out, SIGNATURE.length + 25, ZLIB_HEADER);
  return out;
}

/** The RGBA PNG of the image with the region's pixels at alpha 255 and all others at 0. */
export function encodeRegionPng(base: RegionPngBase, rle: Rle): Uint8Array {
  const p = regionPngParts(base, rle);
  const shared = base.chunks;
  const pieces = [pngHead(base.width, base.height), shared.subarray(0, base.chunkStart[p.b0]!), p.region, shared.subarray(base.chunkStart[p.b1]!), p.end];
  const out = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
