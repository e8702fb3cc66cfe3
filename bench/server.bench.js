// `gear-seg serve` under load, as a separate process (its peak RSS is read from /proc): 100 concurrent asks on a
// prepared image (recorded GEAR-Seg sample: 103 SAM 2 masks, DAM descriptions, the recorded answer), against
// the baseline of the same 100 asks one after another; then 20 concurrent uploads of distinct photos to a
// server preparing them with the offline default and at most 4 waiting (`--queue 4`): each is accepted or
// refused with 429 + Retry-After, the accepted ones are all prepared.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = resolve(root, "../shared/data");
const NAME = "4537339_3d8e488294_o";
const S = join(shared, "gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val");

function serve(args) {
  const child = spawn(process.execPath, [join(root, "dist/cli/main.js"), "serve", "--port", "0", "--quiet", "--no-cache", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((res, rej) => {
    createInterface({ input: child.stdout }).once("line", (line) => res({ child, url: line.replace("listening on ", "") }));
    child.once("exit", (code) => rej(new Error(`serve exited ${code}`)));
  });
}

async function peakRssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}
async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (v) => `${v.toFixed(0)} ms`;

async function waitReady(url, id) {
  await (await fetch(`${url}/api/images/${id}/events`)).text();
  return (await (await fetch(`${url}/api/images/${id}`)).json()).state;
}

async function timedAsk(url, id, query) {
  const t = performance.now();
  const res = await fetch(`${url}/api/images/${id}/ask`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query }) });
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t, status: res.status, bytes: body.byteLength };
}

export default async function (log) {
  const load0 = loadavg()[0];
  // --- 100 asks on one prepared image ---
  const a = await serve(["--segmenter", `masks:${join(S, "sam/masks", NAME)}`, "--describer", `recorded:${join(S, "dam/descriptions", NAME)}.json`, "--reasoner", `recorded:${join(S, "answers/json", NAME)}.json`]);
  const idleRss = await rssMb(a.child.pid);
  const bytes = await readFile(join(shared, "gear-seg-samples/dataset/ReasonSeg_val/images", `${NAME}.jpg`));
  const { id } = await (await fetch(`${a.url}/api/images`, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: bytes })).json();
  await waitReady(a.url, id);
  const query = "something that the persons use to cross the water";
  await timedAsk(a.url, id, query); // warm-up
  const seq = [];
  let t = performance.now();
  for (let i = 0; i < 100; i++) seq.push(await timedAsk(a.url, id, query));
  const seqWall = performance.now() - t;
  t = performance.now();
  const par = await Promise.all(Array.from({ length: 100 }, () => timedAsk(a.url, id, query)));
  const parWall = performance.now() - t;
  const peakA = await peakRssMb(a.child.pid);
  a.child.kill("SIGTERM");
  await new Promise((r) => a.child.once("exit", r));
  const row = (name, runs, wall) => {
    const sorted = runs.map((r) => r.ms).sort((x, y) => x - y);
    const ok = runs.filter((r) => r.status === 200).length;
    return `| ${name} | ${ok}/${runs.length} | ${ms(wall)} | ${(runs.length / (wall / 1000)).toFixed(0)}/s | ${ms(pct(sorted, 50))} | ${ms(pct(sorted, 90))} | ${ms(pct(sorted, 99))} | ${ms(sorted.at(-1))} |`;
  };

  // --- 20 concurrent uploads, at most 4 waiting ---
  const b = await serve(["--queue", "4"]);
  const photos = ["cars.jpg", "groceries.jpg", "truck.jpg"].map((f) => join(shared, "photos", f));
  const uploads = [];
  for (let i = 0; i < 20; i++) {
    const img = sharp(photos[i % 3]);
    const meta = await img.metadata();
    const left = (i * 37) % Math.max(1, meta.width - 640);
    const top = (i * 23) % Math.max(1, meta.height - 480);
    uploads.push(await sharp(photos[i % 3]).extract({ left, top, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer());
  }
  t = performance.now();
  const answers = await Promise.all(
    uploads.map(async (body) => {
      const s = performance.now();
      const res = await fetch(`${b.url}/api/images`, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body });
      const json = await res.json();
      return { status: res.status, retryAfter: res.headers.get("retry-after"), id: json.id, ms: performance.now() - s };
    }),
  );
  const accepted = answers.filter((x) => x.status === 201);
  const refused = answers.filter((x) => x.status === 429);
  const states = await Promise.all(accepted.map((x) => waitReady(b.url, x.id)));
  const prepWall = performance.now() - t;
  const peakB = await peakRssMb(b.child.pid);
  b.child.kill("SIGTERM");
  await new Promise((r) => b.child.once("exit", r));
  const uploadMs = answers.map((x) => x.ms).sort((x, y) => x - y);

  log("## HTTP server (`gear-seg serve`)");
  log("");
  log(`100 asks on one prepared image (recorded sample ${NAME}: 103 regions; each answer is the full result.json, ${(par[0].bytes / 1024).toFixed(0)} kB), server in its own process with the default queues (4 asks at a time, 256 waiting). Baseline: the same 100 asks one after another.`);
  log("");
  log("| asks | answered 200 | wall | throughput | p50 | p90 | p99 | max |");
  log("|---|---:|---:|---:|---:|---:|---:|---:|");
  log(row("one after another (baseline)", seq, seqWall));
  log(row("100 at once", par, parWall));
  log("");
  log(`Server RSS: ${idleRss.toFixed(0)} MB idle after start, peak ${peakA.toFixed(0)} MB over the whole run.`);
  log("");
  log(`20 concurrent uploads of distinct 640×480 photos to \`serve --queue 4\` (offline default: classic + attributes + wordnet; one preparation at a time): ${accepted.length} accepted (201), ${refused.length} refused with 429 (Retry-After ${[...new Set(refused.map((x) => x.retryAfter))].join(", ")} s), ${answers.length - accepted.length - refused.length} other; upload replies p50 ${ms(pct(uploadMs, 50))}, max ${ms(uploadMs.at(-1))}; the accepted images all ${[...new Set(states)].join("/")} after ${(prepWall / 1000).toFixed(1)} s; server peak RSS ${peakB.toFixed(0)} MB.`);
  log("");
  log(`Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.`);
}
