import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { area, encode, toBbox } from "../masks/index.js";
import type { Region } from "../pipeline/types.js";
import { gearSegHome, SqliteStageCache } from "./sqlite-cache.js";

function region(id: number, x0: number, x1: number, extra: Partial<Region> = {}): Region {
  const w = 13;
  const h = 7;
  const data = new Uint8Array(w * h);
  for (let y = 1; y < 6; y++) for (let x = x0; x < x1; x++) data[y * w + x] = 1;
  const rle = encode({ width: w, height: h, data });
  return { id, rle, bbox: toBbox(rle), area: area(rle), ...extra };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gear-seg-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("SqliteStageCache", () => {
  it("round-trips regions (counts, geometry, SAM scores) and descriptions", async () => {
    const path = join(dir, "c.sqlite");
    const cache = new SqliteStageCache(path);
    const regions = [region(0, 1, 9, { predictedIou: 0.93, stabilityScore: 0.97, pointCoords: [[4, 3]], cropBox: [0, 0, 13, 7] }), region(1, 10, 12)];
    await cache.putRegions("img", "seg", regions);
    await cache.putDescriptions("rk", "dk", { descriptions: ["a", "b"], scene: "s" });
    await cache.close();
    const again = new SqliteStageCache(path);
    const got = await again.getRegions("img", "seg");
    expect(got).toHaveLength(2);
    expect(got![0]).toEqual({ ...regions[0], rle: { ...regions[0]!.rle, counts: regions[0]!.rle.counts } });
    expect(Array.from(got![1]!.rle.counts)).toEqual(Array.from(regions[1]!.rle.counts));
    expect(await again.getRegions("img", "other-seg")).toBeUndefined();
    expect(await again.getDescriptions("rk", "dk")).toEqual({ descriptions: ["a", "b"], scene: "s" });
    expect(again.stats()).toMatchObject({ regionEntries: 1, descriptionEntries: 1 });
    expect(again.clear()).toEqual({ regions: 1, descriptions: 1 });
    expect(again.stats()).toMatchObject({ regionEntries: 0, descriptionEntries: 0 });
    await again.close();
  });

  it("detects a corrupt entry, deletes it and reports a miss", async () => {
    const path = join(dir, "c.sqlite");
    const cache = new SqliteStageCache(path);
    const seen: string[] = [];
    cache.onCorrupt = (w) => seen.push(w);
    await cache.putRegions("img", "seg", [region(0, 1, 9)]);
    await cache.putDescriptions("rk", "dk", { descriptions: ["a"], scene: "" });
    // Flip one byte of the counts BLOB and one character of the descriptions, behind the cache's back.
    const raw = new Database(path);
    const row = raw.prepare("SELECT counts FROM regions").get() as { counts: Buffer };
    row.counts[0] ^= 1;
    raw.prepare("UPDATE regions SET counts = ?").run(row.counts);
    raw.prepare("UPDATE descriptions SET payload = replace(payload, '\"a\"', '\"b\"')").run();
    raw.close();
    expect(await cache.getRegions("img", "seg")).toBeUndefined();
    expect(await cache.getDescriptions("rk", "dk")).toBeUndefined();
    expect(seen).toHaveLength(2);
    expect(cache.stats()).toMatchObject({ regionEntries: 0, descriptionEntries: 0, corruptRemoved: 2 });
    await cache.close();
  });

  it("rejects an entry whose checksum matches but whose RLE does not add up", async () => {
    const path = join(dir, "c.sqlite");
    const cache = new SqliteStageCache(path);
    await cache.putRegions("img", "seg", [{ ...region(0, 1, 9), area: 3 }]);
    expect(await cache.getRegions("img", "seg")).toBeUndefined();
    await cache.close();
  });

  it("uses WAL and lives under GEAR_SEG_HOME", async () => {
    const cache = new SqliteStageCache(join(dir, "c.sqlite"));
    const raw = new Database(join(dir, "c.sqlite"));
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();
    await cache.close();
    expect(gearSegHome({ GEAR_SEG_HOME: dir })).toBe(dir);
    expect(gearSegHome({})).toMatch(/\.cache[/\\]gear-seg$/);
  });
});
