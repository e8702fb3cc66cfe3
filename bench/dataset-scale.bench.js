// The data engine at GEAR-131K size: a synthetic reasoning dataset of 150,000 items (75,000 images × 2 items,
// 640×480 masks of varied shapes), then `engine stats` and every export through the built CLI, each in its own
// process with its peak RSS. The same-run baseline is the same commands on a tenth of the data: time per item
// should stay flat (time proportional to the items) and the peak RSS far under 1 GB at both sizes.
// GEAR_SEG_BENCH_ITEMS sets the large size (default 150000). The exports that trace polygons (YOLO, LISA,
// LabelMe, COCO polygons) cost milliseconds per item in contour tracing (src/masks): they run on
// GEAR_SEG_BENCH_POLYGON_ITEMS (default 5000) and a fifth of it, unless that is set to the large size.
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

async function buildDataset(dir, images, masks, jpeg) {
  mkdirSync(join(dir, "records"), { recursive: true });
  const imagesDir = join(dir, "images");
  mkdirSync(imagesDir, { recursive: true });
  const W = 640, H = 480;
  const manifest = {
    format: "gear-seg-dataset", version: 2, kind: "reasoning", images_roots: [imagesDir], created: "", updated: "",
    generation: { segmenter: "sam2:bench", describer: "dam:bench", llm: "openai:bench@http://bench", models: [], prompt_version: "gear-engine-v1" },
    splits: { seed: "0", fractions: { train: 0.9, val: 0.05, test: 0.05 }, key: "content" }, files: {}, counts: { images: images, failed: 0, pending: 0, items: 0 },
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  const filters = { proposed: 3, dropped: { malformed: 0, unknown_ids: 0, low_confidence: 1, tiny_target: 0, duplicate: 0, same_target: 0, over_limit: 0 }, duplicate_questions: 1 };
  let next = 0;
  const worker = async () => {
    while (next < images) {
      const k = next++;
      const id = `img${String(k).padStart(6, "0")}-${(k * 2654435761 >>> 0).toString(16).padStart(8, "0")}00`;
      const rel = `${id}.jpg`;
      symlinkSync(jpeg, join(imagesDir, rel));
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
      const record = { kind: "reasoning", image_id: id, image: rel, root: 0, image_sha256: "0".repeat(64), width: W, height: H, split, regions: 40, model: "bench", usage: { promptTokens: 9000, completionTokens: 700, totalTokens: 9700 }, items, filters, notes: [], finished: "" };
      await writeFile(join(dir, "records", `${id}.json`), JSON.stringify(record));
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

export default async function bench(log) {
  const large = Number(process.env.GEAR_SEG_BENCH_ITEMS ?? 150000);
  const polygonLarge = Number(process.env.GEAR_SEG_BENCH_POLYGON_ITEMS ?? 5000);
  const fastSizes = [Math.round(large / 10), large];
  const polygonSizes = [Math.round(polygonLarge / 5), polygonLarge];
  const root = mkdtempSync(join(tmpdir(), "gear-seg-scale-bench-"));
  const jpeg = join(root, "tiny.jpg");
  const px = new Uint8Array(64 * 48 * 3).fill(128);
  writeFileSync(jpeg, await encodeJpeg({ width: 64, height: 48, data: px }, 80));
  const masks = shapes(64, 640, 480, 7);
  const commands = [
    ["engine stats", (d) => ["engine", "stats", d], fastSizes],
    ["export coco (RLE)", (d, o) => ["export", d, "--format", "coco", "--out", o], fastSizes],
    ["export gear-seg", (d, o) => ["export", d, "--format", "gear-seg", "--out", o], fastSizes],
    ["export coco --polygons", (d, o) => ["export", d, "--format", "coco", "--polygons", "--out", o], polygonSizes],
    ["export yolo", (d, o) => ["export", d, "--format", "yolo", "--out", o], polygonSizes],
    ["export reasonseg", (d, o) => ["export", d, "--format", "reasonseg", "--out", o], polygonSizes],
    ["export labelme", (d, o) => ["export", d, "--format", "labelme", "--out", o], polygonSizes],
  ];
  const results = {};
  const allSizes = [...new Set([...fastSizes, ...polygonSizes])].sort((a, b) => a - b);
  for (const items of allSizes) {
    const dir = join(root, `ds-${items}`);
    const t0 = performance.now();
    await buildDataset(dir, items / 2, masks, jpeg);
    log(`<!-- built ${items} items in ${((performance.now() - t0) / 1000).toFixed(0)} s -->`);
    for (const [name, args, at] of commands) {
      if (!at.includes(items)) continue;
      const out = join(root, `out-${items}-${name.replace(/\W+/g, "-")}`);
      const load = loadavg()[0].toFixed(1);
      const r = await run(args(dir, out));
      (results[name] ??= {})[items] = { ...r, load };
      rmSync(out, { recursive: true, force: true });
      log(`<!-- ${name} @ ${items}: ${r.ok ? "" : "FAILED " + r.error + " "}${r.seconds.toFixed(1)} s, ${r.rssMb.toFixed(0)} MB, load ${load} -->`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
  log(`\n## The data engine at GEAR-131K size (bench/dataset-scale.bench.js)\n`);
  log(`Synthetic reasoning datasets of N items (N/2 images × 2 items; 640×480 masks with holes, five questions each); every command is the built CLI in its own process; peak RSS from the process's own rusage. Baseline: the same command on a smaller N in the same run (time per item should stay flat). ${availableParallelism()} cores; 1-minute load average when each command started.\n`);
  log(`| command | small N | s | µs / item | peak RSS MB | large N | s | µs / item | peak RSS MB | load |`);
  log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const [name, , [small, big]] of commands) {
    const a = results[name][small], b = results[name][big];
    const per = (r, n) => ((r.seconds * 1e6) / n).toFixed(0);
    log(`| ${name}${a.ok && b.ok ? "" : " (FAILED)"} | ${small} | ${a.seconds.toFixed(1)} | ${per(a, small)} | ${a.rssMb.toFixed(0)} | ${big} | ${b.seconds.toFixed(1)} | ${per(b, big)} | ${b.rssMb.toFixed(0)} | ${a.load} / ${b.load} |`);
  }
}
