// Preparation on every core (src/stack/preparation-pool.ts): the offline default (classic + attributes + NanoDet-g)
// prepared in worker threads against the same stack prepared in process, in the same run, alternating:
// 1. a server (`startServer`, in this process) preparing uploads: the event-loop delay while it prepares
//    (monitorEventLoopDelay, 10 ms resolution) and the latency of GET /api/health polled every 100 ms meanwhile;
// 2. `gear-seg segment DIR` (built CLI, its own process) on ../shared/data/photos × N, one query, --no-cache;
// 3. the engine's single-machine run (`engine generate` without a queue): 60 pictures of 40×30, 12 in flight,
//    an OpenAI-compatible stand-in answering after 0.3 s (test/queue-chaos's single-machine run);
// 4. one `gear-seg segment` on a 1.5-megapixel photo, whole process, against the main branch's build when
//    GEAR_SEG_BENCH_BASELINE names one (a dist/ folder's parent), on both cores and on one (taskset -c 0).
// Every row says its 1-minute load average: other work on the machine changes wall times.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import sharp from "sharp";
import { generateDataset } from "../dist/engine/generate.js";
import { createJsonChat } from "../dist/engine/llm.js";
import { encodePng } from "../dist/image/index.js";
import { StageEvents, startServer } from "../dist/server/index.js";
import { createStack } from "../dist/stack/stack.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..");
const photos = ["cars.jpg", "groceries.jpg", "truck.jpg"].map((f) => resolve(root, "../shared/data/photos", f));
const COPIES = Number(process.env.GEAR_SEG_BENCH_POOL_COPIES ?? 3);
const ROUNDS = Number(process.env.GEAR_SEG_BENCH_POOL_ROUNDS ?? 2);
const WORKERS = availableParallelism();
const load = () => loadavg()[0].toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const s = (ms) => (ms / 1000).toFixed(1);

/** Wall and CPU seconds of a command, from /usr/bin/time. */
function timed(args, env = {}) {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  const [wall, user, sys, rssKb] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
  return { wall, cpu: user + sys, rssMb: rssKb / 1024 };
}

async function serverRun(workers, uploads) {
  const events = new StageEvents();
  const stack = await createStack({}, { workers, onStage: events.onStage });
  const server = await startServer({ agent: stack.agent, stageEvents: events, port: 0 });
  const upload = async (bytes) => (await (await fetch(`${server.url}/api/images`, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: bytes })).json()).id;
  const ready = async (id) => {
    await (await fetch(`${server.url}/api/images/${id}/events`)).text();
    const state = (await (await fetch(`${server.url}/api/images/${id}`)).json()).state;
    if (state !== "ready") throw new Error(`image ${id}: ${state}`);
  };
  try {
    // Warm-up: every worker (or the main thread) has loaded its models and compiled its code.
    const warm = await sharp(photos[1]).resize(200, 134).jpeg().toBuffer();
    await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, i) => sharp(warm).modulate({ brightness: 1 + i / 50 }).jpeg().toBuffer().then(upload).then(ready)));
    const l = load();
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    const health = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const t = performance.now();
        await (await fetch(`${server.url}/api/health`)).text();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    histogram.enable();
    const t0 = performance.now();
    const ids = await Promise.all(uploads.map(upload));
    await Promise.all(ids.map(ready));
    const wall = performance.now() - t0;
    histogram.disable();
    polling = false;
    await poll;
    const h = [...health].sort((a, b) => a - b);
    return {
      workers,
      load: l,
      wall,
      loop: { p50: histogram.percentile(50) / 1e6, p90: histogram.percentile(90) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 },
      health: { n: h.length, p50: pct(h, 50), p90: pct(h, 90), max: h.at(-1) },
    };
  } finally {
    await server.close();
    await stack.close();
  }
}

async function engineRun(workers, imagesDir, outDir, llm) {
  const stack = await createStack({ reasoner: "none" }, { workers });
  const l = load();
  const t0 = performance.now();
  try {
    const summary = await generateDataset({
      imagesDir,
      outDir,
      prepare: (e, signal) => stack.agent.prepareLazily(e.abs, signal),
      llm: createJsonChat(llm),
      segmenterSpec: "classic",
      describerSpec: "attributes",
      concurrency: 12,
    });
    if (summary.finished !== 60) throw new Error(`engine run: ${summary.finished} of 60 finished`);
  } finally {
    await stack.close();
  }
  return { workers, load: l, wall: performance.now() - t0 };
}

export default async function run(log) {
  const tmp = mkdtempSync(join(tmpdir(), "gear-seg-pool-bench-"));
  const cli = join(root, "dist/cli/main.js");
  try {
    log(`## Preparation on every core: worker threads vs in process (bench/pool.bench.js)`);
    log("");
    log(`node ${process.version}, ${WORKERS} cores; load average at start ${loadavg().map((x) => x.toFixed(1)).join(", ")}; offline default (classic + attributes + NanoDet-g), no cache; in-process (0) and ${WORKERS} workers alternate, ${ROUNDS} rounds.`);
    log("");

    // 1. The server's event loop while it prepares a 640×480 crop and the 1.5-megapixel photo.
    const crop = await sharp(photos[0]).extract({ left: 600, top: 400, width: 640, height: 480 }).jpeg({ quality: 92 }).toBuffer();
    const big = await sharp(photos[0]).resize(1500, 1000).jpeg({ quality: 92 }).toBuffer();
    log("### Server: event-loop delay and GET /api/health while preparing uploads");
    log("");
    log("| workers | uploads | load | prepared in | loop delay p50 / p90 / p99 / max | /api/health p50 / p90 / max (n) |");
    log("|---:|---|---:|---:|---|---|");
    for (let r = 0; r < ROUNDS; r++) {
      for (const workers of [0, WORKERS]) {
        for (const [what, uploads] of [["640×480 crop", [crop]], ["crop + 1.5 MP photo", [crop, big]]]) {
          const x = await serverRun(workers, uploads);
          const f = (v) => v.toFixed(0);
          log(`| ${workers} | ${what} | ${x.load} | ${s(x.wall)} s | ${f(x.loop.p50)} / ${f(x.loop.p90)} / ${f(x.loop.p99)} / ${f(x.loop.max)} ms | ${f(x.health.p50)} / ${f(x.health.p90)} / ${f(x.health.max)} ms (${x.health.n}) |`);
        }
      }
    }
    log("");

    // 2. segment DIR on the photos × COPIES (same bytes under other names; no cache, so every copy is prepared).
    const dir = join(tmp, "photos");
    mkdirSync(dir);
    for (let c = 0; c < COPIES; c++) for (const p of photos) copyFileSync(p, join(dir, `${c}-${p.split("/").pop()}`));
    const n = COPIES * photos.length;
    log(`### \`gear-seg segment DIR -q "the car" --no-cache\` on ../shared/data/photos × ${COPIES} (${n} images)`);
    log("");
    log("| workers | load | wall | CPU | images/s | peak RSS |");
    log("|---:|---:|---:|---:|---:|---:|");
    const segRows = { 0: [], [WORKERS]: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const workers of [0, WORKERS]) {
        const l = load();
        const out = join(tmp, `seg-${r}-${workers}`);
        const t = timed([process.execPath, cli, "segment", dir, "-q", "the car", "--no-cache", "--quiet", "--out", out, "--workers", String(workers)]);
        segRows[workers].push(t.wall);
        log(`| ${workers} | ${l} | ${t.wall.toFixed(1)} s | ${t.cpu.toFixed(1)} s | ${(n / t.wall).toFixed(2)} | ${t.rssMb.toFixed(0)} MB |`);
      }
    }
    log("");
    log(`Median wall: in process ${median(segRows[0]).toFixed(1)} s, ${WORKERS} workers ${median(segRows[WORKERS]).toFixed(1)} s (${(median(segRows[0]) / median(segRows[WORKERS])).toFixed(2)}×).`);
    log("");

    // 3. The engine's single-machine run.
    const pics = join(tmp, "pictures");
    mkdirSync(pics);
    for (let k = 0; k < 60; k++) {
      const width = 40, height = 30;
      const data = new Uint8Array(width * height * 3).fill(210);
      for (let y = 5; y < 24; y++) for (let x = 4 + (k % 9); x < 22 + (k % 9); x++) data.set([(k * 37) % 255, (k * 91) % 255, 60], (y * width + x) * 3);
      data[0] = k;
      writeFileSync(join(pics, `p${k}.png`), await encodePng({ width, height, data }));
    }
    const reply = JSON.stringify({ items: [{ reasoning_type: "attribute", questions: ["Which area is biggest?", "What fills the frame?", "Which part covers most?", "What dominates the view?", "Which region is largest?"], explanation: "It is the largest. It fills the frame.", answer_labels: ["background"], answer_mask_ids: [0], confidence: 9 }] });
    const chat = createServer((req, res) => {
      req.resume();
      req.on("end", () => setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ model: "m", choices: [{ index: 0, message: { role: "assistant", content: reply } }] })), 300));
    });
    await new Promise((r) => chat.listen(0, "127.0.0.1", r));
    const llm = `openai:m@http://127.0.0.1:${chat.address().port}/v1`;
    log("### Engine, single machine: `engine generate` on 60 pictures of 40×30, 12 in flight, LLM stand-in 0.3 s");
    log("");
    log("| workers | load | wall | images/s |");
    log("|---:|---:|---:|---:|");
    const engRows = { 0: [], [WORKERS]: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const workers of [0, WORKERS]) {
        const x = await engineRun(workers, pics, join(tmp, `dataset-${r}-${workers}`), llm);
        engRows[workers].push(x.wall);
        log(`| ${workers} | ${x.load} | ${s(x.wall)} s | ${(60000 / x.wall).toFixed(2)} |`);
      }
    }
    chat.close();
    log("");
    log(`Median wall: in process ${s(median(engRows[0]))} s, ${WORKERS} workers ${s(median(engRows[WORKERS]))} s (${(median(engRows[0]) / median(engRows[WORKERS])).toFixed(2)}×).`);
    log("");

    // 4. One image, whole process (always in process: one image gains nothing from a worker).
    const photo = join(tmp, "cars-1.5mp.jpg");
    writeFileSync(photo, big);
    const baseline = process.env.GEAR_SEG_BENCH_BASELINE;
    const builds = [["this branch", cli], ...(baseline && existsSync(join(baseline, "dist/cli/main.js")) ? [["baseline (main)", join(baseline, "dist/cli/main.js")]] : [])];
    log("### One `gear-seg segment` of a 1.5-megapixel photo, whole process (`--no-cache`, weights on disk)");
    log("");
    log("| build | cores | load | wall | CPU | peak RSS |");
    log("|---|---|---:|---:|---:|---:|");
    const one = {};
    for (let r = 0; r < ROUNDS + 1; r++) {
      for (const [name, main] of builds) {
        for (const cores of ["2", "1"]) {
          const l = load();
          const args = [process.execPath, main, "segment", photo, "the car", "--no-cache", "--quiet", "--overwrite", "--out", join(tmp, "one")];
          const t = timed(cores === "1" ? ["taskset", "-c", "0", ...args] : args);
          (one[`${name}|${cores}`] ??= []).push(t.wall);
          log(`| ${name} | ${cores} | ${l} | ${t.wall.toFixed(2)} s | ${t.cpu.toFixed(2)} s | ${t.rssMb.toFixed(0)} MB |`);
        }
      }
    }
    log("");
    log(`Medians: ${Object.entries(one).map(([k, v]) => `${k.replace("|", ", ")} core(s) ${median(v).toFixed(2)} s`).join("; ")}.`);
    log("");
    log(`load average at end: ${loadavg().map((x) => x.toFixed(1)).join(", ")}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
