/**
 * Where the words of a WordNet data file's definitions start, so that "in how many definitions does a word
 * start a word" (`WordNet.glossFrequency`) reads a few kilobytes instead of scanning the 15 MB of data.noun once
 * per word (10–30 ms each).
 *
 * The index holds a record for every byte position inside a gloss (from the line's first " | " on) that follows
 * a space: the number of its line and the twelve bytes found there. Records are grouped by a hash of their first
 * three bytes (a counting sort: within a group, records keep file order). A word of at least three bytes can
 * only start at a record of its own group and is compared with the record's bytes, so a hash collision costs a
 * comparison, never a wrong count; lines are told apart by number. A word longer than twelve bytes is checked
 * on the text of the few lines whose records match its first twelve (the line starts follow the records). A
 * lookup thus reads nothing of the data file for most words: its pages, read into fresh memory, are dear to
 * touch on a loaded machine (tens of milliseconds for the whole of data.noun), and a read per candidate costs a
 * system call. Shorter words, and words that start with a space or hold a line break or a "|", are not
 * indexed: the caller scans for those.
 *
 * Built in one pass over the file (a tenth of a second or two), so it is kept on disk (`tables.ts`): a process
 * reads the group starts (16 kB) and then, per word, its group's records (a few kilobytes).
 */

import type { TableBody } from "./tables.js";

const SPACE = 32;
const NEWLINE = 10;
const BAR = 124; // "|"
/**
 * Groups: 2^12, about 250 records each for the 1.1 million of data.noun. Few groups keep the counting sort's
 * counters in the processor's cache (2^17 groups took twice as long to build); a lookup compares a few hundred
 * records, microseconds.
 */
const GROUP_BITS = 12;
const GROUPS = 1 << GROUP_BITS;
/** Header words of the serialised form (Int32, native byte order): group bits, data size, synsets, records, lines. */
const HEADER_WORDS = 5;
/** A long word with at most this many candidate lines reads their starts one line at a time. */
const FEW_CANDIDATES = 256;
/** A record: its line's number, then the twelve bytes at its position (zeros past the file's end). */
const RECORD_WORDS = 4;
const RECORD_TEXT = 12;

/** The group of a word starting with bytes `a b c`. */
function groupOf(a: number, b: number, c: number): number {
  return Math.imul((a << 16) | (b << 8) | c, 0x9e3779b1) >>> (32 - GROUP_BITS);
}

/** The data file a lookup reads long words' candidate lines from: its size, and bytes read at a position. */
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
  /** Where each group's records start (GROUPS + 1 entries, in records). */
  private readonly starts: Int32Array;
  private readonly records: number;
  private readonly lines: number;
  /** Where each line starts (lines + 1 entries), read when a long word first needs them. */
  private lineStarts?: Promise<Int32Array>;

  /**
   * `head`: the header and group starts, already checked; the records and line starts follow them in `words`
   * (a table built in this process) or in a table file's body, read one group at a time.
   */
  private constructor(
    head: Int32Array,
    private readonly words: Int32Array | undefined,
    private readonly body?: TableBody,
  ) {
    this.dataBytes = head[1]!;
    this.synsets = head[2]!;
    this.records = head[3]!;
    this.lines = head[4]!;
    this.starts = head.subarray(HEADER_WORDS, HEADER_WORDS + GROUPS + 1);
  }

  /** Index `data`, a WordNet data file (wndb(5WN): one synset per line, the gloss after the first " | "). */
  static build(data: Uint8Array): GlossIndex {
    const n = data.length;
    // Positions (and their lines) in file order first, then a counting sort by group. One pass over the bytes:
    // a Buffer.indexOf per line or per space costs more in calls than it saves. (data.noun has a word start
    // every 14 bytes and a line every 190.)
    let found = new Int32Array(Math.max(1024, Math.ceil(n / 12)));
    let foundLines = new Int32Array(found.length);
    let lineStarts = new Int32Array(Math.max(1024, Math.ceil(n / 128)));
    let m = 0;
    const count = new Int32Array(GROUPS + 1);
    let synsets = n > 0 && data[0] !== SPACE ? 1 : 0;
    let line = 0;
    let inGloss = false;
    for (let s = 0; s < n; s++) {
      const c = data[s]!;
      if (c === NEWLINE) {
        inGloss = false;
        if (++line === lineStarts.length) lineStarts = grown(lineStarts);
        lineStarts[line] = s + 1;
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
        foundLines = grown(foundLines);
      }
      found[m] = p;
      foundLines[m++] = line;
      count[groupOf(a, b, d) + 1]!++;
    }
    // The last line ends at the file's end (a line break there starts no line).
    const lines = n > 0 && data[n - 1] === NEWLINE ? line : line + 1;
    if (lines + 1 > lineStarts.length) lineStarts = grown(lineStarts);
    lineStarts[lines] = n;
    for (let k = 0; k < GROUPS; k++) count[k + 1]! += count[k]!;
    // Laid out as it is stored, so that saving it copies nothing.
    const recordsAt = HEADER_WORDS + GROUPS + 1;
    const words = new Int32Array(recordsAt + RECORD_WORDS * m + lines + 1);
    words.set([GROUP_BITS, n, synsets, m, lines]);
    words.set(count, HEADER_WORDS);
    words.set(lineStarts.subarray(0, lines + 1), recordsAt + RECORD_WORDS * m);
    const bytes = new Uint8Array(words.buffer);
    const fill = count.subarray(0, GROUPS);
    for (let j = 0; j < m; j++) {
      const p = found[j]!;
      const r = recordsAt + RECORD_WORDS * fill[groupOf(data[p]!, data[p + 1]!, data[p + 2]!)]!++;
      words[r] = foundLines[j]!;
      const end = Math.min(n, p + RECORD_TEXT);
      for (let t = p, o = 4 * (r + 1); t < end; t++, o++) bytes[o] = data[t]!;
    }
    return new GlossIndex(words, words);
  }

  /**
   * In how many lines of `data` (the file this index was built from; read only for words longer than twelve
   * bytes, the lines whose records match their first twelve) a gloss word starts with `word`'s bytes (latin1,
   * as given: the caller lower-cases), or undefined when the word is not indexable (under three bytes, a
   * leading space, a line break, a "|") or what was read of the table file is damaged.
   */
  async frequency(data: DataBytes, word: Uint8Array): Promise<number | undefined> {
    const length = word.length;
    // A "|" could let a scan's match straddle the bar that starts the gloss: left to the scan, as is the rest.
    if (length < 3 || word[0] === SPACE || word.includes(NEWLINE) || word.includes(BAR)) return undefined;
    if (data.length !== this.dataBytes) throw new Error(`gloss index: built for ${this.dataBytes} bytes, given ${data.length}`);
    const k = groupOf(word[0]!, word[1]!, word[2]!);
    const first = this.starts[k]!;
    const count = this.starts[k + 1]! - first;
    const records = await this.read(HEADER_WORDS + GROUPS + 1 + RECORD_WORDS * first, RECORD_WORDS * count);
    const text = new Uint8Array(records.buffer, records.byteOffset, records.byteLength);
    const inRecord = Math.min(length, RECORD_TEXT);
    const candidates: number[] = [];
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const r = RECORD_WORDS * i;
      const line = records[r]!;
      // A group's records go by line, inside the file: anything else is a damaged file.
      if (line < previous || line >= this.lines) return undefined;
      previous = line;
      if (line === candidates[candidates.length - 1]) continue; // the line already counts
      const o = 4 * (r + 1);
      let j = 0;
      while (j < inRecord && text[o + j] === word[j]) j++;
      if (j === inRecord) candidates.push(line);
    }
    if (length <= RECORD_TEXT) return candidates.length;
    // Longer words: read each candidate line and look for " word" in its gloss, as a line-by-line reading does.
    // Where a line starts: from the whole table of line starts when it is read (for many candidates: it is a
    // third of a megabyte of fresh memory), else the two starts of each candidate's line.
    const startsAt = HEADER_WORDS + GROUPS + 1 + RECORD_WORDS * this.records;
    if (!this.lineStarts && (this.words || candidates.length > FEW_CANDIDATES)) this.lineStarts = this.read(startsAt, this.lines + 1);
    const starts = this.lineStarts && (await this.lineStarts);
    const needle = Buffer.allocUnsafe(length + 1);
    needle[0] = SPACE;
    needle.set(word, 1);
    let df = 0;
    for (const line of candidates) {
      const pair = starts ? undefined : await this.read(startsAt + line, 2);
      const start = starts ? starts[line]! : pair![0]!;
      const end = starts ? starts[line + 1]! : pair![1]!;
      if (!(start >= 0 && end > start && end <= this.dataBytes)) return undefined;
      const bytes = data.bytesAt(start, end - start);
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const bar = text.indexOf(" | ");
      if (bar >= 0 && text.indexOf(needle, bar) >= 0) df++;
    }
    return df;
  }

  /** `count` words of the serialised form from word `at`. */
  private async read(at: number, count: number): Promise<Int32Array> {
    if (this.words) return this.words.subarray(at, at + count);
    const bytes = await this.body!.read(4 * at, 4 * count);
    return new Int32Array(bytes.buffer, bytes.byteOffset, count);
  }

  /**
   * The serialised form (Int32, native byte order): header, group starts, records (line, twelve bytes), line
   * starts.
   */
  toBytes(): Uint8Array {
    const words = this.words!;
    return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  }

  /** Bytes of the serialised form's head (header and group starts), which `fromHead` reads. */
  static readonly HEAD_BYTES = 4 * (HEADER_WORDS + GROUPS + 1);

  /**
   * The index whose head `toBytes` wrote (the rest in `body`, read a piece at a time), for a data file of
   * `dataBytes` bytes; undefined when the head is not one of this layout for such a file, or its group starts
   * do not add up to the body's records.
   */
  static fromHead(head: Uint8Array, body: TableBody, dataBytes: number): GlossIndex | undefined {
    if (head.length !== GlossIndex.HEAD_BYTES || head.byteOffset % 4 !== 0) return undefined;
    const words = new Int32Array(head.buffer, head.byteOffset, head.length / 4);
    const m = words[3]!;
    const lines = words[4]!;
    if (words[0] !== GROUP_BITS || words[1] !== dataBytes || words[2]! < 0 || m < 0 || lines < 0) return undefined;
    if (body.length !== head.length + 4 * (RECORD_WORDS * m + lines + 1)) return undefined;
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
