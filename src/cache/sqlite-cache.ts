/**
 * The StageCache in SQLite (better-sqlite3, WAL, so several processes can read while one writes). Regions are
 * stored as a JSON header plus one BLOB of all RLE counts (little-endian uint32); descriptions as JSON. Every
 * row carries a sha256 of its payload; a row that fails the checksum or the RLE invariants (counts sum to
 * height × width, area matches) is deleted and reported as a miss, so the caller recomputes it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { createRequire } from "node:module";
import type Database from "better-sqlite3";
import type { CachedDescriptions, StageCache } from "../pipeline/stage-cache.js";
import type { Region } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";

const SCHEMA_VERSION = 1;

/** `$GEAR_SEG_HOME`, or ~/.cache/gear-seg. */
export function gearSegHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.GEAR_SEG_HOME?.trim();
  return home ? resolve(home) : join(homedir(), ".cache", "gear-seg");
}

export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(gearSegHome(env), "cache.sqlite");
}

export interface CacheStats {
  path: string;
  regionEntries: number;
  descriptionEntries: number;
  /** Bytes of payload stored (headers, counts, descriptions). */
  payloadBytes: number;
  /** Size of the database files on disk (main file + WAL). */
  fileBytes: number;
  /** Corrupt entries found and removed by this instance. */
  corruptRemoved: number;
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

export class SqliteStageCache implements StageCache {
  readonly path: string;
  private readonly db: Database.Database;
  private corruptRemoved = 0;
  /** Called when a corrupt entry is dropped (for a notice). */
  onCorrupt?: (what: string) => void;

  constructor(path: string = defaultCachePath()) {
    this.path = resolve(path);
    try {
      mkdirSync(join(this.path, ".."), { recursive: true });
      // Loaded on first use, so that importing the library does not load the SQLite addon.
      const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
      this.db = new Sqlite(this.path);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("busy_timeout = 5000");
      this.db.pragma("synchronous = NORMAL");
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS regions (
          image_key TEXT NOT NULL, segmenter_key TEXT NOT NULL,
          header TEXT NOT NULL, counts BLOB NOT NULL, checksum TEXT NOT NULL, created_at INTEGER NOT NULL,
          PRIMARY KEY (image_key, segmenter_key));
        CREATE TABLE IF NOT EXISTS descriptions (
          regions_key TEXT NOT NULL, describer_key TEXT NOT NULL,
          payload TEXT NOT NULL, checksum TEXT NOT NULL, created_at INTEGER NOT NULL,
          PRIMARY KEY (regions_key, describer_key));
      `);
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (!row) this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
      else if (row.value !== String(SCHEMA_VERSION)) {
        throw new GearSegError(`cache "${this.path}" has schema ${row.value}, this gear-seg uses ${SCHEMA_VERSION}: run "gear-seg cache clear"`);
      }
    } catch (err) {
      if (err instanceof GearSegError) throw err;
      throw new GearSegError(`cannot open the cache "${this.path}": ${(err as Error).message}`, { cause: err });
    }
  }

  async getRegions(imageKey: string, segmenterKey: string): Promise<Region[] | undefined> {
    const row = this.db
      .prepare("SELECT header, counts, checksum FROM regions WHERE image_key = ? AND segmenter_key = ?")
      .get(imageKey, segmenterKey) as { header: string; counts: Buffer; checksum: string } | undefined;
    if (!row) return undefined;
    const regions = decodeRegions(row.header, row.counts, row.checksum);
    if (!regions) {
      this.db.prepare("DELETE FROM regions WHERE image_key = ? AND segmenter_key = ?").run(imageKey, segmenterKey);
      this.noteCorrupt(`regions of image ${imageKey.slice(0, 12)}`);
      return undefined;
    }
    return regions;
  }

  async putRegions(imageKey: string, segmenterKey: string, regions: readonly Region[]): Promise<void> {
    const { header, counts } = encodeRegions(regions);
    this.db
      .prepare("INSERT OR REPLACE INTO regions (image_key, segmenter_key, header, counts, checksum, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(imageKey, segmenterKey, header, counts, checksum(header, counts), Date.now());
  }

  async getDescriptions(regionsKey: string, describerKey: string): Promise<CachedDescriptions | undefined> {
    const row = this.db
      .prepare("SELECT payload, checksum FROM descriptions WHERE regions_key = ? AND describer_key = ?")
      .get(regionsKey, describerKey) as { payload: string; checksum: string } | undefined;
    if (!row) return undefined;
    const value = decodeDescriptions(row.payload, row.checksum);
    if (!value) {
      this.db.prepare("DELETE FROM descriptions WHERE regions_key = ? AND describer_key = ?").run(regionsKey, describerKey);
      this.noteCorrupt(`descriptions ${regionsKey.slice(0, 12)}`);
      return undefined;
    }
    return value;
  }

  async putDescriptions(regionsKey: string, describerKey: string, value: CachedDescriptions): Promise<void> {
    const payload = JSON.stringify({ v: SCHEMA_VERSION, descriptions: value.descriptions, scene: value.scene });
    this.db
      .prepare("INSERT OR REPLACE INTO descriptions (regions_key, describer_key, payload, checksum, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(regionsKey, describerKey, payload, checksum(payload), Date.now());
  }

  stats(): CacheStats {
    const r = this.db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(header) + LENGTH(counts)), 0) AS bytes FROM regions").get() as { n: number; bytes: number };
    const d = this.db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(payload)), 0) AS bytes FROM descriptions").get() as { n: number; bytes: number };
    let fileBytes = 0;
    for (const suffix of ["", "-wal"]) {
      try {
        fileBytes += statSync(this.path + suffix).size;
      } catch {
        // no WAL file right now
      }
    }
    return { path: this.path, regionEntries: r.n, descriptionEntries: d.n, payloadBytes: r.bytes + d.bytes, fileBytes, corruptRemoved: this.corruptRemoved };
  }

  /** Removes every entry and returns how many there were. */
  clear(): { regions: number; descriptions: number } {
    const regions = this.db.prepare("DELETE FROM regions").run().changes;
    const descriptions = this.db.prepare("DELETE FROM descriptions").run().changes;
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.exec("VACUUM");
    return { regions, descriptions };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private noteCorrupt(what: string): void {
    this.corruptRemoved++;
    this.onCorrupt?.(what);
  }
}

function checksum(text: string, blob?: Uint8Array): string {
  const h = createHash("sha256").update(text);
  if (blob) h.update(blob);
  return h.digest("hex");
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function encodeRegions(regions: readonly Region[]): { header: string; counts: Buffer } {
  const total = regions.reduce((s, r) => s + r.rle.counts.length, 0);
  const counts = Buffer.alloc(total * 4);
  let off = 0;
  for (const r of regions) {
    const c = r.rle.counts;
    if (LITTLE_ENDIAN) {
      counts.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), off);
      off += c.byteLength;
    } else {
      for (let i = 0; i < c.length; i++, off += 4) counts.writeUInt32LE(c[i]!, off);
    }
  }
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
  return { header: JSON.stringify(header), counts };
}

/** Undefined when anything is off: checksum, JSON, lengths, or an RLE that does not add up. */
function decodeRegions(headerText: string, blob: Buffer, sum: string): Region[] | undefined {
  if (typeof headerText !== "string" || !Buffer.isBuffer(blob) || checksum(headerText, blob) !== sum) return undefined;
  let header: RegionHeader;
  try {
    header = JSON.parse(headerText) as RegionHeader;
  } catch {
    return undefined;
  }
  if (header?.v !== SCHEMA_VERSION || !Array.isArray(header.regions) || blob.length % 4 !== 0) return undefined;
  const all = new Uint32Array(blob.length / 4);
  for (let i = 0; i < all.length; i++) all[i] = blob.readUInt32LE(i * 4);
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

function decodeDescriptions(payload: string, sum: string): CachedDescriptions | undefined {
  if (typeof payload !== "string" || checksum(payload) !== sum) return undefined;
  try {
    const v = JSON.parse(payload) as { v?: number; descriptions?: unknown; scene?: unknown };
    if (v.v !== SCHEMA_VERSION || !Array.isArray(v.descriptions) || typeof v.scene !== "string") return undefined;
    if (v.descriptions.some((d) => typeof d !== "string")) return undefined;
    return { descriptions: v.descriptions as string[], scene: v.scene };
  } catch {
    return undefined;
  }
}
