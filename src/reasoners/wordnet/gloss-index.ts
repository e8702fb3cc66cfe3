/**
 * Where the words of a WordNet data file's definitions start, so that "in how many definitions does a word
 * start a word" (`WordNet.glossFrequency`) reads a few hundred positions instead of scanning the 15 MB of
 * data.noun once per word (10–30 ms each).
 *
 * The index holds a record for every byte position inside a gloss (from the line's first " | " on) that follows
 * a space: the position, its line's number and the eight bytes found there; records are grouped by a hash of
 * their first three bytes (a counting sort: within a group, records keep file order). A word of at least three
 * bytes can only start at a record of its own group, and is compared with the record's bytes (then, past eight
 * bytes, with the data file), so a hash collision costs a comparison, never a wrong count; lines are told apart
 * by number. A lookup thus reads the data file only for the long words' few candidates: its pages, read into
 * fresh memory, are dear to touch on a loaded machine (tens of milliseconds for the whole of data.noun).
 * Shorter words, and words that start with a space or hold a line break or a "|", are not indexed: the caller
 * scans for those.
 *
 * Built in one pass over the file (a tenth of a second), so it is kept on disk (`tables.ts`): a process reads
 * the group starts (16 kB) and then, per word, its group's records (a few kilobytes).
 */

import type { TableBody } from "./tables.js";

const SPACE = 32;
const NEWLINE = 10;
const BAR = 124; // "|"
/**
 * Groups: 2^12, about 250 positions each for the 1.1 million of data.noun. Few groups keep the counting sort's
 * counters in the processor's cache (2^17 groups took twice as long to build); a lookup compares a few hundred
 * positions, microseconds.
 */
const GROUP_BITS = 12;
const GROUPS = 1 << GROUP_BITS;
/** Header words of the serialised form, before the group starts and records (Int32, native byte order). */
const HEADER_WORDS = 4;
/** A record: position, line number, then the eight bytes at the position (two Int32 words' room). */
const RECORD_WORDS = 4;
const RECORD_TEXT = 8;

/** The group of a word starting with bytes `a b c`. */
function groupOf(a: number, b: number, c: number): number {
  return Math.imul((a << 16) | (b << 8) | c, 0x9e3779b1) >>> (32 - GROUP_BITS);
}

/** The data file a lookup compares long words with: its size, and bytes read at a position. */
export interface DataBytes {
  readonly length: number;
  bytesAt(position: number, length: number): Uint8Array;
}

/** A data file held in memory, as `DataBytes`. */
export function inMemory(data: Uint8Array): DataBytes {
  return { length: data.length, bytesAt: (position, length) => data.subarray(position, position + length) };
}

export class GlossIndex {
  /** Size of the data file indexed: a different file is never read through this index. */
  readonly dataBytes: number;
  /** Synset lines in the file (lines that do not start with a space). */
  readonly synsets: number;
  /** Where each group's positions start among the positions (GROUPS + 1 entries). */
  private readonly starts: Int32Array;

  /**
   * `head`: the header and group starts, already checked; the records follow them in `words` (a table built
   * in this process) or in a table file's body, read one group at a time.
   */
  private constructor(
    head: Int32Array,
    private readonly words: Int32Array | undefined,
    private readonly body?: TableBody,
  ) {
    this.dataBytes = head[1]!;
    this.synsets = head[2]!;
    this.starts = head.subarray(HEADER_WORDS, HEADER_WORDS + GROUPS + 1);
  }

  /** Index `data`, a WordNet data file (wndb(5WN): one synset per line, the gloss after the first " | "). */
  static build(data: Uint8Array): GlossIndex {
    const n = data.length;
    // Positions (and their lines) in file order first, then a counting sort by group. One pass over the bytes:
    // a Buffer.indexOf per line or per space costs more in calls than it saves. (data.noun has a word start
    // every 14 bytes.)
    let found = new Int32Array(Math.max(1024, Math.ceil(n / 12)));
    let lines = new Int32Array(found.length);
    let m = 0;
    const count = new Int32Array(GROUPS + 1);
    let synsets = n > 0 && data[0] !== SPACE ? 1 : 0;
    let line = 0;
    let inGloss = false;
    for (let s = 0; s < n; s++) {
      const c = data[s]!;
      if (c === NEWLINE) {
        inGloss = false;
        line++;
        if (s + 1 < n && data[s + 1] !== SPACE) synsets++;
        continue;
      }
      if (c !== SPACE) continue;
      // The gloss starts at the line's first " | "; a word starts after every space from the bar's own on
      // (the "|" itself counts as one, as a scan of the file counts it).
      if (!inGloss) {
        if (data[s + 1] !== BAR || data[s + 2] !== SPACE) continue;
        inGloss = true;
      }
      // Indexed by its first three bytes, which must lie on the line.
      const p = s + 1;
      if (p + 3 > n) continue;
      const a = data[p]!;
      const b = data[p + 1]!;
      const d = data[p + 2]!;
      if (a === NEWLINE || b === NEWLINE || d === NEWLINE) continue;
      if (m === found.length) {
        found = grown(found);
        lines = grown(lines);
      }
      found[m] = p;
      lines[m++] = line;
      count[groupOf(a, b, d) + 1]!++;
    }
    for (let k = 0; k < GROUPS; k++) count[k + 1]! += count[k]!;
    // Laid out as it is stored, so that saving it copies nothing.
    const recordsAt = HEADER_WORDS + GROUPS + 1;
    const words = new Int32Array(recordsAt + RECORD_WORDS * m);
    words[0] = GROUP_BITS;
    words[1] = n;
    words[2] = synsets;
    words[3] = m;
    words.set(count, HEADER_WORDS);
    const bytes = new Uint8Array(words.buffer);
    const fill = count.subarray(0, GROUPS);
    for (let j = 0; j < m; j++) {
      const p = found[j]!;
      const r = recordsAt + RECORD_WORDS * fill[groupOf(data[p]!, data[p + 1]!, data[p + 2]!)]!++;
      words[r] = p;
      words[r + 1] = lines[j]!;
      const end = Math.min(n, p + RECORD_TEXT);
      for (let t = p, o = 4 * (r + 2); t < end; t++, o++) bytes[o] = data[t]!; // past the file's end: zeros
    }
    return new GlossIndex(words, words);
  }

  /**
   * In how many lines of `data` (the file this index was built from; read only past a word's eighth byte, for
   * the candidates whose first eight match) a gloss word starts with `word`'s bytes
   * (latin1, as given: the caller lower-cases), or undefined when the word is not indexable (under three
   * bytes, a leading space, a line break, a "|") or the group read from the table file is damaged.
   */
  async frequency(data: DataBytes, word: Uint8Array): Promise<number | undefined> {
    const length = word.length;
    // A "|" could let a scan's match straddle the bar that starts the gloss: left to the scan, as is the rest.
    if (length < 3 || word[0] === SPACE || word.includes(NEWLINE) || word.includes(BAR)) return undefined;
    if (data.length !== this.dataBytes) throw new Error(`gloss index: built for ${this.dataBytes} bytes, given ${data.length}`);
    const k = groupOf(word[0]!, word[1]!, word[2]!);
    const first = this.starts[k]!;
    const count = this.starts[k + 1]! - first;
    const at = HEADER_WORDS + GROUPS + 1 + RECORD_WORDS * first;
    let records: Int32Array;
    if (this.words) records = this.words.subarray(at, at + RECORD_WORDS * count);
    else {
      const bytes = await this.body!.read(4 * at, 4 * RECORD_WORDS * count);
      records = new Int32Array(bytes.buffer, bytes.byteOffset, RECORD_WORDS * count);
    }
    const text = new Uint8Array(records.buffer, records.byteOffset, records.byteLength);
    const n = data.length;
    const inRecord = Math.min(length, RECORD_TEXT);
    let df = 0;
    let counted = -1; // the last line counted
    let previous = 0;
    let previousLine = 0;
    for (let i = 0; i < count; i++) {
      const r = RECORD_WORDS * i;
      const p = records[r]!;
      const line = records[r + 1]!;
      // A group's records ascend by position and line, inside the file: anything else is a damaged file.
      if (p <= previous || p >= n || line < previousLine) return undefined;
      previous = p;
      previousLine = line;
      if (line === counted || p + length > n) continue; // the line already counts, or the word would not fit
      const o = 4 * (r + 2);
      let j = 0;
      while (j < inRecord && text[o + j] === word[j]) j++;
      if (j < inRecord) continue;
      if (length > RECORD_TEXT) {
        const rest = data.bytesAt(p + RECORD_TEXT, length - RECORD_TEXT);
        while (j < length && rest[j - RECORD_TEXT] === word[j]) j++;
        if (j < length) continue;
      }
      df++;
      counted = line;
    }
    return df;
  }

  /**
   * The serialised form (Int32, native byte order): group bits, data size, synsets, records; group starts;
   * records (position, line, eight bytes).
   */
  toBytes(): Uint8Array {
    const words = this.words!;
    return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  }

  /** Bytes of the serialised form's head (header and group starts), which `fromHead` reads. */
  static readonly HEAD_BYTES = 4 * (HEADER_WORDS + GROUPS + 1);

  /**
   * The index whose head `toBytes` wrote (its records in `body`, read one group at a time), for a data file
   * of `dataBytes` bytes; undefined when the head is not one of this layout for such a file, or its group
   * starts do not add up to the body's records.
   */
  static fromHead(head: Uint8Array, body: TableBody, dataBytes: number): GlossIndex | undefined {
    if (head.length !== GlossIndex.HEAD_BYTES || head.byteOffset % 4 !== 0) return undefined;
    const words = new Int32Array(head.buffer, head.byteOffset, head.length / 4);
    const m = words[3]!;
    if (words[0] !== GROUP_BITS || words[1] !== dataBytes || words[2]! < 0 || body.length !== head.length + 4 * RECORD_WORDS * m) return undefined;
    const starts = words.subarray(HEADER_WORDS);
    if (starts[0] !== 0 || starts[GROUPS] !== m) return undefined;
    for (let k = 0; k < GROUPS; k++) if (starts[k + 1]! < starts[k]!) return undefined;
    return new GlossIndex(words, undefined, body);
  }
}

function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const more = new Int32Array(a.length * 2);
  more.set(a);
  return more;
}

