import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, open, rm, stat, truncate, writeFile } from "node:fs/promises";
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
    await cache.putDescriptions("rk", "dk", ["a", "b"]);
    await cache.putCaption("rk", "ck", "s");
    await cache.putImage("fk", { imageKey: "img", width: 13, height: 7 });
    await cache.close();
    const again = new SqliteStageCache(path);
    const got = await again.getRegions("img", "seg");
    expect(got).toHaveLength(2);
    expect(got![0]).toEqual({ ...regions[0], rle: { ...regions[0]!.rle, counts: regions[0]!.rle.counts } });
    expect(Array.from(got![1]!.rle.counts)).toEqual(Array.from(regions[1]!.rle.counts));
    expect(await again.getRegions("img", "other-seg")).toBeUndefined();
    expect(await again.getDescriptions("rk", "dk")).toEqual(["a", "b"]);
    expect(await again.getCaption("rk", "ck")).toBe("s");
    expect(await again.getCaption("rk", "dk")).toBeUndefined();
    expect(await again.getImage("fk")).toEqual({ imageKey: "img", width: 13, height: 7 });
    const stats = again.stats();
    expect(stats.stages).toMatchObject({ image: { entries: 1 }, regions: { entries: 1 }, descriptions: { entries: 1 }, caption: { entries: 1 } });
    expect(stats.images).toBe(1);
    expect(again.clear()).toEqual({ entries: 4 });
    expect(again.stats()).toMatchObject({ payloadBytes: 0, stages: { regions: { entries: 0 } } });
    await again.close();
  });

  it("detects a corrupt entry, deletes it and reports a miss", async () => {
    const path = join(dir, "c.sqlite");
    const seen: string[] = [];
    const cache = new SqliteStageCache(path, { onNotice: (m) => seen.push(m) });
    await cache.putRegions("img", "seg", [region(0, 1, 9)]);
    await cache.putDescriptions("rk", "dk", ["a"]);
    // Flip one byte of the regions value and one character of the descriptions, behind the cache's back.
    const raw = new Database(path);
    const row = raw.prepare("SELECT value FROM entries WHERE stage = 'regions'").get() as { value: Buffer };
    row.value[row.value.length - 1] ^= 1;
    raw.prepare("UPDATE entries SET value = ? WHERE stage = 'regions'").run(row.value);
    raw.prepare("UPDATE entries SET value = CAST(replace(CAST(value AS TEXT), '\"a\"', '\"b\"') AS BLOB) WHERE stage = 'descriptions'").run();
    raw.close();
    expect(await cache.getRegions("img", "seg")).toBeUndefined();
    expect(await cache.getDescriptions("rk", "dk")).toBeUndefined();
    expect(seen).toHaveLength(2);
    for (const m of seen) expect(m).toContain(path);
    expect(cache.stats()).toMatchObject({ payloadBytes: 0, corruptRemoved: 2 });
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

describe("SqliteStageCache size limit", () => {
  it("evicts the least recently used entries beyond the limit, down to 90% of it", async () => {
    const path = join(dir, "c.sqlite");
    // Each descriptions entry is ~1 kB: a limit of 10 kB holds nine of them.
    const cache = new SqliteStageCache(path, { maxBytes: 10_000 });
    const text = (i: number) => [String(i).padEnd(1000, ".")];
    for (let i = 0; i < 5; i++) await cache.putDescriptions(`r${i}`, "d", text(i));
    // Use entry 0 (an hour later, so that the read refreshes it): it becomes the most recently used.
    const raw = new Database(path);
    raw.prepare("UPDATE entries SET used_at = used_at - 3600000").run();
    raw.close();
    expect(await cache.getDescriptions("r0", "d")).toEqual(text(0));
    for (let i = 5; i < 12; i++) await cache.putDescriptions(`r${i}`, "d", text(i));
    const s = cache.stats();
    expect(s.payloadBytes).toBeLessThanOrEqual(10_000);
    expect(s.maxBytes).toBe(10_000);
    expect(s.evicted).toBeGreaterThan(0);
    // The oldest unused went first; the entry read recently and the newest stayed.
    expect(await cache.getDescriptions("r1", "d")).toBeUndefined();
    expect(await cache.getDescriptions("r0", "d")).toEqual(text(0));
    expect(await cache.getDescriptions("r11", "d")).toEqual(text(11));
    // The running total agrees with the rows (triggers, upserts and deletes included).
    await cache.putDescriptions("r11", "d", ["short"]);
    const check = new Database(path);
    const sum = (check.prepare("SELECT COALESCE(SUM(bytes), 0) AS b FROM entries").get() as { b: number }).b;
    check.close();
    expect(cache.stats().payloadBytes).toBe(sum);
    await cache.close();
  });
});

describe("SqliteStageCache on a damaged file", () => {
  async function filled(path: string): Promise<void> {
    const cache = new SqliteStageCache(path);
    for (let i = 0; i < 40; i++) await cache.putDescriptions(`r${i}`, "d", [String(i).repeat(3000)]);
    await cache.putRegions("img", "seg", [region(0, 1, 9)]);
    await cache.close();
  }

  const damages: [string, (path: string) => Promise<void>][] = [
    ["garbage", async (p) => writeFile(p, randomBytes(5000))],
    ["truncated", async (p) => truncate(p, Math.floor((await stat(p)).size / 2))],
    [
      "a corrupt page",
      async (p) => {
        const f = await open(p, "r+");
        await f.write(randomBytes(4096), 0, 4096, 4096 * 4);
        await f.close();
      },
    ],
  ];
  for (const [what, damage] of damages) {
    it(`${what}: moves it aside, names both files, and works on a fresh cache`, async () => {
      const path = join(dir, "c.sqlite");
      await filled(path);
      await damage(path);
      const notices: string[] = [];
      const cache = new SqliteStageCache(path, { onNotice: (m) => notices.push(m) });
      // A corrupt page surfaces only when it is read: the first full scan finds it.
      await cache.putRegions("img2", "seg", [region(0, 1, 9)]);
      expect(cache.clear().entries).toBeGreaterThanOrEqual(0);
      expect(notices).toHaveLength(1);
      const aside = /moved it to "([^"]+)"/.exec(notices[0]!)?.[1];
      expect(notices[0]).toContain(`"${path}" is damaged`);
      expect(aside && existsSync(aside)).toBe(true);
      await cache.putDescriptions("r", "d", ["fresh"]);
      expect(await cache.getDescriptions("r", "d")).toEqual(["fresh"]);
      await cache.close();
    });
  }

  it("a folder it cannot create is one line naming the cache and the reason", () => {
    expect(() => new SqliteStageCache("/proc/gear-seg-test/cache.sqlite")).toThrow(
      /^cannot create the cache "\/proc\/gear-seg-test\/cache\.sqlite": this file system does not allow creating folders$/,
    );
  });
});
