// Throughput of `engine generate --queue` with 1, 2 and 3 `gear-seg worker` processes (concurrency 2 each)
// against the same stand-in model server (an OpenAI-compatible chat server answering after 0.3 s), on small
// generated pictures with the offline segmenter and describer. Baseline in the same run: the single-process
// run (no queue) with the same concurrency as one worker. Ideal scaling is linear in the workers.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { generateDataset } from "../dist/engine/generate.js";
import { createJsonChat } from "../dist/engine/llm.js";
import { queueExecutor } from "../dist/engine/queue/collector.js";
import { connectRedis, parseQueueUrl } from "../dist/engine/queue/connection.js";
import { DATASET_QUEUE } from "../dist/engine/queue/jobs.js";
import { encodePng } from "../dist/image/index.js";
import { createStack } from "../dist/pipeline/stack.js";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../dist/cli/main.js");
const IMAGES = Number(process.env.GEAR_SEG_BENCH_QUEUE_IMAGES ?? 90);
const LATENCY_MS = 300;

const freePort = () =>
  new Promise((resolve) => {
    const s = netServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

function picture(k) {
  const width = 48, height = 36;
  const data = new Uint8Array(width * height * 3).fill(220);
  for (let y = 6; y < 28; y++) for (let x = 5 + (k % 9); x < 25 + (k % 9); x++) data.set([(k * 37) % 255, (k * 91) % 255, 80], (y * width + x) * 3);
  data[0] = k & 255;
  return { width, height, data };
}

const reply = JSON.stringify({ items: [{ reasoning_type: "attribute", questions: ["Which area is biggest?", "What fills the frame?", "Which part covers most?", "What dominates the view?", "Which region is largest?"], explanation: "It is the largest. It fills the frame.", answer_labels: ["background"], answer_mask_ids: [0], confidence: 9 }] });

export default async function bench(log) {
  const root = mkdtempSync(join(tmpdir(), "gear-seg-queue-bench-"));
  const images = join(root, "images");
  mkdirSync(images);
  for (let k = 0; k < IMAGES; k++) writeFileSync(join(images, `p${k}.png`), await encodePng(picture(k)));
  let calls = 0;
  const chat = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      setTimeout(() => {
        calls++;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ model: "m", choices: [{ index: 0, message: { role: "assistant", content: reply } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      }, LATENCY_MS),
    );
  });
  await new Promise((r) => chat.listen(0, "127.0.0.1", r));
  const llm = `openai:m@http://127.0.0.1:${chat.address().port}/v1`;
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", root], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  const address = parseQueueUrl(url);
  await new Promise((r) => setTimeout(r, 500));
  const connection = connectRedis(address);
  const queue = new Queue(DATASET_QUEUE, { connection });
  const rows = [];
  try {
    // Baseline: one process, two images in flight (what one worker does).
    {
      const { agent } = await createStack({ segmenter: "classic", describer: "attributes", reasoner: "none", detector: "none" });
      const load = loadavg()[0].toFixed(1);
      const t0 = performance.now();
      await generateDataset({ imagesDir: images, outDir: join(root, "local"), prepare: (e, s) => agent.prepare(e.abs, s), llm: createJsonChat(llm), segmenterSpec: "classic", describerSpec: "attributes", concurrency: 2 });
      const s = (performance.now() - t0) / 1000;
      await agent.close();
      rows.push({ what: "no queue, one process (baseline)", workers: 0, seconds: s, rate: IMAGES / s, load });
    }
    for (const n of [1, 2, 3]) {
      await queue.obliterate({ force: true });
      const workers = Array.from({ length: n }, (_, i) =>
        spawn(process.execPath, [cli, "worker", "--queue", url, "--llm", llm, "--segmenter", "classic", "--describer", "attributes", "--detector", "none", "--no-cache", "--concurrency", "2", "--name", `bench-${n}-${i}`, "--quiet"], { stdio: "ignore" }),
      );
      // Wait until every worker has connected.
      for (let t = 0; t < 200 && (await queue.getWorkersCount()) < n; t++) await new Promise((r) => setTimeout(r, 100));
      const load = loadavg()[0].toFixed(1);
      const t0 = performance.now();
      await generateDataset({ imagesDir: images, outDir: join(root, `queue-${n}`), executor: queueExecutor({ address }) });
      const s = (performance.now() - t0) / 1000;
      rows.push({ what: `queue, ${n} worker${n > 1 ? "s" : ""}`, workers: n, seconds: s, rate: IMAGES / s, load });
      for (const w of workers) w.kill("SIGTERM");
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r() : w.once("exit", r)))));
    }
  } finally {
    await queue.close();
    connection.disconnect();
    redis.kill("SIGTERM");
    chat.close();
    rmSync(root, { recursive: true, force: true });
  }
  const one = rows.find((r) => r.workers === 1).rate;
  log(`\n## Distributed generation: workers behind a queue (bench/queue-workers.bench.js)\n`);
  log(`${IMAGES} generated 48×36 pictures, classic segmenter + attributes describer on every worker, an OpenAI-compatible stand-in that answers after ${LATENCY_MS} ms; each worker takes 2 jobs at a time; Redis ${"7"} on loopback. Ideal: ${(2 / (LATENCY_MS / 1000)).toFixed(1)} images/s per worker. ${availableParallelism()} cores; 1-minute load average at the start of each run.\n`);
  log(`| run | s | images/s | vs 1 worker | linear would be | load |`);
  log(`|---|---:|---:|---:|---:|---:|`);
  for (const r of rows) log(`| ${r.what} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(2)} | ${(r.rate / one).toFixed(2)}× | ${r.workers ? `${r.workers}.00×` : "—"} | ${r.load} |`);
  log(`\n(${calls} model calls answered.)`);
}
