// The data engine at GEAR-131K size: a synthetic reasoning dataset of 150,000 items (75,000 images × 2 items,
// 640×480 masks of varied shapes), then `engine stats` (a full pass, then from the saved totals) and every export
// through the built CLI, each in its own process with its peak RSS. The same-run baseline is the same commands on
// a tenth of the data: time per item should stay flat (time proportional to the items) and the peak RSS far under
// 1 GB at both sizes. Then the summary step of a generate run that adds 5 images, before (a full pass over the
// records, what every run did) and after (the records counted as they are written, the files written from the
// saved totals), at both sizes.
// GEAR_SEG_BENCH_ITEMS sets the large size (default 150000). The exports that trace polygons (YOLO, LISA,
// LabelMe, COCO polygons) run on GEAR_SEG_BENCH_POLYGON_ITEMS (default: the large size) and a tenth of it.
// GEAR_SEG_BENCH_SUMMARY_REPS: alternating before/after runs of the summary step (default 3).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeJpeg } from "../dist/image/index.js";
import { area, encode, toBbox, toCocoRle } from "../dist/masks/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "../dist/cli/main.js");
const PRELOAD = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nMAXRSS_KB "+process.resourceUsage().maxRSS+"\\n"))';

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** A few blobs with holes and thin parts: contours of realistic complexity. */
function shapes(count, w, h, seed) {
  const r = rng(seed);
  const out = [];
  for (let k = 0; k < count; k++) {
    const data = new Uint8Array(w * h);
    const blobs = 1 + Math.floor(r() * 3);
    for (let b = 0; b < blobs; b++) {
      const cx = r() * w, cy = r() * h, rx = 20 + r() * 120, ry = 20 + r() * 100, wobble = r() * 0.3;
      for (let y = Math.max(0, Math.floor(cy - ry * 1.3)); y < Math.min(h, Math.ceil(cy + ry * 1.3)); y++) {
        for (let x = Math.max(0, Math.floor(cx - rx * 1.3)); x < Math.min(w, Math.ceil(cx + rx * 1.3)); x++) {
          const a = Math.atan2(y - cy, x - cx);
          const rr = 1 + wobble * Math.sin(5 * a);
          const dx = (x - cx) / (rx * rr), dy = (y - cy) / (ry * rr);
          const d = dx * dx + dy * dy;
          if (d <= 1 && !(d < 0.1 && b === 0)) data[y * w + x] = 1; // first blob has a hole
        }
      }
    }
    out.push(encode({ width: w, height: h, data }));
  }
  return out;
}

const TYPES = ["commonsense", "functional", "manipulation", "part", "attribute"];

const W = 640, H = 480;
const FILTERS = { proposed: 3, dropped: { malformed: 0, unknown_ids: 0, low_confidence: 1, tiny_target: 0, duplicate: 0, same_target: 0, over_limit: 0 }, duplicate_questions: 1 };

/** Image k's record, as the engine writes it: two items of five questions each. */
function makeRecord(k, masks) {
  const id = `img${String(k).padStart(6, "0")}-${(k * 2654435761 >>> 0).toString(16).padStart(8, "0")}00`;
  const rel = `${id}.jpg`;
  const split = k % 20 === 0 ? "val" : k % 20 === 1 ? "test" : "train";
  const items = [0, 1].map((j) => {
    const m = masks[(k * 2 + j) % masks.length];
    return {
      id: `${id}#${j}`, image_id: id, image: rel, width: W, height: H, split, reasoning_type: TYPES[(k + j) % 5],
      questions: [1, 2, 3, 4, 5].map((q) => `Which object in picture ${k} would you use for task ${j}-${q}?`),
      explanation: "It is the object the task needs. The description says so.", answer_labels: [`thing ${(k * 7 + j) % 997}`],
      region_ids: [j], confidence: 8, mask: toCocoRle(m), area: area(m), bbox: toBbox(m),
      generation: { segmenter: "sam2:bench", describer: "dam:bench", llm: "openai:bench@http://bench", model: "bench", prompt_version: "gear-engine-v1" },
    };
  });
  return { kind: "reasoning", image_id: id, image: rel, root: 0, image_sha256: "0".repeat(64), width: W, height: H, split, regions: 40, model: "bench", usage: { promptTokens: 9000, completionTokens: 700, totalTokens: 9700 }, items, filters: FILTERS, notes: [], finished: "" };
}

async function buildDataset(dir, images, masks, jpeg) {
  mkdirSync(join(dir, "records"), { recursive: true });
  const imagesDir = join(dir, "images");
  mkdirSync(imagesDir, { recursive: true });
  const manifest = {
    format: "gear-seg-dataset", version: 2, kind: "reasoning", images_roots: [imagesDir], created: "", updated: "",
    generation: { segmenter: "sam2:bench", describer: "dam:bench", llm: "openai:bench@http://bench", models: [], prompt_version: "gear-engine-v1" },
    splits: { seed: "0", fractions: { train: 0.9, val: 0.05, test: 0.05 }, key: "content" }, files: {}, counts: { images: images, failed: 0, pending: 0, items: 0 },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  let next = 0;
  const worker = async () => {
    while (next < images) {
      const k = next++;
      const record = makeRecord(k, masks);
      symlinkSync(jpeg, join(imagesDir, record.image));
      await writeFile(join(dir, "records", `${record.image_id}.json`), JSON.stringify(record));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

function run(args) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    execFile(process.execPath, ["--import", PRELOAD, cli, ...args, "--quiet"], { maxBuffer: 256 << 20, env: { ...process.env } }, (err, stdout, stderr) => {
      const seconds = (performance.now() - t0) / 1000;
      const m = /MAXRSS_KB (\d+)/.exec(stderr);
      resolve({ ok: !err, seconds, rssMb: m ? Number(m[1]) / 1024 : NaN, error: err ? stderr.split("\n").filter(Boolean)[0] : undefined });
    });
  });
}

// The summary step of a run, in its own process: `rebuild` is what every generate run did before the summary
// was kept up to date (one full pass over the records); `update` is a run that adds the given records: each
// written and counted (put), then the summary files brought up to date from the saved totals (commit).
const SUMMARY_STEP = `
const [dir, mode, recordsFile, beforeDist] = process.argv.slice(1);
const { readFile } = await import("node:fs/promises");
const { join } = await import("node:path");
const { pathToFileURL } = await import("node:url");
const dist = mode === "rebuild" && beforeDist ? beforeDist : ${JSON.stringify(join(here, "../dist"))};
const { summarizeDataset, SummaryUpdater } = await import(pathToFileURL(join(dist, "engine/summary.js")).href);
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const since = (c) => { const u = process.cpuUsage(c.cpu); return { s: (performance.now() - c.wall) / 1000, cpu: (u.user + u.system) / 1e6 }; };
const out = {};
if (mode === "rebuild" || mode === "prime") {
  const c = clock();
  await summarizeDataset(dir, { rebuild: true });
  out.summary = since(c);
} else {
  const records = JSON.parse(await readFile(recordsFile, "utf8"));
  const c = clock();
  const u = await SummaryUpdater.open(dir);
  if (u.fullPassReason) throw new Error("the saved totals are not current: " + u.fullPassReason);
  for (const r of records) await u.put(r);
  out.put = since(c);
  const c2 = clock();
  await u.commit();
  out.summary = since(c2);
}
out.rssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify(out));
`;

function summaryStep(dir, mode, recordsFile) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", SUMMARY_STEP, dir, mode, recordsFile ?? "", process.env.GEAR_SEG_BENCH_BEFORE_DIST ?? ""], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`summary step (${mode}) failed: ${stderr.split("\n").filter(Boolean).slice(-1)[0]}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()));
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Before/after of the summary step of a generate run that adds `added` images to a dataset of `items` items:
 * `reps` alternating runs (rebuild, update, rebuild, ...); each update adds new images, so the dataset grows by
 * `added` images per repetition. */
async function summaryBeforeAfter(dir, items, masks, added, reps, log) {
  const images = items / 2;
  const rebuild = [];
  const update = [];
  const loads = [];
  for (let rep = 0; rep < reps; rep++) {
    loads.push(loadavg()[0]);
    rebuild.push(await summaryStep(dir, "rebuild"));
    // An earlier build saves no totals: this build's full pass does (not timed).
    if (process.env.GEAR_SEG_BENCH_BEFORE_DIST) await summaryStep(dir, "prime");
    const recordsFile = join(dir, "..", `new-records-${items}-${rep}.json`);
    const fresh = Array.from({ length: added }, (_, j) => makeRecord(images + rep * added + j, masks));
    writeFileSync(recordsFile, JSON.stringify(fresh));
    update.push(await summaryStep(dir, "update", recordsFile));
    rmSync(recordsFile);
    log(`<!-- summary step @ ${items}: rebuild ${rebuild.at(-1).summary.s.toFixed(2)} s (cpu ${rebuild.at(-1).summary.cpu.toFixed(2)} s), update: put ${update.at(-1).put.s.toFixed(3)} s + commit ${update.at(-1).summary.s.toFixed(3)} s (cpu ${update.at(-1).summary.cpu.toFixed(3)} s), load ${loads.at(-1).toFixed(1)} -->`);
  }
  return {
    items,
    added,
    reps,
    load: median(loads),
    rebuild: { s: median(rebuild.map((r) => r.summary.s)), cpu: median(rebuild.map((r) => r.summary.cpu)), rssMb: Math.max(...rebuild.map((r) => r.rssMb)) },
    put: { s: median(update.map((r) => r.put.s)), cpu: median(update.map((r) => r.put.cpu)) },
    update: { s: median(update.map((r) => r.summary.s)), cpu: median(update.map((r) => r.summary.cpu)), rssMb: Math.max(...update.map((r) => r.rssMb)) },
  };
}

export default async function bench(log) {
  const large = Number(process.env.GEAR_SEG_BENCH_ITEMS ?? 150000);
  const polygonLarge = Number(process.env.GEAR_SEG_BENCH_POLYGON_ITEMS ?? large);
  const fastSizes = [Math.round(large / 10), large];
  const polygonSizes = [Math.round(polygonLarge / 10), polygonLarge];
  const summaryReps = Number(process.env.GEAR_SEG_BENCH_SUMMARY_REPS ?? 3);
  const summaryRuns = [];
  // Only the summary step (the commands' table is left out).
  const summaryOnly = process.env.GEAR_SEG_BENCH_SUMMARY_ONLY === "1";
  const root = mkdtempSync(join(tmpdir(), "gear-seg-scale-bench-"));
  const jpeg = join(root, "tiny.jpg");
  const px = new Uint8Array(64 * 48 * 3).fill(128);
  writeFileSync(jpeg, await encodeJpeg({ width: 64, height: 48, data: px }, 80));
  const masks = shapes(64, 640, 480, 7);
  const commands = [
    ["engine stats --rebuild", (d) => ["engine", "stats", d, "--rebuild"], fastSizes],
    ["engine stats (saved totals)", (d) => ["engine", "stats", d], fastSizes],
    ["export coco (RLE)", (d, o) => ["export", d, "--format", "coco", "--out", o], fastSizes],
    ["export gear-seg", (d, o) => ["export", d, "--format", "gear-seg", "--out", o], fastSizes],
    ["export coco --polygons", (d, o) => ["export", d, "--format", "coco", "--polygons", "--out", o], polygonSizes],
    ["export yolo", (d, o) => ["export", d, "--format", "yolo", "--out", o], polygonSizes],
    ["export reasonseg", (d, o) => ["export", d, "--format", "reasonseg", "--out", o], polygonSizes],
    ["export labelme", (d, o) => ["export", d, "--format", "labelme", "--out", o], polygonSizes],
  ];
  const results = {};
  const allSizes = [...new Set([...fastSizes, ...(summaryOnly ? [] : polygonSizes)])].sort((a, b) => a - b);
  for (const items of allSizes) {
    const dir = join(root, `ds-${items}`);
    const t0 = performance.now();
    await buildDataset(dir, items / 2, masks, jpeg);
    log(`<!-- built ${items} items in ${((performance.now() - t0) / 1000).toFixed(0)} s -->`);
    for (const [name, args, at] of commands) {
      if (!at.includes(items) || summaryOnly) continue;
      const out = join(root, `out-${items}-${name.replace(/\W+/g, "-")}`);
      const load = loadavg()[0].toFixed(1);
      const r = await run(args(dir, out));
      (results[name] ??= {})[items] = { ...r, load };
      rmSync(out, { recursive: true, force: true });
      log(`<!-- ${name} @ ${items}: ${r.ok ? "" : "FAILED " + r.error + " "}${r.seconds.toFixed(1)} s, ${r.rssMb.toFixed(0)} MB, load ${load} -->`);
    }
    if (fastSizes.includes(items)) summaryRuns.push(await summaryBeforeAfter(dir, items, masks, 5, summaryReps, log));
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
  log(`\n## The data engine at GEAR-131K size (bench/dataset-scale.bench.js)\n`);
  log(`Synthetic reasoning datasets of N items (N/2 images × 2 items; 640×480 masks with holes, five questions each); every command is the built CLI in its own process; peak RSS from the process's own rusage. Baseline: the same command on a smaller N in the same run (time per item should stay flat). ${availableParallelism()} cores; 1-minute load average when each command started.\n`);
  log(`| command | small N | s | µs / item | peak RSS MB | large N | s | µs / item | peak RSS MB | load |`);
  log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const [name, , [small, big]] of summaryOnly ? [] : commands) {
    if (!results[name]?.[small] || !results[name]?.[big]) continue;
    const a = results[name][small], b = results[name][big];
    const per = (r, n) => ((r.seconds * 1e6) / n).toFixed(0);
    log(`| ${name}${a.ok && b.ok ? "" : " (FAILED)"} | ${small} | ${a.seconds.toFixed(1)} | ${per(a, small)} | ${a.rssMb.toFixed(0)} | ${big} | ${b.seconds.toFixed(1)} | ${per(b, big)} | ${b.rssMb.toFixed(0)} | ${a.load} / ${b.load} |`);
  }
  log(`\n### The summary step of a generate run that adds 5 images\n`);
  log(`Each its own process (dist/engine/summary.js); medians of ${summaryReps} alternating runs (before, after, before, ...), each after-run adding 5 new images (10 items). Before: what every run did until now, one full pass over the records (items.jsonl, stats.json, DATASET.md, chart, manifest)${process.env.GEAR_SEG_BENCH_BEFORE_DIST ? `, by the build in ${process.env.GEAR_SEG_BENCH_BEFORE_DIST}` : " (this build's full pass, summarizeDataset with rebuild)"}. After: the records counted as they are written (put: 5 record writes) and the summary files written from the saved totals (commit).\n`);
  log(`| dataset items | before: full pass s | CPU s | peak RSS MB | after: put ×5 s | commit s | CPU s | peak RSS MB | speed-up (commit) | load |`);
  log(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of summaryRuns) {
    log(`| ${r.items} | ${r.rebuild.s.toFixed(2)} | ${r.rebuild.cpu.toFixed(2)} | ${r.rebuild.rssMb.toFixed(0)} | ${r.put.s.toFixed(3)} | ${r.update.s.toFixed(3)} | ${r.update.cpu.toFixed(3)} | ${r.update.rssMb.toFixed(0)} | ${(r.rebuild.s / r.update.s).toFixed(0)}× | ${r.load.toFixed(1)} |`);
  }
}
