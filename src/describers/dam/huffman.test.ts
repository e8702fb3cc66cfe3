import { describe, expect, it } from "vitest";
import zlib from "node:zlib";
import { BitWriter, canonicalCodes, HuffmanRows, huffmanLengths, literalCode } from "./huffman.js";

/** Kraft's sum of a code's lengths: 1 for a complete code. */
const kraft = (lengths: ArrayLike<number>) => Array.from(lengths).reduce((s, l) => s + (l ? 2 ** -l : 0), 0);

describe("Huffman codes", () => {
  it("are complete and within the length limit, deeper codes for rarer symbols", () => {
    // Fibonacci counts make an optimal code as deep as there are symbols
    const fib = [1, 1];
    while (fib.length < 30) fib.push(fib.at(-1)! + fib.at(-2)!);
    for (const max of [7, 15]) {
      const lengths = huffmanLengths(fib, max);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(max);
      expect(kraft(lengths)).toBe(1);
    }
    const lengths = huffmanLengths([100, 1, 0, 50, 3], 15);
    expect(lengths[2]).toBe(0);
    expect(kraft(lengths)).toBe(1);
    expect(lengths[0]).toBeLessThanOrEqual(lengths[3]!);
    expect(lengths[3]).toBeLessThanOrEqual(lengths[1]!);
    expect([...huffmanLengths([0, 5, 0], 15)]).toEqual([0, 1, 0]);
  });

  it("canonical codes are prefix-free (RFC 1951's example)", () => {
    // RFC 1951, 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give 010 011 100 101 110 00 1110 1111
    const codes = canonicalCodes(Uint8Array.of(3, 3, 3, 3, 3, 2, 4, 4));
    const reverse = (c: number, n: number) => parseInt(c.toString(2).padStart(n, "0").split("").reverse().join(""), 2);
    expect([...codes]).toEqual([0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111].map((c, i) => reverse(c, [3, 3, 3, 3, 3, 2, 4, 4][i]!)));
  });

  it("a block of literals under literalCode inflates to its bytes, whatever the counts", () => {
    const bytes = new Uint8Array(5000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 7 === 0 ? 255 : (i * i) & 15;
    for (const counts of [new Float64Array(256), Float64Array.from({ length: 256 }, (_, v) => (v < 16 ? 1000 : 0))]) {
      const code = literalCode(counts);
      const w = new BitWriter(4000);
      w.copy(code.header, 0, code.headerBits);
      for (const b of bytes) w.put(code.codes[b]!, code.lengths[b]!);
      const out = endAndInflate(w, code);
      expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});

describe("BitWriter", () => {
  it("copies any run of bits from any offset to any offset", () => {
    const src = new Uint32Array(40);
    for (let i = 0; i < src.length; i++) src[i] = (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0;
    const bit = (words: Uint32Array, p: number) => (words[p >>> 5]! >>> (p & 31)) & 1;
    for (const lead of [0, 1, 7, 31, 32, 45]) {
      for (const from of [0, 3, 32, 33, 63]) {
        for (const n of [0, 1, 31, 32, 33, 64, 100, 1000]) {
          const w = new BitWriter(80);
          for (let k = 0; k < lead; k++) w.put(k & 1, 1);
          w.copy(src, from, n);
          w.put(1, 1);
          const bits = w.bits;
          w.put(0, 32);
          expect(bits).toBe(lead + n + 1);
          for (let k = 0; k < n; k++) if (bit(w.out, lead + k) !== bit(src, from + k)) throw new Error(`lead ${lead} from ${from} n ${n}: bit ${k}`);
          for (let k = 0; k < lead; k++) expect(bit(w.out, k)).toBe(k & 1);
          expect(bit(w.out, lead + n)).toBe(1);
        }
      }
    }
  });
});

describe("HuffmanRows", () => {
  it("encodes rows on demand, making room when the counts (a sample, or none) underestimate them; a group's rows inflate to their bytes", () => {
    const stride = 301;
    const height = 40;
    const filtered = new Uint8Array(stride * height);
    for (let i = 0; i < filtered.length; i++) filtered[i] = (i * 7919) % 251;
    const rows = new HuffmanRows(filtered, stride, height, 16, new Float64Array(256 * 3));
    for (const y of [39, 0, 17, 5, 38, 16, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) rows.start(y);
    // rows 0–15: one group, one code; the bits of each row from its start, its length the last mark
    const code = rows.code(0);
    const w = new BitWriter(4000);
    w.copy(code.header, 0, code.headerBits);
    for (let y = 0; y < 16; y++) w.copy(rows.bits, rows.start(y), rows.marks[y * rows.perRow + rows.perRow - 1]!);
    const out = endAndInflate(w, code);
    expect(Buffer.from(out).equals(Buffer.from(filtered.subarray(0, 16 * stride)))).toBe(true);
  });
});

/** Ends the block under `code` (its end-of-block code), adds an empty stored block as a sync flush writes it,
 * and inflates what `w` holds. */
function endAndInflate(w: BitWriter, code: { codes: ArrayLike<number>; lengths: ArrayLike<number> }): Buffer {
  w.put(code.codes[256]!, code.lengths[256]!);
  w.put(0, 3);
  w.alignByte();
  w.put(0, 16);
  w.put(0xffff, 16);
  return zlib.inflateRawSync(w.bytes(), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}
