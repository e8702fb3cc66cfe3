// SAM 2 automatic mask generator: time inside the ONNX sessions vs post-processing, on the three photos with
// the default 32×32 grid and the tiny test model (test/helpers/onnx-models.ts), against a baseline measured
// in the same run: the straightforward port that upsamples every mask to full resolution before filtering,
// as the reference does (test/oracles/sam2-reference.ts, the tests' oracle). Both post-processors see the same decoder
// outputs, batch by batch, and their candidates are compared for equality.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { loadImage } from "../dist/image/decode.js";
import { generateMasks, emptyTimings } from "../dist/segmenters/sam2/generator.js";
import { OnnxSam2Model } from "../dist/segmenters/sam2/onnx-model.js";
import { resolveAmgParams } from "../dist/segmenters/sam2/params.js";
import { BatchPostprocessor } from "../dist/segmenters/sam2/postprocess.js";
import { ParallelBatchPostprocessor } from "../dist/segmenters/sam2/pool.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const photos = join(root, "../shared/data/photos");

/** The test-model generator is TypeScript: transpile it into a temporary module. */
async function loadModelBuilder(dir) {
  const src = await readFile(join(root, "test/helpers/onnx-models.ts"), "utf8");
  const onnxProto = pathToFileURL(createRequire(join(root, "package.json")).resolve("onnx-proto")).href;
  const js = ts
    .transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    .outputText.replace(/from "onnx-proto"/, `from ${JSON.stringify(onnxProto)}`);
  const file = join(dir, "onnx-models.mjs");
  await writeFile(file, js);
  return import(pathToFileURL(file).href);
}

/** The reference port is a test oracle (TypeScript, importing src/): transpile it against dist/. */
async function loadReferencePostprocessor(dir) {
  const src = await readFile(join(root, "test/oracles/sam2-reference.ts"), "utf8");
  const js = ts
    .transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    .outputText.replace(/from "\.\.\/\.\.\/src\/([^"]+)"/g, (_, p) => `from ${JSON.stringify(pathToFileURL(join(root, "dist", p)).href)}`);
  const file = join(dir, "sam2-reference.mjs");
  await writeFile(file, js);
  return (await import(pathToFileURL(file).href)).ReferenceBatchPostprocessor;
}

const sameCandidates = (a, b) =>
  a.length === b.length &&
  a.every((c, i) => {
    const d = b[i];
    return c.area === d.area && c.iou === d.iou && c.stability === d.stability && c.box.join() === d.box.join() && c.rle.counts.join() === d.rle.counts.join();
  });

/**
 * Per batch: the baseline (first `baselineBatches` batches only), the fast kernel on one thread, and the fast
 * kernel on the worker pool (whose candidates the generator keeps). Each is timed on its own.
 */
class Comparing {
  constructor(baselineBatches, pool, ReferenceBatchPostprocessor) {
    this.single = new BatchPostprocessor();
    this.ref = new ReferenceBatchPostprocessor();
    this.pool = pool;
    this.baselineBatches = baselineBatches;
    this.batches = 0;
    this.poolMs = 0;
    this.singleMs = 0;
    this.refMs = 0;
    this.compared = 0;
    this.equal = true;
  }
  async process(batch, points, frame, params) {
    const i = this.batches++;
    let ref = null;
    if (i < this.baselineBatches) {
      const t = performance.now();
      ref = this.ref.process(batch, points, frame, params); // works on a copy of the logits
      this.refMs += performance.now() - t;
    }
    const copy = { ...batch, lowRes: batch.lowRes.slice() };
    let t = performance.now();
    const single = this.single.process(copy, points, frame, params);
    this.singleMs += performance.now() - t;
    t = performance.now();
    const out = await this.pool.process(batch, points, frame, params);
    this.poolMs += performance.now() - t;
    if (!sameCandidates(out, single)) this.equal = false;
    if (ref) {
      this.compared++;
      if (!sameCandidates(out, ref)) this.equal = false;
    }
    return out;
  }
}

const fmt = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

export default async function (log) {
  const dir = await mkdtemp(join(tmpdir(), "gear-seg-bench-sam2-"));
  try {
    const { writeTinySam2 } = await loadModelBuilder(dir);
    const ReferenceBatchPostprocessor = await loadReferencePostprocessor(dir);
    const files = await writeTinySam2(join(dir, "model"), { layout: "samexporter" });
    const model = await OnnxSam2Model.load(files.encoder, files.decoder);
    const params = resolveAmgParams("sam2-default");
    const pool = new ParallelBatchPostprocessor();
    const threads = pool.threads;
    const rows = [];
    for (const name of ["groceries.jpg", "truck.jpg", "cars.jpg"]) {
      const image = await loadImage(join(photos, name));
      const nBatches = Math.ceil((params.pointsPerSide * params.pointsPerSide) / params.pointsPerBatch);
      // Full baseline on the smallest photo; on the larger ones a quarter of the batches, scaled up (the
      // baseline's cost per batch is the same for every batch: it upsamples all 192 masks).
      const baselineBatches = image.width * image.height <= 1_000_000 ? nBatches : Math.ceil(nBatches / 4);
      // Timed runs, each on its own so that no other work (the baseline's full-size maps, copies for the
      // comparison) disturbs it: the pool and the single-threaded kernel with ONNX and post-processing
      // sequential (their times separate), then the pool as the segmenter runs it, post-processing each
      // batch while ONNX Runtime decodes the next (wall clock).
      const poolT = emptyTimings();
      const taken0 = { ...pool.taken };
      const regions = await generateMasks(model, image, params, { postprocess: pool, timings: poolT, overlap: false });
      const share = { main: pool.taken.main - taken0.main, workers: pool.taken.workers - taken0.workers };
      const singleT = emptyTimings();
      await generateMasks(model, image, params, { postprocess: new BatchPostprocessor(), timings: singleT, overlap: false });
      const overlapT = emptyTimings();
      await generateMasks(model, image, params, { postprocess: pool, timings: overlapT });
      // The comparison run: baseline, single thread and pool on the same decoder outputs, batch by batch.
      const proc = new Comparing(baselineBatches, pool, ReferenceBatchPostprocessor);
      const timings = emptyTimings();
      const compared = await generateMasks(model, image, params, { postprocess: proc, timings, overlap: false });
      const nonBatchPost = timings.postMs - proc.poolMs - proc.singleMs - proc.refMs; // NMS, uncrop, records
      const baselinePost = (proc.refMs * nBatches) / proc.compared + nonBatchPost;
      const sameRegions = compared.length === regions.length && compared.every((r, i) => r.area === regions[i].area && r.rle.counts.join() === regions[i].rle.counts.join());
      rows.push({
        name,
        size: `${image.width}×${image.height}`,
        encoder: poolT.encoderMs,
        decoder: poolT.decoderMs,
        fastPost: poolT.postMs,
        singlePost: singleT.postMs,
        overlapWall: overlapT.totalMs,
        baselinePost,
        measured: proc.compared === nBatches ? "all" : `${proc.compared}/${nBatches} batches, scaled`,
        regions: regions.length,
        candidates: timings.candidates,
        equal: proc.equal && sameRegions,
        share,
      });
    }
    await model.close();
    await pool.close();
    log("## SAM 2 automatic mask generator (sam2)");
    log("");
    log(
      `Default parameters (32×32 grid = 1024 prompts × 3 masks, batches of 64), the tiny test model of test/helpers/onnx-models.ts ` +
        `(samexporter layout) on onnxruntime-node 1.30 CPU, ${cpus().length} cores, Node ${process.versions.node}. ` +
        `"ONNX" is time inside the sessions (encoder includes SAM 2's preprocessing); post-processing is everything else. ` +
        `Post-processing columns: whole generator runs of their own with ONNX and post-processing sequential (the pool; the kernel on the main thread only). ` +
        `The wall column: the generator as the segmenter runs it, each batch post-processed on the pool while ONNX Runtime decodes the next. ` +
        `Baseline: the straightforward port (upsample all 3072 masks to full size, then filter), run on the same decoder outputs in a separate comparison run; ` +
        `"same result" compares the candidates (RLE, box, area, scores) of the pool, the single-threaded kernel and the baseline, batch by batch, and the regions of the timed run with those of the comparison run.`,
    );
    log("");
    log(`| photo | size | ONNX encoder | ONNX decoder | post-processing (${threads} threads) | post-processing (1 thread) | wall, ONNX and post-processing overlapped (${threads} threads) | baseline post-processing | speed-up | baseline measured on | regions (candidates) | same result |`);
    log("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      log(
        `| ${r.name} | ${r.size} | ${fmt(r.encoder)} | ${fmt(r.decoder)} | **${fmt(r.fastPost)}** | ${fmt(r.singlePost)} | ${fmt(r.overlapWall)} | ${fmt(r.baselinePost)} | ${(r.baselinePost / r.fastPost).toFixed(1)}× | ${r.measured} | ${r.regions} (${r.candidates}) | ${r.equal ? "yes" : "**NO**"} |`,
      );
    }
    log("");
    log(
      `IoU-passing masks post-processed by the main thread / the workers in the pool runs: ${rows.map((r) => `${r.name} ${r.share.main} / ${r.share.workers}`).join(", ")}. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}.`,
    );
    log("");
    log(
      "Goal (issue 7): post-processing ≤ 2.5 s for 800×534 and ≤ 4 s for 1800×1200 on 2 cores. The fused kernel filters by predicted IoU first; " +
        "codes every low-resolution logit against the thresholds in one branch-free pass (integer keys of the float32 bits, with a rounding margin), which gives the box of values above the lowest threshold and, per cell column, runs of cells below all, above all or mixed; " +
        "upscales only the mixed cells, and there only output columns whose two vertical taps straddle a threshold pixel by pixel; counts stability, binarises, boxes and run-length encodes in the same pass; " +
        "and shares each batch's IoU-passing masks between the main thread and a worker pool (one thread per core) as the work goes: the main thread takes them from the front in place, the workers from the back, from copies written a few masks ahead of them into a reused SharedArrayBuffer (issue 15). " +
        "A mask stops as soon as its stability score can no longer reach the threshold (issue 15).",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
