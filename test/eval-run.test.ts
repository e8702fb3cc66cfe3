// `eval run` through the library: a sample is resumed only when it was made with the same configuration
// (issue 11 #4), its completion mark is written last (#6), the report names the configuration behind its
// numbers, and the same run through a queue worker writes the same answers.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQueueUrl } from "../src/engine/queue/connection.js";
import { startWorker } from "../src/engine/queue/worker.js";
import { writeReasonReport } from "../src/eval/report.js";
import { runConfigurationFingerprint, runReasonSeg, sampleDir } from "../src/eval/run.js";
import { createStack } from "../src/stack/stack.js";
import { samples, tempDir } from "./helpers/cli.js";
import { startRedis, type RunningRedis } from "./helpers/services.js";

// The smallest sample (3 regions, 400 × 299): what is under test is resuming, not the pipeline's work.
const name = "692198_ac99d18ac5_o";
const outputs = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
const specs = { segmenter: `masks:${join(outputs, "sam/masks", name)}`, describer: `recorded:${join(outputs, "dam/descriptions", `${name}.json`)}`, reasoner: `recorded:${join(outputs, "answers/json", `${name}.json`)}` };
let data: string;

beforeAll(async () => {
  data = join(await tempDir("gear-seg-evalrun-"), "ds");
  await mkdir(data);
  await symlink(samples.image(name), join(data, `${name}.jpg`));
  await symlink(samples.question(name), join(data, `${name}.json`));
});

const agentWith = async (maxMasks: number) => (await createStack(specs, { maxMasks, cache: null })).agent;

async function run(out: string, maxMasks: number) {
  const agent = await agentWith(maxMasks);
  try {
    return await runReasonSeg({ agent, dataDir: data, outDir: out });
  } finally {
    await agent.close();
  }
}

describe("eval run resumes only its own configuration", () => {
  it("redoes samples of another configuration, brings them back when the configuration returns, and the report names it", async () => {
    const out = await tempDir();
    expect(await run(out, 6)).toMatchObject({ ran: 1, resumed: 0, setAside: 0 });
    expect(await run(out, 6)).toMatchObject({ ran: 0, resumed: 1 });
    const other = await run(out, 1);
    expect(other).toMatchObject({ ran: 1, resumed: 0, setAside: 1 });
    const mark = JSON.parse(await readFile(join(sampleDir(out, name), "done.json"), "utf8"));
    expect(mark.fingerprint).toBe(other.fingerprint);
    expect(mark.configuration.max_masks).toBe(1);
    const report = await writeReasonReport(data, out);
    expect(report.configuration).toMatchObject({ fingerprint: other.fingerprint, samples: 1, other_samples: 0 });
    const md = await readFile(join(out, "report.md"), "utf8");
    expect(md).toContain(`configuration \`${other.fingerprint}\``);
    expect(md).toMatch(/\| max_masks \| `1` \|/);
    // Back to the first configuration: its sample was kept aside and is resumed, not recomputed.
    const back = await run(out, 6);
    expect(back).toMatchObject({ ran: 0, resumed: 1, setAside: 1 });
  }, 60_000);

  it("a sample without its completion mark (a run killed while writing it) is redone", async () => {
    const out = await tempDir();
    await run(out, 6);
    await rm(join(sampleDir(out, name), "done.json"));
    await rm(join(sampleDir(out, name), "overlay.png"));
    expect(await run(out, 6)).toMatchObject({ ran: 1, resumed: 0 });
    expect(existsSync(join(sampleDir(out, name), "overlay.png"))).toBe(true);
  }, 60_000);
});

describe("eval run --queue", () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("a worker does the work; the collector writes the same answer as a local run", async () => {
    const local = await tempDir();
    await run(local, 6);
    const address = parseQueueUrl(redis.url);
    const worker = await startWorker({
      address,
      backends: {
        prepare: () => Promise.reject(new Error("no dataset jobs here")),
        segmenter: specs.segmenter,
        describer: specs.describer,
        agent: async () => {
          const agent = await agentWith(6);
          return { agent, fingerprint: runConfigurationFingerprint(agent).fingerprint };
        },
      },
    });
    try {
      const out = await tempDir();
      const r = await runReasonSeg({ queue: { address }, dataDir: data, outDir: out });
      expect(r).toMatchObject({ ran: 1, failed: [] });
      const strip = (j: Record<string, unknown>) => ({ ...j, timings: undefined, cache: undefined });
      const a = JSON.parse(await readFile(join(sampleDir(local, name), "result.json"), "utf8"));
      const b = JSON.parse(await readFile(join(sampleDir(out, name), "result.json"), "utf8"));
      expect(strip(b)).toEqual(strip(a));
      // Same configuration, same fingerprint: the local run's samples would be resumed by a queue run.
      expect(JSON.parse(await readFile(join(sampleDir(out, name), "done.json"), "utf8")).fingerprint).toBe(JSON.parse(await readFile(join(sampleDir(local, name), "done.json"), "utf8")).fingerprint);
      const again = await runReasonSeg({ queue: { address }, dataDir: data, outDir: out });
      expect(again).toMatchObject({ ran: 0, resumed: 1 });
    } finally {
      await worker.close();
    }
  }, 60_000);
});
