/**
 * A region's rows as one deflate block of literals under the image's own Huffman code, put together from bits
 * encoded once per image (RFC 1951: 3.2.2 canonical codes, 3.2.7 dynamic blocks; bits packed from the least
 * significant end of each byte, Huffman codes from their most significant bit, hence the reversed codes).
 *
 * Why: a region's PNG differs from the image's alpha-0 rows only in the alpha bytes of its bounding box (and the
 * row and column after it). With no string matching, a literal's code does not depend on its neighbours, so a
 * region's row is the image row's bits up to the box, the box's bytes encoded anew, and the row's bits after
 * the box, shifted. That is a few copies of 32-bit words instead of zlib running over all the region's rows
 * (12 ms at level 1 for 1.4 MB of rows, against about 1 ms), for about 15 % more bytes in those rows than
 * zlib's level 1 (the rows every region shares stay zlib's, at level 4).
 */

/** Bytes between the points where a row's bit offset is kept: a region's bytes are encoded from one of them. */
export const CHECKPOINT_BYTES = 128;

/**
 * Huffman code lengths for `freq` (every symbol with a count > 0 gets one), at most `maxLen` bits: if the
 * optimal code is deeper, the counts are halved (keeping them ≥ 1) and it is made again, zlib's own remedy
 * before it had an exact one; the result is an optimal, complete code for the halved counts.
 */
export function huffmanLengths(freq: ArrayLike<number>, maxLen: number): Uint8Array {
  const n = freq.length;
  const f = Float64Array.from(freq);
  for (;;) {
    const lengths = optimalLengths(f);
    let deepest = 0;
    for (let i = 0; i < n; i++) if (lengths[i]! > deepest) deepest = lengths[i]!;
    if (deepest <= maxLen) return lengths;
    for (let i = 0; i < n; i++) if (f[i]! > 0) f[i] = Math.max(1, Math.floor(f[i]! / 2));
  }
}

/** Huffman's algorithm by two queues (leaves sorted by count, then the internal nodes as they are made). */
function optimalLengths(f: Float64Array): Uint8Array {
  const n = f.length;
  const leaves: number[] = [];
  for (let i = 0; i < n; i++) if (f[i]! > 0) leaves.push(i);
  const lengths = new Uint8Array(n);
  if (leaves.length === 0) return lengths;
  if (leaves.length === 1) {
    lengths[leaves[0]!] = 1;
    return lengths;
  }
  leaves.sort((a, b) => f[a]! - f[b]! || a - b);
  const m = leaves.length;
  // nodes 0..m-1: leaves in order; m..2m-2: internal nodes
  const weight = new Float64Array(2 * m - 1);
  const parent = new Int32Array(2 * m - 1);
  for (let i = 0; i < m; i++) weight[i] = f[leaves[i]!]!;
  let leaf = 0;
  let inner = m;
  const take = (next: number) => (leaf < m && (inner >= next || weight[leaf]! <= weight[inner]!) ? leaf++ : inner++);
  for (let next = m; next < 2 * m - 1; next++) {
    const a = take(next);
    const b = take(next);
    weight[next] = weight[a]! + weight[b]!;
    parent[a] = next;
    parent[b] = next;
  }
  const depth = new Uint8Array(2 * m - 1);
  for (let k = 2 * m - 3; k >= 0; k--) depth[k] = depth[parent[k]!]! + 1;
  for (let i = 0; i < m; i++) lengths[leaves[i]!] = depth[i]!;
  return lengths;
}

/** Canonical codes for `lengths` (RFC 1951, 3.2.2), bit-reversed so that they are written from the low end. */
export function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const count = new Uint32Array(16);
  for (const l of lengths) count[l]++;
  count[0] = 0;
  const next = new Uint32Array(16);
  let code = 0;
  for (let bits = 1; bits < 16; bits++) {
    code = (code + count[bits - 1]!) << 1;
    next[bits] = code;
  }
  const codes = new Uint32Array(lengths.length);
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i]!;
    if (len === 0) continue;
    let c = next[len]!++;
    let r = 0;
    for (let k = 0; k < len; k++, c >>>= 1) r = (r << 1) | (c & 1);
    codes[i] = r;
  }
  return codes;
}

/** Bits written from the low end of 32-bit words (deflate's order on a little-endian machine's bytes). */
export class BitWriter {
  out: Uint32Array;
  /** Whole words written. */
  w = 0;
  /** Bits waiting, and how many (0–31). */
  private acc = 0;
  private cnt = 0;

  /** Room for `words` words: `reuse` when it has that many (its contents are overwritten, never read). */
  constructor(words: number, reuse?: Uint32Array) {
    this.out = reuse && reuse.length >= words ? reuse : new Uint32Array(words);
  }

  get bits(): number {
    return this.w * 32 + this.cnt;
  }

  /** The low `n` bits (0–32) of `v`, which must have no bits above them. */
  put(v: number, n: number): void {
    if (n === 0) return;
    const cnt = this.cnt;
    this.acc |= v << cnt;
    if (cnt + n >= 32) {
      this.out[this.w++] = this.acc;
      this.acc = cnt === 0 ? 0 : v >>> (32 - cnt);
      this.cnt = cnt + n - 32;
    } else this.cnt = cnt + n;
  }

  /** `n` bits of `src` from bit `p` (`src` has a word to spare after them). */
  copy(src: Uint32Array, p: number, n: number): void {
    const out = this.out;
    let w = this.w;
    let acc = this.acc;
    const cnt = this.cnt;
    let i = p >>> 5;
    const s = p & 31;
    const words = n >>> 5;
    // whole words: each read from two source words when the copy is not word-aligned, written across two
    if (s === 0 && cnt === 0) {
      out.set(src.subarray(i, i + words), w);
      w += words;
      i += words;
    } else if (s === 0) {
      for (let k = 0; k < words; k++) {
        const v = src[i++]!;
        out[w++] = acc | (v << cnt);
        acc = v >>> (32 - cnt);
      }
    } else {
      let lo = src[i]! >>> s;
      for (let k = 0; k < words; k++) {
        const hi = src[++i]!;
        const v = lo | (hi << (32 - s));
        lo = hi >>> s;
        out[w++] = acc | (v << cnt);
        acc = cnt === 0 ? 0 : v >>> (32 - cnt);
      }
    }
    this.w = w;
    this.acc = acc;
    const rest = n & 31;
    if (rest > 0) {
      const at = p + n - rest;
      const j = at >>> 5;
      const t = at & 31;
      const v = t === 0 ? src[j]! : (src[j]! >>> t) | (src[j + 1]! << (32 - t));
      this.put((v & (0xffffffff >>> (32 - rest))) >>> 0, rest);
    }
  }

  /** Pads with zero bits to a byte boundary. */
  alignByte(): void {
    const pad = (8 - (this.cnt & 7)) & 7;
    this.put(0, pad);
  }

  /** The bytes written (a whole number of them: call alignByte first). */
  bytes(): Uint8Array {
    if (this.cnt & 7) throw new Error("BitWriter: not at a byte boundary");
    if (this.cnt > 0) this.out[this.w] = this.acc;
    const n = this.w * 4 + (this.cnt >>> 3);
    const bytes = new Uint8Array(this.out.buffer, this.out.byteOffset, n);
    if (!LITTLE_ENDIAN) for (let k = 0; k < this.w + (this.cnt > 0 ? 1 : 0); k++) new DataView(this.out.buffer).setUint32(4 * k, this.out[k]!, true);
    return bytes;
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** A literal-only code: literals 0–255 and end-of-block (256), and its dynamic block header. */
export interface LiteralCode {
  lengths: Uint8Array;
  codes: Uint32Array;
  /** BFINAL 0, BTYPE 10 and the code's description, as bits (RFC 1951, 3.2.7). */
  header: Uint32Array;
  headerBits: number;
}

/** The order in which a dynamic block gives the code lengths of its code-length alphabet (RFC 1951, 3.2.7). */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * The code for byte counts `counts` (256 entries): every byte value gets a code (a region's bytes need not
 * occur in the image), end-of-block too. Two distance codes of one bit are described though none is used, as
 * zlib does for decoders that want at least one.
 */
export function literalCode(counts: ArrayLike<number>): LiteralCode {
  const freq = new Float64Array(257);
  for (let i = 0; i < 256; i++) freq[i] = counts[i]! + 1;
  freq[256] = 1;
  const lengths = huffmanLengths(freq, 15);
  const codes = canonicalCodes(lengths);
  const all = [...lengths, 1, 1];
  const clFreq = new Float64Array(19);
  for (const l of all) clFreq[l]++;
  const clLengths = huffmanLengths(clFreq, 7);
  const clCodes = canonicalCodes(clLengths);
  let hclen = 19;
  while (hclen > 4 && clLengths[CL_ORDER[hclen - 1]!] === 0) hclen--;
  const w = new BitWriter(128);
  w.put(0b100, 3); // not final, dynamic codes
  w.put(257 - 257, 5); // HLIT
  w.put(2 - 1, 5); // HDIST
  w.put(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.put(clLengths[CL_ORDER[k]!]!, 3);
  for (const l of all) w.put(clCodes[l]!, clLengths[l]!);
  const headerBits = w.bits;
  w.put(0, 32); // flush the last word, and a word to spare for copy()
  return { lengths, codes, header: w.out.slice(0, w.w + 1), headerBits };
}

/**
 * Every row of filtered bytes encoded with a literal code of its group of `groupRows` rows (a photo's statistics
 * change over it: one code for the whole image made the regions' rows a third larger), each row from a word
 * boundary of one buffer, with its bit offset every CHECKPOINT_BYTES bytes. Rows are encoded when first asked for.
 */
export class HuffmanRows {
  private words: Uint32Array;
  private top = 0;
  /** First word of each row, -1 until it is encoded. */
  private readonly rowWord: Int32Array;
  /** Per row, the bit offset of every checkpoint and (last) of the row's end. */
  readonly marks: Uint32Array;
  readonly perRow: number;
  /** The code of each group of rows, made when a row of the group is first encoded. */
  private readonly codes: (LiteralCode | undefined)[] = [];

  constructor(
    private readonly filtered: Uint8Array,
    readonly stride: number,
    readonly height: number,
    readonly groupRows: number,
    /** Byte counts (or a sample's) of each group's rows, 256 per group. */
    private readonly counts: Float64Array,
  ) {
    // Room for the rows at the entropy of all the counts together (a group's own code does better) and a tenth
    // more; encode() makes room if that is not enough. The codes are made when needed: the first region's are
    // then all that is made before its request (75 codes cost 70 ms of CPU before V8 compiles their making).
    const all = new Float64Array(256);
    for (let i = 0; i < counts.length; i++) all[i & 255] += counts[i]!;
    let total = 0;
    for (const c of all) total += c;
    let entropy = 0;
    for (const c of all) if (c > 0) entropy -= (c / total) * Math.log2(c / total);
    const estimate = total > 0 ? ((entropy + 0.1) * stride * height * 1.1) / 32 : 0;
    this.words = new Uint32Array(Math.ceil(estimate) + height + 2);
    this.rowWord = new Int32Array(height).fill(-1);
    this.perRow = Math.ceil(stride / CHECKPOINT_BYTES) + 1;
    this.marks = new Uint32Array(height * this.perRow);
  }

  /** The encoded bits (rows start at `start(y)`, in bits); encoding a row may move them (take them after). */
  get bits(): Uint32Array {
    return this.words;
  }

  /** The code of row y. */
  code(y: number): LiteralCode {
    const g = Math.floor(y / this.groupRows);
    return (this.codes[g] ??= literalCode(this.counts.subarray(256 * g, 256 * g + 256)));
  }

  /** Row y's first bit in `bits`, encoding it first if needed. */
  start(y: number): number {
    let w = this.rowWord[y]!;
    if (w < 0) w = this.encode(y);
    return w * 32;
  }

  private encode(y: number): number {
    const { lengths, codes } = this.code(y);
    // room for the row at 15 bits a byte, and a word to spare
    const most = Math.ceil((this.stride * 15) / 32) + 2;
    if (this.top + most > this.words.length) {
      const more = new Uint32Array(Math.max(this.top + most, Math.ceil(this.words.length * 1.25)));
      more.set(this.words.subarray(0, this.top));
      this.words = more;
    }
    const f = this.filtered;
    const out = this.words;
    const start = this.top;
    const marks = this.marks;
    const m0 = y * this.perRow;
    const rs = y * this.stride;
    let w = start;
    let acc = 0;
    let cnt = 0;
    for (let c = 0, i = 0; i < this.stride; c++) {
      marks[m0 + c] = (w - start) * 32 + cnt;
      for (const end = Math.min(this.stride, i + CHECKPOINT_BYTES); i < end; i++) {
        const v = f[rs + i]!;
        const len = lengths[v]!;
        const code = codes[v]!;
        acc |= code << cnt;
        cnt += len;
        if (cnt >= 32) {
          out[w++] = acc;
          cnt -= 32;
          acc = code >>> (len - cnt);
        }
      }
    }
    marks[m0 + this.perRow - 1] = (w - start) * 32 + cnt;
    if (cnt > 0) out[w++] = acc;
    this.top = w;
    this.rowWord[y] = start;
    return start;
  }
}
