/**
 * The StageCache in SQLite (better-sqlite3, WAL, so several processes can read while one writes).
 *
 * - One table of entries, keyed by stage and key. Regions are stored as one BLOB: a JSON header, then all RLE
 *   counts (little-endian uint32); the other stages as JSON. Every row carries a sha256 of its value; a row that
 *   fails the checksum or the RLE invariants (counts sum to height × width, area matches) is deleted and
 *   reported as a miss, so the caller recomputes it.
 * - A size limit with least-recently-used eviction: triggers keep a running total of the stored bytes, a read
 *   refreshes an entry's `used_at`, and a write that takes the total over the limit evicts the oldest entries.
 * - A damaged file (not a database, truncated, a corrupt page) never blocks a command: it is moved aside (the
 *   notice names both files) and a fresh cache takes its place. Every message names the cache file.
 */
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import type Database from "better-sqlite3";
import type { CachedImage, StageCache } from "../pipeline/stage-cache.js";
import type { Region } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";
import { fsErrorReason, makeDirSync } from "../util/fs.js";

const SCHEMA_VERSION = 2;

/** Default size limit of the stored entries: 4 GiB (about 2,700 described images at 1.5 MB each). */
export const DEFAULT_CACHE_MAX_BYTES = 4 * 1024 ** 3;

/** Reads refresh `used_at` at most this often, so that answering many queries does not write on every read. */
const TOUCH_INTERVAL_MS = 60_000;

/** `$GEAR_SEG_HOME`, or ~/.cache/gear-seg. */
export function gearSegHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.GEAR_SEG_HOME?.trim();
  return home ? resolve(home) : join(homedir(), ".cache", "gear-seg");
}

export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(gearSegHome(env), "cache.sqlite");
}

export type CacheStage = "image" | "regions" | "descriptions" | "caption";
const CACHE_STAGES: readonly CacheStage[] = ["image", "regions", "descriptions", "caption"];

export interface CacheStats {
  path: string;
  /** Entries and stored bytes per stage. */
  stages: Record<CacheStage, { entries: number; bytes: number }>;
  /** Images with cached regions (by pixel content). */
  images: number;
  /** Bytes of entries stored, and the limit beyond which the least recently used go. */
  payloadBytes: number;
  maxBytes: number;
  /** Size of the database files on disk (main file + WAL). */
  fileBytes: number;
  /** When the least and the most recently used entries were last used (ms since the epoch; null when empty). */
  oldestUse: number | null;
  newestUse: number | null;
  /** Corrupt entries found and removed, and entries evicted for the size limit, by this instance. */
  corruptRemoved: number;
  evicted: number;
}

/** The statistics as `cache stats --json` prints them (snake_case, as the other JSON gear-seg writes). */
export function cacheStatsToJson(s: CacheStats) {
  return {
    path: s.path,
    stages: s.stages,
    images: s.images,
    payload_bytes: s.payloadBytes,
    max_bytes: s.maxBytes,
    file_bytes: s.fileBytes,
    oldest_use: s.oldestUse === null ? null : new Date(s.oldestUse).toISOString(),
    newest_use: s.newestUse === null ? null : new Date(s.newestUse).toISOString(),
    corrupt_removed: s.corruptRemoved,
    evicted: s.evicted,
  };
}

export interface SqliteStageCacheOptions {
  /** Size limit of the stored entries in bytes (default `DEFAULT_CACHE_MAX_BYTES`). */
  maxBytes?: number;
  /** Told (one line naming the cache file) when a damaged file is replaced or a corrupt entry removed. */
  onNotice?: (message: string) => void;
}

interface RegionHeader {
  v: number;
  regions: {
    id: number;
    h: number;
    w: number;
    n: number;
    bbox: Region["bbox"];
    area: number;
    predictedIou?: number;
    stabilityScore?: number;
    pointCoords?: [number, number][];
    cropBox?: Region["bbox"];
  }[];
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    stage TEXT NOT NULL, key TEXT NOT NULL, image_key TEXT NOT NULL,
    value BLOB NOT NULL, checksum TEXT NOT NULL, bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL, used_at INTEGER NOT NULL,
    UNIQUE (stage, key));
  CREATE INDEX IF NOT EXISTS entries_used_at ON entries (used_at);
  CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL, entries INTEGER NOT NULL);
  INSERT OR IGNORE INTO totals (id, bytes, entries) VALUES (1, 0, 0);
  CREATE TRIGGER IF NOT EXISTS entries_insert AFTER INSERT ON entries BEGIN
    UPDATE totals SET bytes = bytes + NEW.bytes, entries = entries + 1 WHERE id = 1; END;
  CREATE TRIGGER IF NOT EXISTS entries_delete AFTER DELETE ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.bytes, entries = entries - 1 WHERE id = 1; END;
  CREATE TRIGGER IF NOT EXISTS entries_update AFTER UPDATE OF bytes ON entries BEGIN
    UPDATE totals SET bytes = bytes - OLD.bytes + NEW.bytes WHERE id = 1; END;
`;

/** SQLite's words for a file that is not (or no longer) a sound database. */
function isDamage(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
}

export class SqliteStageCache implements StageCache {
  readonly path: string;
  readonly maxBytes: number;
  onNotice?: (message: string) => void;
  private db!: Database.Database;
  private statements = new Map<string, Database.Statement>();
  private corruptRemoved = 0;
  private evicted = 0;

  constructor(path: string = defaultCachePath(), options: SqliteStageCacheOptions = {}) {
    this.path = resolve(path);
    const maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    if (!(Number.isFinite(maxBytes) && maxBytes > 0)) throw new GearSegError(`cache "${this.path}": the size limit must be a positive number of bytes, got ${maxBytes}`, { exitCode: 2 });
    this.maxBytes = maxBytes;
    this.onNotice = options.onNotice;
    try {
      makeDirSync(dirname(this.path));
    } catch (err) {
      throw new GearSegError(`cannot create the cache "${this.path}": ${fsErrorReason(err)}`, { cause: err });
    }
    this.guard("open", () => this.open());
  }

  async getImage(fileKey: string): Promise<CachedImage | undefined> {
    const value = this.read("image", fileKey);
    if (!value) return undefined;
    const v = parseJson(value) as Partial<CachedImage> | undefined;
    if (typeof v?.imageKey === "string" && Number.isInteger(v.width) && Number.isInteger(v.height)) return v as CachedImage;
    return this.dropCorrupt("image", fileKey);
  }

  async putImage(fileKey: string, value: CachedImage): Promise<void> {
    const { imageKey, width, height } = value;
    this.write("image", fileKey, imageKey, Buffer.from(JSON.stringify({ imageKey, width, height })));
  }

  async getRegions(imageKey: string, segmenterKey: string): Promise<Region[] | undefined> {
    const key = `${imageKey}\n${segmenterKey}`;
    const value = this.read("regions", key);
    if (!value) return undefined;
    return decodeRegions(value) ?? this.dropCorrupt("regions", key);
  }

  async putRegions(imageKey: string, segmenterKey: string, regions: readonly Region[]): Promise<void> {
    this.write("regions", `${imageKey}\n${segmenterKey}`, imageKey, encodeRegions(regions));
  }

  async getDescriptions(regionsKey: string, describerKey: string): Promise<string[] | undefined> {
    const key = `${regionsKey}\n${describerKey}`;
    const value = this.read("descriptions", key);
    if (!value) return undefined;
    const v = parseJson(value);
    if (Array.isArray(v) && v.every((d) => typeof d === "string")) return v as string[];
    return this.dropCorrupt("descriptions", key);
  }

  async putDescriptions(regionsKey: string, describerKey: string, descriptions: readonly string[]): Promise<void> {
    this.write("descriptions", `${regionsKey}\n${describerKey}`, regionsKey, Buffer.from(JSON.stringify(descriptions)));
  }

  async getCaption(regionsKey: string, captionerKey: string): Promise<string | undefined> {
    const key = `${regionsKey}\n${captionerKey}`;
    const value = this.read("caption", key);
    if (!value) return undefined;
    const v = parseJson(value);
    return typeof v === "string" ? v : this.dropCorrupt("caption", key);
  }

  async putCaption(regionsKey: string, captionerKey: string, caption: string): Promise<void> {
    this.write("caption", `${regionsKey}\n${captionerKey}`, regionsKey, Buffer.from(JSON.stringify(caption)));
  }

  stats(): CacheStats {
    return this.guard("read the statistics", () => {
      const stages = Object.fromEntries(CACHE_STAGES.map((s) => [s, { entries: 0, bytes: 0 }])) as CacheStats["stages"];
      const rows = this.sql("SELECT stage, COUNT(*) AS n, SUM(bytes) AS bytes FROM entries GROUP BY stage").all() as { stage: CacheStage; n: number; bytes: number }[];
      for (const r of rows) if (stages[r.stage]) stages[r.stage] = { entries: r.n, bytes: r.bytes };
      const images = (this.sql("SELECT COUNT(DISTINCT image_key) AS n FROM entries WHERE stage = 'regions'").get() as { n: number }).n;
      const use = this.sql("SELECT MIN(used_at) AS oldest, MAX(used_at) AS newest FROM entries").get() as { oldest: number | null; newest: number | null };
      let fileBytes = 0;
      for (const suffix of ["", "-wal"]) fileBytes += statSync(this.path + suffix, { throwIfNoEntry: false })?.size ?? 0;
      return {
        path: this.path,
        stages,
        images,
        payloadBytes: this.totalBytes(),
        maxBytes: this.maxBytes,
        fileBytes,
        oldestUse: use.oldest,
        newestUse: use.newest,
        corruptRemoved: this.corruptRemoved,
        evicted: this.evicted,
      };
    });
  }

  /** Removes every entry and returns how many there were. */
  clear(): { entries: number } {
    return this.guard("clear", () => {
      const entries = this.sql("DELETE FROM entries").run().changes;
      this.db.pragma("wal_checkpoint(TRUNCATE)");
      this.db.exec("VACUUM");
      return { entries };
    });
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db?.open) this.db.close();
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private open(): void {
    // Loaded on first use, so that importing the library does not load the SQLite addon.
    const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
    this.statements.clear();
    this.db = new Sqlite(this.path);
    this.db.pragma("busy_timeout = 5000");
    // Before the first table exists: lets evictions give pages back to the file system.
    this.db.pragma("auto_vacuum = INCREMENTAL");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    const row = this.hasTable("meta") ? (this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined) : undefined;
    if (row && row.value !== String(SCHEMA_VERSION)) {
      // A cache of another format holds nothing this version can use: start over.
      this.db.exec("DROP TABLE IF EXISTS regions; DROP TABLE IF EXISTS descriptions; DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS totals; DELETE FROM meta;");
      this.db.exec("VACUUM");
      this.onNotice?.(`cache "${this.path}" was written by another version of gear-seg (format ${row.value}); emptied it`);
    }
    this.db.exec(SCHEMA);
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  private sql(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) this.statements.set(text, (s = this.db.prepare(text)));
    return s;
  }

  private totalBytes(): number {
    return (this.sql("SELECT bytes FROM totals WHERE id = 1").get() as { bytes: number } | undefined)?.bytes ?? 0;
  }

  /** The value, verified against its checksum (a mismatch deletes the row and reads as a miss). */
  private read(stage: CacheStage, key: string): Buffer | undefined {
    return this.guard(`read ${stage}`, () => {
      const row = this.sql("SELECT id, value, checksum, used_at FROM entries WHERE stage = ? AND key = ?").get(stage, key) as
        | { id: number; value: Buffer; checksum: string; used_at: number }
        | undefined;
      if (!row) return undefined;
      if (!Buffer.isBuffer(row.value) || checksum(row.value) !== row.checksum) return this.dropCorrupt(stage, key);
      const now = Date.now();
      if (now - row.used_at > TOUCH_INTERVAL_MS) this.sql("UPDATE entries SET used_at = ? WHERE id = ?").run(now, row.id);
      return row.value;
    });
  }

  private write(stage: CacheStage, key: string, imageKey: string, value: Buffer): void {
    this.guard(`write ${stage}`, () => {
      const now = Date.now();
      const id = (
        this.sql(
          `INSERT INTO entries (stage, key, image_key, value, checksum, bytes, created_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (stage, key) DO UPDATE SET image_key = excluded.image_key, value = excluded.value, checksum = excluded.checksum,
             bytes = excluded.bytes, created_at = excluded.created_at, used_at = excluded.used_at
           RETURNING id`,
        ).get(stage, key, imageKey, value, checksum(value), value.byteLength + key.length, now, now) as { id: number }
      ).id;
      if (this.totalBytes() > this.maxBytes) this.evict(id);
    });
  }

  /** Least recently used first, down to 90% of the limit (so that the next writes do not evict again). */
  private evict(keep: number): void {
    const target = Math.floor(this.maxBytes * 0.9);
    const oldest = this.sql("SELECT id, bytes FROM entries WHERE id != ? ORDER BY used_at, id LIMIT 64");
    const remove = this.sql("DELETE FROM entries WHERE id = ?");
    let total = this.totalBytes();
    while (total > target) {
      const rows = oldest.all(keep) as { id: number; bytes: number }[];
      if (rows.length === 0) break;
      this.db.transaction(() => {
        for (const r of rows) {
          if (total <= target) break;
          remove.run(r.id);
          total -= r.bytes;
          this.evicted++;
        }
      })();
    }
    this.db.pragma("incremental_vacuum");
  }

  private dropCorrupt(stage: CacheStage, key: string): undefined {
    this.sql("DELETE FROM entries WHERE stage = ? AND key = ?").run(stage, key);
    this.corruptRemoved++;
    this.onNotice?.(`cache "${this.path}": a corrupt ${stage} entry was removed and will be recomputed`);
    return undefined;
  }

  /**
   * Runs one step; a damaged file is moved aside and the step retried once on a fresh cache, any other
   * failure becomes one line naming the cache file.
   */
  private guard<T>(doing: string, step: () => T): T {
    try {
      return step();
    } catch (err) {
      if (!isDamage(err)) throw this.failure(doing, err);
      try {
        this.replaceDamagedFile(err as Error);
        return step();
      } catch (again) {
        throw this.failure(doing, again);
      }
    }
  }

  private replaceDamagedFile(err: Error): void {
    try {
      if (this.db?.open) this.db.close();
    } catch {
      // a damaged file may fail to close cleanly; it is moved aside below either way
    }
    this.statements.clear();
    const aside = `${this.path}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      renameSync(this.path, aside);
      for (const suffix of ["-wal", "-shm"]) {
        if (existsSync(this.path + suffix)) renameSync(this.path + suffix, aside + suffix);
      }
    } catch (moveErr) {
      throw new GearSegError(`cache "${this.path}" is damaged (${err.message}) and cannot be moved aside: ${fsErrorReason(moveErr)}`, { cause: moveErr });
    }
    this.onNotice?.(`cache "${this.path}" is damaged (${err.message}); moved it to "${aside}" and started a fresh cache`);
    this.open();
  }

  private failure(doing: string, err: unknown): GearSegError {
    if (err instanceof GearSegError) return err;
    const code = (err as { code?: unknown })?.code;
    let reason = err instanceof Error ? err.message.split("\n")[0]! : String(err);
    if (typeof code === "string" && /^SQLITE_(CANTOPEN|READONLY|IOERR)/.test(code)) {
      // SQLite says "unable to open database file" or "readonly database": find out why from the file system.
      try {
        accessSync(dirname(this.path), constants.W_OK);
        if (existsSync(this.path)) accessSync(this.path, constants.W_OK);
      } catch (fsErr) {
        reason = fsErrorReason(fsErr);
      }
    }
    return new GearSegError(`cache "${this.path}": cannot ${doing}: ${reason}`, { cause: err });
  }
}

function checksum(value: Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}

function parseJson(value: Buffer): unknown {
  try {
    return JSON.parse(value.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** [uint32 LE header length][header JSON][counts as uint32 LE]. */
function encodeRegions(regions: readonly Region[]): Buffer {
  const header: RegionHeader = {
    v: SCHEMA_VERSION,
    regions: regions.map((r) => ({
      id: r.id,
      h: r.rle.height,
      w: r.rle.width,
      n: r.rle.counts.length,
      bbox: r.bbox,
      area: r.area,
      ...(r.predictedIou !== undefined && { predictedIou: r.predictedIou }),
      ...(r.stabilityScore !== undefined && { stabilityScore: r.stabilityScore }),
      ...(r.pointCoords !== undefined && { pointCoords: r.pointCoords }),
      ...(r.cropBox !== undefined && { cropBox: r.cropBox }),
    })),
  };
  const head = Buffer.from(JSON.stringify(header));
  const total = regions.reduce((s, r) => s + r.rle.counts.length, 0);
  const out = Buffer.alloc(4 + head.length + total * 4);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let off = 4 + head.length;
  for (const r of regions) {
    const c = r.rle.counts;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), off);
      off += c.byteLength;
    } else {
      for (let i = 0; i < c.length; i++, off += 4) out.writeUInt32LE(c[i]!, off);
    }
  }
  return out;
}

/** Undefined when anything is off: JSON, lengths, or an RLE that does not add up. */
function decodeRegions(value: Buffer): Region[] | undefined {
  if (value.length < 4) return undefined;
  const headLength = value.readUInt32LE(0);
  if (4 + headLength > value.length || (value.length - 4 - headLength) % 4 !== 0) return undefined;
  const header = parseJson(value.subarray(4, 4 + headLength)) as RegionHeader | undefined;
  if (header?.v !== SCHEMA_VERSION || !Array.isArray(header.regions)) return undefined;
  // One aligned copy of every count (a Buffer's offset need not be a multiple of 4).
  const bytes = value.subarray(4 + headLength);
  const all = new Uint32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(all.buffer).set(bytes);
  else for (let i = 0; i < all.length; i++) all[i] = bytes.readUInt32LE(i * 4);
  const out: Region[] = [];
  let off = 0;
  for (const h of header.regions) {
    if (!Number.isInteger(h.n) || h.n < 1 || off + h.n > all.length) return undefined;
    const counts = all.slice(off, off + h.n);
    off += h.n;
    let total = 0;
    let area = 0;
    for (let j = 0; j < counts.length; j++) {
      total += counts[j]!;
      if (j & 1) area += counts[j]!;
    }
    if (total !== h.h * h.w || area !== h.area) return undefined;
    const { id, bbox, predictedIou, stabilityScore, pointCoords, cropBox } = h;
    out.push({
      id,
      rle: { height: h.h, width: h.w, counts },
      bbox,
      area,
      ...(predictedIou !== undefined && { predictedIou }),
      ...(stabilityScore !== undefined && { stabilityScore }),
      ...(pointCoords !== undefined && { pointCoords }),
      ...(cropBox !== undefined && { cropBox }),
    });
  }
  return off === all.length ? out : undefined;
}
