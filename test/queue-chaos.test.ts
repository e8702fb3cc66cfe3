// The data engine on several machines, under fire: three `gear-seg worker` processes take jobs from a real
// Redis (persistence on) while `engine generate --queue` collects; a random worker is killed with SIGKILL ten
// times (and started again), Redis is killed and restarted once. The dataset must equal the one a single
// machine produces from the same images: nothing lost, nothing duplicated, record for record.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eachRecord, type ImageRecord } from "../src/datasets/gear-seg.js";
import { generateDataset } from "../src/engine/generate.js";
import { createJsonChat } from "../src/engine/llm.js";
import { encodePng } from "../src/image/index.js";
import { createStack } from "../src/stack/stack.js";
import { startOpenAiServer, type OpenAiServer } from "./helpers/openai-server.js";
import { cliPath, tempDir } from "./helpers/cli.js";
import { startRedis, type RunningRedis } from "./helpers/services.js";

const IMAGES = 60;
let root: string;
let imagesDir: string;
let server: OpenAiServer;
let redis: RunningRedis;
const children = new Set<ChildProcess>();

/** A small picture of its own: a few coloured blocks placed by the index (distinct content per image). */
function picture(k: number): { width: number; height: number; data: Uint8Array } {
  const width = 40;
  const height = 30;
  const data = new Uint8Array(width * height * 3).fill(200);
  let s = k * 2654435761;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let b = 0; b < 3; b++) {
    const x0 = Math.floor(rnd() * 30);
    const y0 = Math.floor(rnd() * 20);
    const c = [Math.floor(rnd() * 255), Math.floor(rnd() * 255), Math.floor(rnd() * 255)];
    for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) data.set(c, (y * width + x) * 3);
  }
  data[0] = k & 255; // no two images alike, even when their blocks are
  data[1] = k >> 8;
  return { width, height, data };
}

const reply = JSON.stringify({
  items: [
    {
      reasoning_type: "attribute",
      questions: ["Which area covers the most of this picture?", "What fills most of the frame?", "Which part is the biggest?", "What takes up the most room here?", "Which region dominates?"],
      explanation: "It is the largest region. It fills the frame.",
      answer_labels: ["background"],
      answer_mask_ids: [0],
      confidence: 9,
    },
  ],
});

beforeAll(async () => {
  root = await tempDir("gear-seg-chaos-");
  imagesDir = join(root, "images");
  await mkdir(imagesDir);
  for (let k = 0; k < IMAGES; k++) await writeFile(join(imagesDir, `img_${String(k).padStart(3, "0")}.png`), await encodePng({ ...picture(k), source: "" } as never));
  // The model server stand-in: 0.3 s per answer, as a loaded LLM server.
  server = await startOpenAiServer({ answer: async () => {
    await new Promise((r) => setTimeout(r, 300));
    return reply;
  } });
  redis = await startRedis({ persistent: true });
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await redis?.stop();
  await server?.close();
});

const llmSpec = () => `openai:m@${server.url}`;

function startWorker(name: string): ChildProcess {
  const child = spawn(
    process.execPath,
    // No detector: the queue's robustness is under test, and a worker restarted by SIGKILL would reload it each time.
    [cliPath, "worker", "--queue", redis.url, "--llm", llmSpec(), "--segmenter", "classic", "--describer", "attributes", "--detector", "none", "--no-cache", "--concurrency", "1", "--stall-timeout", "1500", "--name", name, "--quiet"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", () => {});
  children.add(child);
  return child;
}

async function readAll(dir: string): Promise<Map<string, ImageRecord>> {
  const out = new Map<string, ImageRecord>();
  for await (const r of eachRecord(dir)) out.set(r.image_id, r);
  return out;
}

/** A record without what legitimately differs between runs: when it finished. */
const comparable = (r: ImageRecord) => ({ ...r, finished: "" });

describe("engine generate --queue", () => {
  it("three workers, ten SIGKILLs, one Redis restart: the dataset equals the single-machine run's", async () => {
    // The single-machine run, in this process.
    const tSingle = performance.now();
    const single = join(root, "single");
    const { agent } = await createStack({ segmenter: "classic", describer: "attributes", reasoner: "none", detector: "none" });
    const local = await generateDataset({ imagesDir, outDir: single, prepare: (e, signal) => agent.prepare(e.abs, signal), llm: createJsonChat(llmSpec()), segmenterSpec: "classic", describerSpec: "attributes", concurrency: 12 });
    await agent.close();
    console.log(`single-machine run: ${((performance.now() - tSingle) / 1000).toFixed(1)} s`);
    expect(local).toMatchObject({ finished: IMAGES, failed: 0 });

    const t0 = performance.now();
    const distributed = join(root, "queue");
    const workers = [startWorker("w0"), startWorker("w1"), startWorker("w2")];
    const collector = spawn(process.execPath, [cliPath, "engine", "generate", imagesDir, "--out", distributed, "--queue", redis.url, "--quiet"], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(collector);
    let out = "";
    let err = "";
    collector.stdout!.on("data", (d) => (out += String(d)));
    collector.stderr!.on("data", (d) => (err += String(d)));
    const exited = new Promise<number | null>((resolve) => collector.on("exit", (code) => resolve(code)));

    const countRecords = async () => (await readdir(join(distributed, "records")).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).length;
    let kills = 0;
    let redisRestarted = false;
    let done = false;
    void exited.then(() => (done = true));
    // The kills start once work flows (workers that are still starting hold no jobs).
    while (!done && (await countRecords()) < 3) await new Promise((r) => setTimeout(r, 100));
    while (!done && kills < 10) {
      await new Promise((r) => setTimeout(r, 300));
      if (done) break;
      const k = Math.floor(Math.random() * workers.length);
      workers[k]!.kill("SIGKILL");
      workers[k] = startWorker(`w${k}-${kills}`);
      kills++;
      if (kills === 5 && !redisRestarted) {
        expect(await countRecords()).toBeLessThan(IMAGES); // still in the middle of the run
        await redis.restart();
        redisRestarted = true;
      }
    }
    const tKills = performance.now();
    const code = await exited;
    console.log(`queue run: kills over ${((tKills - t0) / 1000).toFixed(1)} s, done after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const w of workers) w.kill("SIGTERM");
    // Only the Redis outage is reported (once per connection, and its end).
    for (const line of err.trim().split("\n").filter(Boolean)) expect(line).toMatch(/^queue redis:\/\/127\.0\.0\.1:\d+: (.*; reconnecting|reconnected)$/);
    expect(code).toBe(0);
    expect(kills).toBe(10);
    expect(redisRestarted).toBe(true);
    expect(out).toMatch(new RegExp(`${IMAGES} images done now, 0 already done, 0 failed`));

    const a = await readAll(single);
    const b = await readAll(distributed);
    expect(b.size).toBe(IMAGES); // none lost
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [id, rec] of a) expect(comparable(b.get(id)!)).toEqual(comparable(rec));
    // items.jsonl: every item once (none duplicated), the same items as the single-machine run.
    const lines = async (dir: string) => (await readFile(join(dir, "items.jsonl"), "utf8")).trim().split("\n").sort();
    const [la, lb] = [await lines(single), await lines(distributed)];
    expect(lb.length).toBe(la.length);
    expect(new Set(lb.map((l) => JSON.parse(l).id)).size).toBe(lb.length);
    expect(lb).toEqual(la);
  });
});
