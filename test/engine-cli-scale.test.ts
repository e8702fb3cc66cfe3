// Smoke runs of the commands around the data engine through the built CLI (engine status, export and distill
// of an empty dataset, queue status / retry-failed / drain), and exporting `segment` results (issue 12)
// through the library.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Queue } from "bullmq";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCocoGroundTruth } from "../src/datasets/coco.js";
import { loadLabelMe } from "../src/datasets/labelme.js";
import { connectRedis, parseQueueUrl } from "../src/engine/queue/connection.js";
import { DATASET_QUEUE } from "../src/engine/queue/jobs.js";
import { exportDataset } from "../src/export/index.js";
import { loadImage } from "../src/image/index.js";
import { area, iou } from "../src/masks/index.js";
import { writeSegmentationOutputs } from "../src/pipeline/outputs.js";
import { createStack } from "../src/stack/stack.js";
import { runCli, samples, tempDir } from "./helpers/cli.js";
import { startRedis, type RunningRedis } from "./helpers/services.js";

describe("engine status, empty datasets", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await writeFile(
      join(dir, "manifest.json"),
      JSON.stringify({ format: "gear-seg-dataset", version: 2, kind: "reasoning", images_roots: [dir], created: "", updated: "", generation: { segmenter: "classic", describer: null, llm: "x", models: [], prompt_version: "v" }, splits: { seed: "0", fractions: { train: 0.9, val: 0.05, test: 0.05 } }, files: {}, counts: { images: 0, failed: 0, pending: 0, items: 0 } }),
    );
    await mkdir(join(dir, "failures"));
    await writeFile(join(dir, "failures", "x-1.json"), JSON.stringify({ image_id: "x-1", image: "x.png", stage: "llm", error: "HTTP 500: overloaded", at: "", attempts: 3, parked: true }));
  });

  it("status lists parked images with their reasons", async () => {
    const r = await runCli(["engine", "status", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 images finished, 0 failing .*, 1 parked/);
    expect(r.stdout).toMatch(/parked: x\.png: llm: HTTP 500: overloaded \(3 attempts\)/);
    expect(r.stdout).toMatch(/--retry-failed/);
  });

  it("export and distill of a dataset without items fail with one line and print no training commands", async () => {
    const out = join(await tempDir(), "exp");
    const e = await runCli(["export", dir, "--format", "coco", "--out", out]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^gear-seg: .*has no finished images: nothing to export/);
    expect(e.stderr.trim().split("\n")).toHaveLength(1);
    const d = await runCli(["distill", "yolo", dir, "--out", out, "--print"]);
    expect(d.code).toBe(1);
    expect(d.stdout).toBe("");
    expect(d.stderr).toMatch(/nothing to export/);
  });
});

describe("queue commands", () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("status shows depth and failures with reasons; retry-failed and drain act on them", async () => {
    const connection = connectRedis(parseQueueUrl(redis.url));
    const queue = new Queue(DATASET_QUEUE, { connection });
    await queue.add(DATASET_QUEUE, { image: { rel: "bad.png" } }, { jobId: "ds-b" });
    // One job fails as a worker's would (reason "<stage>: <error>"); then one more waits.
    const { Worker } = await import("bullmq");
    const workerConnection = connectRedis(parseQueueUrl(redis.url));
    const w = new Worker(DATASET_QUEUE, async () => {
      throw new Error("llm: HTTP 500: overloaded");
    }, { connection: workerConnection, concurrency: 1 });
    await new Promise<void>((resolve) => w.on("failed", () => resolve()));
    await w.close();
    workerConnection.disconnect();
    await queue.add(DATASET_QUEUE, { image: { rel: "waiting.png" } }, { jobId: "ds-a" });
    const s = await runCli(["queue", "status", redis.url, "--json"]);
    expect(s.code).toBe(0);
    const status = JSON.parse(s.stdout);
    const ds = status.find((q: { queue: string }) => q.queue === DATASET_QUEUE);
    expect(ds.counts).toMatchObject({ failed: 1, waiting: 1 });
    expect(ds.failures).toEqual([{ job: "ds-b", image: "bad.png", stage: "llm", error: "HTTP 500: overloaded" }]);
    const text = await runCli(["queue", "status", redis.url]);
    expect(text.stdout).toMatch(/failed bad\.png: llm: HTTP 500: overloaded/);
    const retry = await runCli(["queue", "retry-failed", redis.url]);
    expect(retry.stdout).toMatch(/1 failed job\(s\) queued again/);
    expect(await queue.getFailedCount()).toBe(0);
    const drain = await runCli(["queue", "drain", redis.url]);
    expect(drain.code).toBe(0);
    expect(await queue.getWaitingCount()).toBe(0);
    await queue.close();
    connection.disconnect();
    const bad = await runCli(["queue", "status", "http://nowhere"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must start with redis:\/\//);
  }, 60_000);
});

describe("export of segment results (issue 12)", () => {
  it("a folder of segment runs goes to COCO, YOLO and LabelMe with the answers' masks", async () => {
    const name = "4537339_3d8e488294_o";
    const outputs = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
    const { agent } = await createStack({ segmenter: `masks:${join(outputs, "sam/masks", name)}`, describer: `recorded:${join(outputs, "dam/descriptions", `${name}.json`)}`, reasoner: `recorded:${join(outputs, "answers/json", `${name}.json`)}` }, { cache: null });
    const runs = await tempDir();
    const prepared = await agent.prepare(samples.image(name));
    const answer = await agent.ask(prepared, "something that the persons use to cross the water");
    await writeSegmentationOutputs(join(runs, name, "q1"), answer, prepared.image);
    await agent.close();

    const coco = join(await tempDir(), "coco");
    expect((await exportDataset(runs, "coco", coco)).sourceKind).toBe("segment-runs");
    const gt = await loadCocoGroundTruth(join(coco, "annotations", "instances_all.json"));
    expect(gt.categories.map((c) => c.name)).toEqual(["something that the persons use to cross the water"]);
    expect(gt.annotations).toHaveLength(1);
    expect(gt.annotations[0]!.area).toBe(area(answer.mask));

    const yolo = join(await tempDir(), "yolo");
    await exportDataset(runs, "yolo", yolo);
    expect(parseYaml(await readFile(join(yolo, "data.yaml"), "utf8")).names).toEqual({ 0: "something that the persons use to cross the water" });
    expect((await readdir(join(yolo, "images", "train"))).length).toBe(1);

    const lm = join(await tempDir(), "labelme");
    await exportDataset(runs, "labelme", lm);
    const [file] = await loadLabelMe(lm);
    const img = await loadImage(samples.image(name));
    expect([file!.instances[0]!.rle.width, file!.instances[0]!.rle.height]).toEqual([img.width, img.height]);
    expect(iou([file!.instances[0]!.rle], [answer.mask], [false])[0]![0]!).toBeGreaterThan(0.98);
    await expect(exportDataset(runs, "reasonseg", join(await tempDir(), "x"))).rejects.toThrow(/segment runs export to coco, yolo, labelme/);
  }, 60_000);
});
