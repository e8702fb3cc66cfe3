// The preparation pool on real worker threads (the compiled worker in dist/, rebuilt by the tests' global
// setup): results equal the in-process agent's, the cache is served by the main thread, a worker that dies
// fails only its image with one line naming it, and a pool that was asked for really has its workers.
import { AsyncLocalStorage } from "node:async_hooks";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectSameArray } from "../../test/helpers/arrays.js";
import { photos, samples } from "../../test/helpers/paths.js";
import { agentWithPool, DYING_WORKER } from "../../test/helpers/preparation-pools.js";
import { tempDir } from "../../test/helpers/temp.js";
import { SqliteStageCache } from "../cache/sqlite-cache.js";
import { loadImage } from "../image/decode.js";
import { GearSeg, type PreparedImage } from "../pipeline/agent.js";
import type { PreparationPool } from "./preparation-pool.js";
import { createStack, runsInWorkers, type Stack } from "./stack.js";

/** Everything a preparation says about an image, but its timings; masks compared as bytes. */
function expectSamePreparation(actual: PreparedImage, expected: PreparedImage, what: string): void {
  const { timings: _a, loadImage: _la, regions: ra, ...restA } = actual;
  const { timings: _b, loadImage: _lb, regions: rb, ...restB } = expected;
  expect(restA, what).toEqual(restB);
  expect(ra.length, `${what}: regions`).toBe(rb.length);
  ra.forEach((r, i) => {
    const { rle: ma, ...a } = r;
    const { rle: mb, ...b } = rb[i]!;
    expect(a, `${what}: region ${i}`).toEqual(b);
    expect([ma.height, ma.width]).toEqual([mb.height, mb.width]);
    expectSameArray(ma.counts, mb.counts, `${what}: region ${i} counts`);
  });
}

// Small images, so that each test stays quick on a loaded machine: the groceries photo (800×534), a sample
// (400×299) and a 480×320 copy of the cars photo.
const images = [photos.groceries, samples.image("692198_ac99d18ac5_o")];
beforeAll(async () => {
  const cars = join(await tempDir(), "cars-small.jpg");
  await sharp(photos.cars).resize(480, 320).toFile(cars);
  images.push(cars);
});

describe("runsInWorkers", () => {
  it("pools stacks of JavaScript CPU backends only", () => {
    expect(runsInWorkers(["classic", "attributes", "attributes", "nanodet"])).toBe(true);
    expect(runsInWorkers(["classic", "none", "none", "none"])).toBe(true);
    expect(runsInWorkers(["masks:/m", "attributes", "attributes", "none"])).toBe(true);
    // Nothing to gain: files only.
    expect(runsInWorkers(["masks:/m", "recorded:/d.json", "recorded:/d.json", "none"])).toBe(false);
    // SAM 2 has its own threads and one copy of its model; HTTP backends limit their requests per process.
    expect(runsInWorkers(["sam2:/models/tiny", "attributes", "attributes", "nanodet"])).toBe(false);
    expect(runsInWorkers(["classic", "dam:http://127.0.0.1:1", "none", "none"])).toBe(false);
  });
});

describe("the offline default prepared in worker threads", () => {
  let pooled: Stack;
  let inProcess: Stack;
  beforeAll(async () => {
    [pooled, inProcess] = await Promise.all([createStack({}, { workers: 2 }), createStack({}, {})]);
  });
  afterAll(async () => {
    await Promise.all([pooled?.close(), inProcess?.close()]);
  });

  it("has two real workers, each prepares, and every result equals the in-process one (NanoDet included)", async () => {
    expect(pooled.agent.parallelism).toBe(2);
    expect(inProcess.agent.parallelism).toBe(1);
    expect(pooled.agent.fingerprint).toBe(inProcess.agent.fingerprint);
    // Once both workers have built their stacks, the first two images go one to each.
    const pool = pooled.agent.preparer as PreparationPool;
    while (!pool.stats().workers.every((w) => w.ready)) await new Promise((r) => setTimeout(r, 10));
    const results = await Promise.all(images.map((p) => pooled.agent.prepareLazily(p)));
    const { workers } = pool.stats();
    expect(workers).toHaveLength(2);
    expect(new Set(workers.map((w) => w.threadId)).size).toBe(2);
    for (const w of workers) {
      expect(w.threadId).toBeGreaterThan(0);
      expect(w.done).toBeGreaterThan(0);
    }
    expect(isMainThread).toBe(true);
    for (const [i, path] of images.entries()) {
      expectSamePreparation(results[i]!, await inProcess.agent.prepareLazily(path), path);
      expect(results[i]!.regions.length).toBeGreaterThan(10);
    }
    // The pixels are decoded on this thread on demand, as the agent decodes them.
    const pixels = await results[0]!.loadImage();
    const direct = await loadImage(images[0]!);
    expect([pixels.width, pixels.height]).toEqual([direct.width, direct.height]);
    expect(Buffer.from(pixels.data).equals(Buffer.from(direct.data))).toBe(true);
  });

  it("takes decoded pixels too, and reports stage progress in the caller's async context", async () => {
    const image = await loadImage(images[1]!);
    const context = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const agent = new GearSeg({
      segmenter: pooled.agent.segmenter,
      describer: pooled.agent.describer,
      captioner: pooled.agent.captioner,
      preparer: pooled.agent.preparer,
      onStage: (stage, done, total) => seen.push(`${context.getStore()}:${stage}:${done}/${total}`),
    });
    const prepared = await context.run("upload-1", () => agent.prepareLazily(image));
    expectSamePreparation(prepared, await inProcess.agent.prepareLazily(image), "decoded pixels");
    expect(await prepared.loadImage()).toBe(image);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((s) => s.startsWith("upload-1:"))).toBe(true);
    expect(seen.some((s) => s.startsWith("upload-1:segment:"))).toBe(true);
    expect(seen.some((s) => s.startsWith("upload-1:describe:"))).toBe(true);
  });
});

describe("the pool's failures and the cache", () => {
  let plain: Stack;
  beforeAll(async () => {
    plain = await createStack({ detector: "none" }, {});
  });
  afterAll(async () => {
    await plain?.close();
  });

  it("a worker that dies fails its image with one line naming it; it is replaced and the other images go on", async () => {
    const dir = await tempDir();
    const doomed = join(dir, "dies-here.jpg");
    await copyFile(images[1]!, doomed);
    const agent = agentWithPool(plain, { script: DYING_WORKER });
    try {
      const outcomes = await Promise.allSettled([images[0]!, doomed, images[1]!, doomed, images[2]!].map((p) => agent.prepareLazily(p)));
      const failed = outcomes.flatMap((o) => (o.status === "rejected" ? [(o.reason as Error).message] : []));
      expect(failed).toEqual([
        `"${doomed}": the preparation worker died while preparing it (exited with code 70)`,
        `"${doomed}": the preparation worker died while preparing it (exited with code 70)`,
      ]);
      for (const i of [0, 2, 4]) expect(outcomes[i]!.status).toBe("fulfilled");
      expectSamePreparation((outcomes[2] as PromiseFulfilledResult<PreparedImage>).value, await plain.agent.prepareLazily(images[1]!), "after a death");
      const stats = (agent.preparer as PreparationPool).stats();
      expect(stats.replaced).toBe(2);
      expect(stats.workers).toHaveLength(2);
    } finally {
      await agent.close();
    }
  });

  it("a worker whose stack is not the main one's refuses to start, and every image fails with the reason", async () => {
    const agent = agentWithPool(plain, { fingerprints: { segmenter: "classic#something-else" } });
    try {
      const outcomes = await Promise.allSettled(images.slice(0, 2).map((p) => agent.prepareLazily(p)));
      for (const o of outcomes) {
        expect(o.status).toBe("rejected");
        expect((o as PromiseRejectedResult).reason.message).toMatch(/^preparation worker: cannot build its stack: its segmenter is classic#.*, the main stack's classic#something-else$/);
      }
      await expect(agent.prepareLazily(images[2]!)).rejects.toThrow(/cannot build its stack/);
    } finally {
      await agent.close();
    }
  });

  it("an image waiting for a worker leaves on abort; a running one stops with the caller's reason", async () => {
    const agent = agentWithPool(plain);
    try {
      const controllers = images.map(() => new AbortController());
      const running = images.map((p, i) => agent.prepareLazily(p, controllers[i]!.signal));
      const outcomes = Promise.allSettled(running);
      // Two images on the workers, the third waiting.
      const pool = agent.preparer as PreparationPool;
      while (pool.stats().workers.filter((w) => w.busy).length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(pool.stats().queued).toBe(1);
      const reason = new Error("stop now");
      for (const c of controllers) c.abort(reason);
      for (const o of await outcomes) expect(o).toEqual({ status: "rejected", reason });
      // The workers are free again.
      expect((await agent.prepareLazily(images[1]!)).regions.length).toBeGreaterThan(10);
      // A batch shares one signal among many images: one listener on it, not one per image.
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.name);
      process.on("warning", onWarning);
      try {
        const shared = new AbortController();
        const many = Array.from({ length: 16 }, () => agent.prepareLazily(images[1]!, shared.signal));
        shared.abort(reason);
        for (const o of await Promise.allSettled(many)) expect(o).toEqual({ status: "rejected", reason });
        await new Promise((r) => setImmediate(r));
        expect(warnings).toEqual([]);
      } finally {
        process.off("warning", onWarning);
      }
    } finally {
      await agent.close();
    }
  });

  it("workers read and write the main thread's SQLite cache: a second preparation is all hits, equal results", async () => {
    const cache = new SqliteStageCache(join(await tempDir(), "cache.sqlite"));
    const agent = agentWithPool(plain, { cache });
    try {
      const first = await Promise.all(images.map((p) => agent.prepareLazily(p)));
      const again = await Promise.all(images.map((p) => agent.prepareLazily(p)));
      for (const [i, p] of first.entries()) {
        expect(p.cache).toEqual({ regions: "miss", descriptions: "miss", caption: "miss" });
        expect(again[i]!.cache).toEqual({ regions: "hit", descriptions: "hit", caption: "hit" });
        expectSamePreparation({ ...again[i]!, cache: p.cache }, p, images[i]!);
      }
      expect(cache.stats().stages.regions.entries).toBe(images.length);
    } finally {
      await agent.close();
    }
  });
});
