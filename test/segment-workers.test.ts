// `segment` over a folder with preparation workers (the batch caller of the library, as `segment DIR` runs it):
// the same files, byte for byte but the timings, and the images answered in the same order as in process; a
// worker that dies fails only its image, with one line naming it, and the run goes on.
import { copyFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GearSeg } from "../src/pipeline/agent.js";
import { runSegmentBatch } from "../src/pipeline/batch.js";
import { createStack, type Stack } from "../src/stack/stack.js";
import { listImageFiles } from "../src/util/image-files.js";
import { photos, samples } from "./helpers/paths.js";
import { agentWithPool, DYING_WORKER } from "./helpers/preparation-pools.js";
import { tempDir } from "./helpers/temp.js";

const queries = ["the red region"];

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else out.push(relative(root, join(dir, e.name)));
    }
  };
  await walk(root);
  return out.sort();
}

/** A file as a run writes it, without what differs from run to run (times, the run's own folder). */
async function comparable(root: string, file: string): Promise<unknown> {
  const bytes = await readFile(join(root, file));
  if (!file.endsWith(".json")) return bytes;
  return JSON.parse(bytes.toString("utf8"), (key, value) => (key === "timings" || key === "finished" ? undefined : value));
}

/** Runs the batch, noting the order in which images were finished. */
async function run(agent: GearSeg, folder: string, dir: string) {
  const order: string[] = [];
  const summary = await runSegmentBatch({ agent, images: await listImageFiles([folder]), queries, dir, onProgress: (_d, _t, image) => order.push(image.id) });
  return { summary, order };
}

describe("segment over a folder with preparation workers", () => {
  let folder: string;
  let pooled: Stack;
  let inProcess: Stack;
  beforeAll(async () => {
    folder = join(await tempDir(), "photos");
    await mkdir(folder);
    // Small copies of the photos (quick to segment on a busy machine), a sample, and a file that is no image.
    await sharp(photos.cars).resize(360, 240).toFile(join(folder, "a-cars.jpg"));
    await sharp(photos.truck).resize(300, 200).toFile(join(folder, "b-truck.png"));
    await copyFile(samples.image("692198_ac99d18ac5_o"), join(folder, "c-dog.jpg"));
    await writeFile(join(folder, "d-broken.jpg"), "not an image");
    // The offline default without its detector, to keep this file quick (the pool's own tests run NanoDet).
    [pooled, inProcess] = await Promise.all([createStack({ detector: "none" }, { workers: 2 }), createStack({ detector: "none" }, {})]);
  });
  afterAll(async () => {
    await Promise.all([pooled?.close(), inProcess?.close()]);
  });

  it("writes the same files as in process, in the same order, with the failure recorded the same way", async () => {
    const dirs = { pooled: join(await tempDir(), "run"), inProcess: join(await tempDir(), "run") };
    const a = await run(pooled.agent, folder, dirs.pooled);
    const b = await run(inProcess.agent, folder, dirs.inProcess);
    expect(a.order).toEqual(["a-cars", "b-truck", "c-dog", "d-broken"]);
    expect(a.order).toEqual(b.order);
    expect({ ...a.summary, dir: "", elapsedMs: 0 }).toEqual({ ...b.summary, dir: "", elapsedMs: 0 });
    expect(a.summary.failed.map((f) => f.id)).toEqual(["d-broken"]);
    const files = await filesUnder(dirs.pooled);
    expect(files).toEqual(await filesUnder(dirs.inProcess));
    expect(files.filter((f) => f.endsWith("overlay.png"))).toHaveLength(3);
    for (const f of files) {
      const [x, y] = [await comparable(dirs.pooled, f), await comparable(dirs.inProcess, f)];
      if (Buffer.isBuffer(x)) expect(x.equals(y as Buffer), f).toBe(true);
      else expect(x, f).toEqual(y);
    }
    // Both workers prepared.
    const stats = (pooled.agent.preparer as import("../src/stack/preparation-pool.js").PreparationPool).stats();
    expect(stats.workers.every((w) => w.done > 0)).toBe(true);
  });

  it("a worker that dies fails its image with one line naming it; the run goes on and records it", async () => {
    const plain = await createStack({ detector: "none" }, {});
    const agent = agentWithPool(plain, { script: DYING_WORKER });
    try {
      const mixed = join(await tempDir(), "photos");
      await mkdir(mixed);
      for (const f of ["a-cars.jpg", "c-dog.jpg"]) await copyFile(join(folder, f), join(mixed, f));
      await copyFile(join(folder, "c-dog.jpg"), join(mixed, "b-dies-here.jpg"));
      const dir = join(await tempDir(), "run");
      const failures: string[] = [];
      const summary = await runSegmentBatch({
        agent,
        images: await listImageFiles([mixed]),
        queries,
        dir,
        onFailure: (image, message) => failures.push(`${image.id}: ${message}`),
      });
      const doomed = join(mixed, "b-dies-here.jpg");
      const message = `"${doomed}": the preparation worker died while preparing it (exited with code 70)`;
      expect(failures).toEqual([`b-dies-here: ${message}`]);
      expect(summary.failed).toEqual([{ id: "b-dies-here", image: doomed, message }]);
      expect(summary.queries.map((q) => q.answered + q.empty)).toEqual([2]);
      const status = JSON.parse(await readFile(join(dir, "b-dies-here/status.json"), "utf8"));
      expect(status).toMatchObject({ status: "failed", error: message });
      for (const id of ["a-cars", "c-dog"]) expect(JSON.parse(await readFile(join(dir, id, "status.json"), "utf8")).status).toBe("done");
    } finally {
      await agent.close();
      await plain.close();
    }
  });
});
