// COCO mask evaluation on a generated 500-image case: gear-seg's COCOeval port (src/eval/cocoeval.ts) against
// the previous straightforward port, kept below verbatim as the baseline (per-(category, area, image) objects,
// per-(category, area, maxDet) concatenation and sort in accumulate). Both run in this process on the same
// parsed files, stage by stage (load / evaluate / accumulate / summarize), and must give identical precision and
// recall arrays. For scale: pycocotools takes seconds on cases of this size.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { annotationRle, loadCocoGroundTruth, loadCocoResults, parseCocoGroundTruth, parseCocoResults } from "../dist/datasets/coco.js";
import { cocoAccumulate, cocoEvaluate, cocoSummarize, resolveCocoParams } from "../dist/eval/cocoeval.js";
import { availableParallelism, loadavg } from "node:os";
import { bboxIou, encode, iou as rleIou, toCocoRle } from "../dist/masks/index.js";
import { describeReference, pythonEnv, pythonExecutable, refScript, startPycocotools } from "./pycocotools.js";

const cliPath = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function ellipse(w, h, cx, cy, rx, ry) {
  const data = new Uint8Array(w * h);
  for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(h, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(w, Math.ceil(cx + rx)); x++) {
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      if (dx * dx + dy * dy <= 1) data[y * w + x] = 1;
    }
  }
  return { width: w, height: h, data };
}

export function generate(nImages, W, H, seed = 42) {
  const r = rng(seed);
  const images = [];
  const annotations = [];
  const results = [];
  let id = 1;
  for (let i = 1; i <= nImages; i++) {
    images.push({ id: i, width: W, height: H });
    for (let c = 1; c <= 2; c++) {
      for (let k = 0; k < 3; k++) {
        const cx = r() * W, cy = r() * H, rx = 6 + r() * 50, ry = 6 + r() * 40;
        const m = ellipse(W, H, cx, cy, rx, ry);
        const crowd = r() < 0.05 ? 1 : 0;
        const area = m.data.reduce((a, b) => a + b, 0);
        if (area === 0) continue;
        annotations.push({ id: id++, image_id: i, category_id: c, iscrowd: crowd, area, bbox: [0, 0, 1, 1], segmentation: toCocoRle(encode(m)) });
        // two detections per object: a near copy and a worse one, plus a false positive per category
        for (const jitter of [2, 12]) {
          const d = ellipse(W, H, cx + (r() - 0.5) * jitter, cy + (r() - 0.5) * jitter, rx * (1 + (r() - 0.5) * jitter / 40), ry);
          results.push({ image_id: i, category_id: c, score: Math.round(r() * 1000) / 1000, segmentation: toCocoRle(encode(d)) });
        }
      }
      const fp = ellipse(W, H, r() * W, r() * H, 10 + r() * 30, 10 + r() * 30);
      results.push({ image_id: i, category_id: c, score: Math.round(r() * 1000) / 1000, segmentation: toCocoRle(encode(fp)) });
    }
  }
  return { gt: { images, annotations, categories: [{ id: 1, name: "ripe" }, { id: 2, name: "unripe" }] }, dt: results };
}

// ---- baseline: the previous port (git 5523888, src/eval/cocoeval.ts), compiled, split into its three stages ----
function byScore(anns) {
    const idx = anns.map((_, i) => i);
    return idx.sort((a, b) => anns[b].score - anns[a].score);
}
function baselineEvaluate(gt, dt, p) {
    const catIds = p.useCats ? p.catIds : [-1];
    const T = p.iouThrs.length;
    const maxDetLast = p.maxDets[p.maxDets.length - 1];
    // _prepare(): group per (image, category), in getAnnIds order (images in imgIds order, file order inside).
    const catSet = new Set(p.catIds);
    const group = (index) => {
        const out = new Map();
        for (const imgId of p.imgIds) {
            const perCat = new Map();
            out.set(imgId, perCat);
            for (const a of index.byImage.get(imgId) ?? []) {
                if (p.useCats && !catSet.has(a.category_id))
                    continue;
                const key = p.useCats ? a.category_id : -1;
                let l = perCat.get(key);
                if (!l)
                    perCat.set(key, (l = []));
                l.push(a);
            }
        }
        return out;
    };
    const gts = group(gt);
    const dts = group(dt);
    const rleCache = new Map();
    const rleOf = (a, index) => {
        let r = rleCache.get(a);
        if (!r)
            rleCache.set(a, (r = annotationRle(a, index)));
        return r;
    };
    const evalImgs = [];
    const A = p.areaRng.length;
    const I = p.imgIds.length;
    for (const catId of catIds) {
        // computeIoU per image for this category, then evaluateImg for each area range.
        const perImage = [];
        for (const imgId of p.imgIds) {
            const g = gts.get(imgId).get(catId) ?? [];
            let d = dts.get(imgId).get(catId) ?? [];
            d = byScore(d).map((i) => d[i]);
            if (d.length > maxDetLast)
                d = d.slice(0, maxDetLast);
            let ious = [];
            if (g.length > 0 && d.length > 0) {
                const crowd = g.map((o) => o.iscrowd);
                ious =
                    p.iouType === "segm"
                        ? rleIou(d.map((o) => rleOf(o, dt)), g.map((o) => rleOf(o, gt)), crowd)
                        : bboxIou(d.map((o) => o.bbox), g.map((o) => o.bbox), crowd);
            }
            perImage.push({ g, d, ious });
        }
        for (let a = 0; a < A; a++) {
            const aRng = p.areaRng[a];
            for (let ii = 0; ii < I; ii++)
                evalImgs.push(evaluateImg(perImage[ii], aRng, maxDetLast, p.iouThrs));
        }
    }
    return { evalImgs, K: catIds.length, A, I, T };
}
function evaluateImg(img, aRng, maxDet, iouThrs) {
    const { g: gAll, d: dSorted, ious } = img;
    if (gAll.length === 0 && dSorted.length === 0)
        return null;
    const G = gAll.length;
    const ignoreAll = gAll.map((g) => (g.iscrowd || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
    // gt: not-ignored first, stable
    const gtind = gAll.map((_, i) => i).sort((x, y) => ignoreAll[x] - ignoreAll[y]);
    const gt = gtind.map((i) => gAll[i]);
    const gtIgnore = Uint8Array.from(gtind.map((i) => ignoreAll[i]));
    // dt were sorted and cut to maxDets[-1] already (computeIoU); evaluateImg re-sorts the same way.
    const D = Math.min(dSorted.length, maxDet);
    const T = iouThrs.length;
    const dtMatched = new Uint8Array(T * D);
    const dtIgnore = new Uint8Array(T * D);
    const gtMatched = new Uint8Array(T * G);
    const crowd = gt.map((o) => o.iscrowd);
    if (ious.length > 0) {
        for (let t = 0; t < T; t++) {
            const thr = Math.min(iouThrs[t], 1 - 1e-10);
            for (let di = 0; di < D; di++) {
                const row = ious[di];
                let best = thr;
                let m = -1;
                for (let gi = 0; gi < G; gi++) {
                    if (gtMatched[t * G + gi] && !crowd[gi])
                        continue;
                    if (m > -1 && gtIgnore[m] === 0 && gtIgnore[gi] === 1)
                        break;
                    const v = row[gtind[gi]];
                    if (v < best)
                        continue;
                    best = v;
                    m = gi;
                }
                if (m === -1)
                    continue;
                dtIgnore[t * D + di] = gtIgnore[m];
                dtMatched[t * D + di] = gt[m].id !== 0 ? 1 : 0;
                gtMatched[t * G + m] = 1; // the detection's id, always > 0 after loadRes
            }
        }
    }
    const dtScores = new Float64Array(D);
    for (let di = 0; di < D; di++) {
        const d = dSorted[di];
        dtScores[di] = d.score;
        const outside = d.area < aRng[0] || d.area > aRng[1];
        if (!outside)
            continue;
        for (let t = 0; t < T; t++)
            if (!dtMatched[t * D + di])
                dtIgnore[t * D + di] = 1;
    }
    return { D, G, dtScores, dtMatched, dtIgnore, gtIgnore };
}
const EPS_ = 2.220446049250313e-16; // np.spacing(1)
function accumulate(evalImgs, p, K, A, I, T) {
    const R = p.recThrs.length;
    const M = p.maxDets.length;
    const precision = new Float64Array(T * R * K * A * M).fill(-1);
    const recall = new Float64Array(T * K * A * M).fill(-1);
    const recThrs = p.recThrs;
    for (let k = 0; k < K; k++) {
        for (let a = 0; a < A; a++) {
            const E = [];
            for (let i = 0; i < I; i++) {
                const e = evalImgs[k * A * I + a * I + i];
                if (e)
                    E.push(e);
            }
            if (E.length === 0)
                continue;
            let npig = 0;
            for (const e of E)
                for (let g = 0; g < e.G; g++)
                    if (e.gtIgnore[g] === 0)
                        npig++;
            for (let m = 0; m < M; m++) {
                const maxDet = p.maxDets[m];
                if (npig === 0)
                    continue;
                // concatenate the first maxDet detections of each image, then a stable sort by score
                let N = 0;
                for (const e of E)
                    N += Math.min(e.D, maxDet);
                const scores = new Float64Array(N);
                const src = new Int32Array(N); // image slot
                const col = new Int32Array(N); // detection index in that image
                let n = 0;
                E.forEach((e, slot) => {
                    const c = Math.min(e.D, maxDet);
                    for (let j = 0; j < c; j++) {
                        scores[n] = e.dtScores[j];
                        src[n] = slot;
                        col[n] = j;
                        n++;
                    }
                });
                const order = Array.from({ length: N }, (_, i) => i).sort((x, y) => scores[y] - scores[x]);
                const pr = new Float64Array(N);
                const rc = new Float64Array(N);
                for (let t = 0; t < T; t++) {
                    let tp = 0;
                    let fp = 0;
                    for (let j = 0; j < N; j++) {
                        const o = order[j];
                        const e = E[src[o]];
                        const idx = t * e.D + col[o];
                        if (!e.dtIgnore[idx]) {
                            if (e.dtMatched[idx])
                                tp++;
                            else
                                fp++;
                        }
                        rc[j] = tp / npig;
                        pr[j] = tp / (fp + tp + EPS_);
                    }
                    recall[((t * K + k) * A + a) * M + m] = N > 0 ? rc[N - 1] : 0;
                    for (let j = N - 1; j > 0; j--)
                        if (pr[j] > pr[j - 1])
                            pr[j - 1] = pr[j];
                    // searchsorted(rc, recThrs, side="left"); entries past the end stay 0
                    let j = 0;
                    for (let r = 0; r < R; r++) {
                        const thr = recThrs[r];
                        while (j < N && rc[j] < thr)
                            j++;
                        precision[(((t * R + r) * K + k) * A + a) * M + m] = j < N ? pr[j] : 0;
                    }
                }
            }
        }
    }
    return { precision, recall };
}
function meanOver(values) {
    const kept = values.filter((v) => v > -1);
    if (kept.length === 0)
        return -1;
    let s = 0;
    for (const v of kept)
        s += v;
    return s / kept.length;
}
function pick(p, sel) {
    const a = p.areaRngLbl.indexOf(sel.area);
    const m = p.maxDets.indexOf(sel.maxDets);
    const ts = sel.iou === null ? p.iouThrs.map((_, i) => i) : p.iouThrs.flatMap((v, i) => (v === sel.iou ? [i] : []));
    return { a, m, ts };
}
function meanPrecision(precision, p, K, sel) {
    const { a, m, ts } = pick(p, sel);
    if (a < 0 || m < 0)
        return -1;
    const R = p.recThrs.length;
    const A = p.areaRng.length;
    const M = p.maxDets.length;
    const vals = [];
    for (const t of ts)
        for (let r = 0; r < R; r++)
            for (let k = 0; k < K; k++)
                if (sel.k === null || sel.k === k)
                    vals.push(precision[(((t * R + r) * K + k) * A + a) * M + m]);
    return meanOver(vals);
}
function meanRecall(recall, p, K, sel) {
    const { a, m, ts } = pick(p, sel);
    if (a < 0 || m < 0)
        return -1;
    const A = p.areaRng.length;
    const M = p.maxDets.length;
    const vals = [];
    for (const t of ts)
        for (let k = 0; k < K; k++)
            if (sel.k === null || sel.k === k)
                vals.push(recall[((t * K + k) * A + a) * M + m]);
    return meanOver(vals);
}
function summarize(precision, recall, p, K) {
    const md = p.maxDets;
    const last = md[md.length - 1];
    const ap = (iou, area, maxDets) => meanPrecision(precision, p, K, { k: null, iou, area, maxDets });
    const ar = (area, maxDets) => meanRecall(recall, p, K, { k: null, iou: null, area, maxDets });
    return [
        ap(null, "all", last),
        ap(0.5, "all", md[2] ?? last),
        ap(0.75, "all", md[2] ?? last),
        ap(null, "small", md[2] ?? last),
        ap(null, "medium", md[2] ?? last),
        ap(null, "large", md[2] ?? last),
        ar("all", md[0]),
        ar("all", md[1] ?? last),
        ar("all", md[2] ?? last),
        ar("small", md[2] ?? last),
        ar("medium", md[2] ?? last),
        ar("large", md[2] ?? last),
    ];
}
// ---- end of baseline ----

/** The IoU floor inside evaluate: every cell's RLEs parsed and its IoU matrix computed, nothing else. */
function rleParseAndIou(gt, dt, p) {
  let pairs = 0;
  for (const catId of p.catIds) {
    for (const imgId of p.imgIds) {
      const g = (gt.byImage.get(imgId) ?? []).filter((a) => a.category_id === catId);
      const d = (dt.byImage.get(imgId) ?? []).filter((a) => a.category_id === catId);
      if (g.length === 0 || d.length === 0) continue;
      rleIou(d.map((a) => annotationRle(a, dt)), g.map((a) => annotationRle(a, gt)), g.map((a) => a.iscrowd));
      pairs += g.length * d.length;
    }
  }
  return pairs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const best = (xs) => Math.min(...xs);

/** Times the three stages of one implementation once; returns the times and the arrays. */
function stages(impl, gt, dt, p) {
  const t0 = performance.now();
  const ev = impl.evaluate(gt, dt, p);
  const t1 = performance.now();
  const acc = impl.accumulate(ev, p);
  const t2 = performance.now();
  const stats = impl.summarize(acc, p);
  const t3 = performance.now();
  return { times: { evaluate: t1 - t0, accumulate: t2 - t1, summarize: t3 - t2, total: t3 - t0 }, out: { ...acc, stats } };
}

const gearSeg = {
  evaluate: cocoEvaluate,
  accumulate: (ev) => cocoAccumulate(ev),
  summarize: (acc, p) => cocoSummarize(acc.precision, acc.recall, p),
};
const previousPort = {
  evaluate: baselineEvaluate,
  accumulate: (ev, p) => accumulate(ev.evalImgs, p, ev.K, ev.A, ev.I, ev.T),
  summarize: (acc, p) => summarize(acc.precision, acc.recall, p, p.useCats ? p.catIds.length : 1),
};

/**
 * What the CLI does: in a fresh process, load the two files and evaluate once (nothing warmed up). Run in a
 * child process by the benchmark; prints {load, first} in ms.
 */
export async function coldRun(which, gtFile, dtFile) {
  const t0 = performance.now();
  const gt = await loadCocoGroundTruth(gtFile);
  const dt = await loadCocoResults(gt, dtFile);
  const t1 = performance.now();
  const impl = which === "gear-seg" ? gearSeg : previousPort;
  const cpu0 = process.cpuUsage();
  const { out } = stages(impl, gt, dt, resolveCocoParams(gt));
  const cpu = process.cpuUsage(cpu0);
  const t2 = performance.now();
  console.log(JSON.stringify({ load: t1 - t0, first: t2 - t1, cpu: (cpu.user + cpu.system) / 1000, ap: out.stats[0] }));
}

function coldRuns(gtJson, dtJson, reps) {
  const dir = mkdtempSync(join(tmpdir(), "coco-eval-bench-"));
  try {
    const gtFile = join(dir, "gt.json");
    const dtFile = join(dir, "dt.json");
    writeFileSync(gtFile, JSON.stringify(gtJson));
    writeFileSync(dtFile, JSON.stringify(dtJson));
    const times = { "gear-seg": [], baseline: [], load: [], cpu: { "gear-seg": [], baseline: [] } };
    for (let rep = 0; rep < reps; rep++) {
      for (const which of ["gear-seg", "baseline"]) {
        const code = `const m = await import(${JSON.stringify(import.meta.url)}); await m.coldRun(${JSON.stringify(which)}, ${JSON.stringify(gtFile)}, ${JSON.stringify(dtFile)});`;
        const r = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" }));
        times[which].push(r.first);
        times.cpu[which].push(r.cpu);
        times.load.push(r.load);
      }
    }
    return times;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sameNumbers(a, b, what) {
  for (const key of ["precision", "recall"]) {
    const x = a[key], y = b[key];
    if (x.length !== y.length || x.some((v, i) => !Object.is(v, y[i]))) throw new Error(`coco-eval bench (${what}): ${key} differs from the baseline`);
  }
  // the stats are means over the same arrays; gear-seg sums them as numpy does (pairwise), the baseline left to right
  if (a.stats.some((v, i) => Math.abs(v - b.stats[i]) > 1e-12)) throw new Error(`coco-eval bench (${what}): stats differ from the baseline`);
}

/**
 * The whole process, as a user runs it: `gear-seg eval coco --gt --pred --json` against a Python process that
 * imports pycocotools, loads both files (COCO, loadRes), evaluates, accumulates and summarizes. Alternating
 * pairs, wall time of each process from spawn to exit; the 12 stats must be equal bit for bit.
 */
export async function endToEnd(log, { images = 400, width = 640, height = 480, seed = 2025, pairs = 7 } = {}) {
  const { gt, dt } = generate(images, width, height, seed);
  const dir = mkdtempSync(join(tmpdir(), "coco-e2e-bench-"));
  const gtFile = join(dir, "gt.json");
  const dtFile = join(dir, "dt.json");
  writeFileSync(gtFile, JSON.stringify(gt));
  writeFileSync(dtFile, JSON.stringify(dt));
  const probe = await startPycocotools();
  probe?.close();
  const ours = [];
  const ref = [];
  const oursCpu = [];
  const refCpu = [];
  // CPU time of each child (user + system, all its threads) from /usr/bin/time, when the machine has it
  const timed = existsSync("/usr/bin/time");
  const spawnTimed = (cmd, args, opts) => {
    if (!timed) return { stdout: execFileSync(cmd, args, { ...opts, encoding: "utf8" }), cpu: NaN };
    const r = spawnSync("/usr/bin/time", ["-f", "%U %S", cmd, ...args], { ...opts, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr.trim().split("\n").slice(-2, -1)[0] ?? ""}`);
    const [u, sy] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
    return { stdout: r.stdout, cpu: (u + sy) * 1000 };
  };
  let same = probe ? "yes" : "–";
  let ourStats;
  const load0 = loadavg()[0];
  try {
    for (let i = 0; i < pairs; i++) {
      let t = performance.now();
      const out = spawnTimed(process.execPath, [cliPath, "eval", "coco", "--gt", gtFile, "--pred", dtFile, "--json"], {});
      ours.push(performance.now() - t);
      oursCpu.push(out.cpu);
      ourStats = JSON.parse(out.stdout).stats;
      if (!probe) continue;
      t = performance.now();
      const py = spawnTimed(pythonExecutable(), [refScript, "cocoeval", gtFile, dtFile, "segm"], { env: pythonEnv() });
      ref.push(performance.now() - t);
      refCpu.push(py.cpu);
      const refStats = JSON.parse(py.stdout);
      if (refStats.length !== ourStats.length || refStats.some((v, k) => !Object.is(v, ourStats[k]))) same = "**no**";
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const fmtS = (xs) => `${(median(xs) / 1000).toFixed(2)} s (best ${(best(xs) / 1000).toFixed(2)})`;
  log(`### \`eval coco\` end to end: generated held-out case, ${images} images ${width}×${height} (seed ${seed})`);
  log("");
  log(`${gt.annotations.length} ground-truth masks, ${dt.length} detections, segm. Each run is a whole process (start-up, imports, JSON parsing, loadRes, evaluate, accumulate, summarize), ${pairs} pairs alternating; wall time from spawn to exit, median (best). ${describeReference(probe)}${probe ? "" : ` (${startPycocotools.whyNot})`}; it imports matplotlib through pycocotools.coco, as every pycocotools user does. Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (2 cores, shared).`);
  log("");
  const cpuS = (xs) => (timed ? `${(median(xs) / 1000).toFixed(2)} s` : "–");
  log("| process | wall time | gear-seg / pycocotools (wall) | CPU time (user + system) | gear-seg / pycocotools (CPU) | 12 stats bit-identical |");
  log("|---|---:|---:|---:|---:|---|");
  log(`| pycocotools (python3: COCO, loadRes, COCOeval) | ${probe ? fmtS(ref) : "not available"} | | ${probe ? cpuS(refCpu) : "–"} | | |`);
  log(`| \`gear-seg eval coco --json\` | ${fmtS(ours)} | ${probe ? (median(ours) / median(ref)).toFixed(2) + "×" : "–"} | ${cpuS(oursCpu)} | ${probe && timed ? (median(oursCpu) / median(refCpu)).toFixed(2) + "×" : "–"} | ${same} |`);
  log("");
  log(`AP = ${ourStats[0].toFixed(4)}, AP50 = ${ourStats[1].toFixed(4)}, AR100 = ${ourStats[8].toFixed(4)}.`);
  log("");
}

export default async function (log) {
  const W = 320, H = 240, N = 500, REPS = 11;
  const { gt: gtJson, dt: dtJson } = generate(N, W, H);
  const gtText = JSON.stringify(gtJson);
  const dtText = JSON.stringify(dtJson);
  const load = () => {
    const gt = parseCocoGroundTruth(JSON.parse(gtText), "generated-gt.json");
    return { gt, dt: parseCocoResults(gt, JSON.parse(dtText), "generated-dt.json") };
  };
  const { gt, dt } = load();

  const rows = {};
  let segmStats;
  for (const iouType of ["segm", "bbox"]) {
    const p = resolveCocoParams(gt, { iouType });
    const ours = { evaluate: [], accumulate: [], summarize: [], total: [] };
    const base = { evaluate: [], accumulate: [], summarize: [], total: [] };
    for (let rep = 0; rep <= REPS; rep++) {
      // rep 0 warms both up; then they alternate, so the shared machine's load hits both alike
      const a = stages(gearSeg, gt, dt, p);
      const b = stages(previousPort, gt, dt, p);
      sameNumbers(a.out, b.out, iouType);
      if (iouType === "segm") segmStats = a.out.stats;
      if (rep === 0) continue;
      for (const k of Object.keys(ours)) {
        ours[k].push(a.times[k]);
        base[k].push(b.times[k]);
      }
    }
    rows[iouType] = { ours, base };
  }
  const p = resolveCocoParams(gt);
  const loads = [];
  const ious = [];
  let pairs = 0;
  for (let rep = 0; rep <= REPS; rep++) {
    const t0 = performance.now();
    load();
    const t1 = performance.now();
    pairs = rleParseAndIou(gt, dt, p);
    const t2 = performance.now();
    if (rep === 0) continue;
    loads.push(t1 - t0);
    ious.push(t2 - t1);
  }

  const COLD = 7;
  const cold = coldRuns(gtJson, dtJson, COLD);

  const ms = (xs) => `${median(xs).toFixed(1)} ms (best ${best(xs).toFixed(1)})`;
  const x = (b, o) => `${(median(b) / median(o)).toFixed(1)}×`;
  const { ours, base } = rows.segm;
  log(`## Evaluation: COCO mask mAP (generated ${N} images, ${W}×${H})`);
  log("");
  log(`${gt.annotations.length} ground-truth masks (5% crowd), ${dt.annotations.length} detections (scores rounded to 0.001, so many ties), 2 categories, ` +
    `default parameters (10 IoU thresholds, 4 area ranges, maxDets 1/10/100); \`npm run build && node bench/run.js coco-eval\`. ` +
    `Warm rows: median of ${REPS} runs after a warm-up (best in brackets), gear-seg and the baseline alternating in one process on the same parsed files. ` +
    `Cold row: each implementation in its own fresh node process, loading the files and evaluating once, ${COLD} pairs alternating. ` +
    "Baseline: the previous port of cocoeval.py, kept in the bench file (objects per image × category × area range; accumulate " +
    "concatenating and sorting per category × area range × maxDet). Precision and recall are checked bit-identical between the two " +
    "on every run before anything is reported (the stats agree to 1e-12: gear-seg now sums them as numpy does, the baseline did not).");
  log("");
  log("| stage (segm unless noted) | baseline (previous port) | gear-seg | speed-up |");
  log("|---|---:|---:|---:|");
  for (const stage of ["evaluate", "accumulate", "summarize"]) log(`| ${stage} | ${ms(base[stage])} | ${ms(ours[stage])} | ${x(base[stage], ours[stage])} |`);
  log(`| **evaluate + accumulate + summarize** | **${ms(base.total)}** | **${ms(ours.total)}** | **${x(base.total, ours.total)}** |`);
  log(`| **first evaluation in a fresh process (what \`gear-seg eval coco\` does; ${COLD} process pairs)** | **${ms(cold.baseline)}** | **${ms(cold["gear-seg"])}** | **${x(cold.baseline, cold["gear-seg"])}** |`);
  log(`| the same, CPU time of the process (all threads: JIT compilers and GC included) | ${ms(cold.cpu.baseline)} | ${ms(cold.cpu["gear-seg"])} | ${x(cold.cpu.baseline, cold.cpu["gear-seg"])} |`);
  log(`| inside evaluate: RLE parse + IoU matrices alone (${pairs} pairs, src/masks; the same for both) | ${ms(ious)} | ${ms(ious)} | – |`);
  log(`| before evaluate: load (JSON.parse + parseCocoGroundTruth + parseCocoResults, the same code for both), warm | ${ms(loads)} | ${ms(loads)} | – |`);
  log(`| before evaluate: loadCocoGroundTruth + loadCocoResults in a fresh process (files; the same code for both) | ${ms(cold.load)} | ${ms(cold.load)} | – |`);
  const bb = rows.bbox;
  log(`| bookkeeping alone: evaluate + accumulate + summarize with iouType bbox (no RLE work) | ${ms(bb.base.total)} | ${ms(bb.ours.total)} | ${x(bb.base.total, bb.ours.total)} |`);
  log("");
  log(`AP = ${segmStats[0].toFixed(4)}, AP50 = ${segmStats[1].toFixed(4)}, AR100 = ${segmStats[8].toFixed(4)}; node ${process.version}; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores at the end.`);
  log("");
  await endToEnd(log);
}
