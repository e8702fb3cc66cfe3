// The stage cache shared by several processes at once (two CLI runs, queue workers on one machine, a server
// beside a batch run): every process writes, reads and evicts in the same file. Nothing may fail with "database
// is locked", every read is either a miss or the very value written, and the running totals stay exact.
import { spawn } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/helpers/paths.js";
import { tempDir } from "../../test/helpers/temp.js";

const ROUNDS = 200;

/** One process: `rounds` images, each its regions, descriptions and caption written, then read back. */
const child = `
const [path, name, rounds, maxBytes] = process.argv.slice(1);
const { SqliteStageCache } = await import(${JSON.stringify(join(repoRoot, "dist/cache/sqlite-cache.js"))});
const { encode, area, toBbox } = await import(${JSON.stringify(join(repoRoot, "dist/masks/index.js"))});
const cache = new SqliteStageCache(path, { maxBytes: Number(maxBytes) });
// Every process has opened the file; all start together when the test says "go".
process.stdout.write("ready\\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();
let hits = 0, misses = 0, othersHits = 0;
for (let i = 0; i < Number(rounds); i++) {
  // A 64×48 mask that depends on the process and the round: another writer's entry could never pass for it.
  const w = 64, h = 48, data = new Uint8Array(w * h), seed = name.length * 7 + i;
  for (let p = 0; p < data.length; p++) data[p] = ((p * 31 + seed * 17) % 97) < 40 ? 1 : 0;
  const rle = encode({ width: w, height: h, data });
  const regions = [{ id: 0, rle, bbox: toBbox(rle), area: area(rle) }];
  const key = name + "-" + i;
  await cache.putImage("file-" + key, { imageKey: key, width: w, height: h });
  await cache.putRegions(key, "classic", regions);
  await cache.putDescriptions(key, "attributes", ["region of " + key]);
  await cache.putCaption(key, "attributes", "scene of " + key);
  // Read back an earlier round of this process and the same round of the others (often evicted meanwhile).
  for (const other of [name + "-" + Math.floor(i / 2), "a-" + i, "b-" + i, "c-" + i]) {
    const got = await cache.getRegions(other, "classic");
    const text = await cache.getDescriptions(other, "attributes");
    if (got === undefined) { misses++; continue; }
    hits++;
    if (!other.startsWith(name + "-")) othersHits++;
    if (got.length !== 1 || got[0].rle.width !== 64 || (text !== undefined && text[0] !== "region of " + other)) throw new Error("wrong value for " + other);
  }
}
await cache.close();
console.log(JSON.stringify({ hits, misses, othersHits }));
`;

describe("SqliteStageCache shared by several processes", () => {
  it("three processes writing, reading and evicting at once: no lock errors, no wrong values, exact totals", async () => {
    const path = join(await tempDir(), "cache.sqlite");
    // Small enough that every process evicts many times.
    const maxBytes = 150_000;
    const children = ["a", "b", "c"].map((name) => {
      const p = spawn(process.execPath, ["--input-type=module", "-e", child, path, name, String(ROUNDS), String(maxBytes)], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d));
      p.stderr.on("data", (d: Buffer) => (stderr += d));
      const ready = new Promise<void>((resolve) => p.stdout.on("data", () => stdout.includes("ready\n") && resolve()));
      const done = new Promise<string>((resolve, reject) =>
        p.on("exit", (code) => (code === 0 ? resolve(stdout.slice(stdout.indexOf("ready\n") + 6)) : reject(new Error(`process ${name}: exit ${code}: ${stderr}`)))),
      );
      return { p, ready, done };
    });
    // A process that fails before it is ready fails the test at once.
    await Promise.all(children.map((c) => Promise.race([c.ready, c.done.then(() => undefined)])));
    for (const c of children) c.p.stdin.end("go\n");
    const outputs = await Promise.all(children.map((c) => c.done));
    const counts = outputs.map((o) => JSON.parse(o.trim()) as { hits: number; misses: number; othersHits: number });
    for (const c of counts) expect(c.hits + c.misses).toBe(ROUNDS * 4);
    // The processes ran at the same time: they read entries the others had just written.
    expect(counts.reduce((n, c) => n + c.othersHits, 0)).toBeGreaterThan(0);
    const db = new Database(path, { readonly: true });
    try {
      const sum = db.prepare("SELECT COALESCE(SUM(bytes), 0) AS bytes, COUNT(*) AS n FROM entries").get() as { bytes: number; n: number };
      const totals = db.prepare("SELECT bytes, entries FROM totals WHERE id = 1").get() as { bytes: number; entries: number };
      expect(totals).toEqual({ bytes: sum.bytes, entries: sum.n });
      // Evicted down to the limit (each write may overshoot by its own entry before it evicts).
      expect(sum.bytes).toBeLessThanOrEqual(maxBytes + 20_000);
    } finally {
      db.close();
    }
  });
});
