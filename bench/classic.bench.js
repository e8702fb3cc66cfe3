// The `classic` segmenter: speed and proposal count on ../shared/data/photos, and the "oracle" IoU on
// ../shared/data/gear-seg-samples (best single proposal, and a greedy union of up to 6, against the
// ReasonSeg ground truth), next to the same oracle for the reference SAM 2 everything-mode masks.
// Baseline in the same run: one FH segmentation alone (k = 300, no grouping, no ranking), the usual
// "superpixels" a weight-free pipeline would otherwise hand over.
import { createBackend } from "../dist/stack/registry.js";
import { readFile, readdir } from "node:fs/promises";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

import { makeWorkingImage, smoothPlanes } from "../dist/segmenters/classic/working-image.js";
import { buildGridGraph, felzenszwalb } from "../dist/segmenters/classic/felzenszwalb.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, "..", "..", "shared");
const photosDir = join(shared, "data", "photos");
const samples = join(shared, "data", "gear-seg-samples");

async function loadRgb(path) {
  const { data, info } = await sharp(path).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length), source: path };
}

/** Column-major RLE → row-major byte mask (bench only). */
function rleToMask(rle) {
  const { height: H, width: W } = rle;
  const mask = new Uint8Array(H * W);
  let pos = 0;
  let on = false;
  for (const c of rle.counts) {
    if (on) for (let k = pos; k < pos + c; k++) mask[(k % H) * W + Math.floor(k / H)] = 1;
    pos += c;
    on = !on;
  }
  return mask;
}

/** Even-odd scanline fill of a polygon at pixel centres into `out` with `value` (bench only). */
function fillPolygon(out, W, H, points, value) {
  const n = points.length;
  const xs = [];
  for (let y = 0; y < H; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if ((yi <= cy && yj > cy) || (yj <= cy && yi > cy)) xs.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const x0 = Math.max(0, Math.ceil(xs[k] - 0.5));
      const x1 = Math.min(W - 1, Math.floor(xs[k + 1] - 0.5));
      for (let x = x0; x <= x1; x++) out[y * W + x] = value;
    }
  }
}

const polygonArea = (pts) => {
  let s = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) s += pts[j][0] * pts[i][1] - pts[i][0] * pts[j][1];
  return Math.abs(s) / 2;
};

/** Ground truth as LISA draws it: shapes largest first, target = 1, ignore = 255, flag skipped. */
function rasteriseGroundTruth(json, W, H) {
  const gt = new Uint8Array(W * H);
  const shapes = json.shapes.filter((s) => s.label === "target" || s.label === "ignore");
  shapes.sort((a, b) => polygonArea(b.points) - polygonArea(a.points));
  for (const s of shapes) fillPolygon(gt, W, H, s.points, s.label === "target" ? 1 : 255);
  return gt;
}

/** Best single IoU and greedy union of up to 6 masks (ignore pixels excluded). */
function oracle(masks, gt) {
  const iou = (inter, union) => (union === 0 ? 1 : inter / union);
  let gtArea = 0;
  for (let p = 0; p < gt.length; p++) if (gt[p] === 1) gtArea++;
  // foreground pixel lists (ignore excluded) and their ground-truth hits
  const lists = masks.map((m) => {
    const px = [];
    for (let p = 0; p < m.length; p++) if (m[p] && gt[p] !== 255) px.push(p);
    return Int32Array.from(px);
  });
  let best = 0;
  for (const px of lists) {
    let inter = 0;
    for (const p of px) if (gt[p] === 1) inter++;
    best = Math.max(best, iou(inter, px.length + gtArea - inter));
  }
  const union = new Uint8Array(gt.length);
  let uInter = 0, uArea = 0, uIou = 0;
  for (let step = 0; step < 6; step++) {
    let bestGain = uIou, bestIdx = -1, bestI = 0, bestA = 0;
    lists.forEach((px, i) => {
      let addI = 0, addA = 0;
      for (const p of px) if (!union[p]) { addA++; if (gt[p] === 1) addI++; }
      const v = iou(uInter + addI, uArea + addA + gtArea - uInter - addI);
      if (v > bestGain + 1e-9) { bestGain = v; bestIdx = i; bestI = addI; bestA = addA; }
    });
    if (bestIdx < 0) break;
    for (const p of lists[bestIdx]) union[p] = 1;
    uInter += bestI; uArea += bestA; uIou = bestGain;
  }
  return { best, union: uIou };
}

/** Single-scale FH alone, each segment one proposal (the baseline). */
function fhOnly(image, k = 300) {
  const work = makeWorkingImage(image, 512);
  const lab = smoothPlanes(work.lab, work.width, work.height, 0.8);
  const graph = buildGridGraph(lab, work.width, work.height);
  const { labels, count } = felzenszwalb(graph, k, 20);
  return { work, labels, count };
}

function fhMasks(image, fh) {
  const { work, labels, count } = fh;
  const W = image.width, H = image.height;
  const masks = Array.from({ length: count }, () => new Uint8Array(W * H));
  for (let Y = 0; Y < H; Y++) {
    const row = work.rowMap[Y] * work.width;
    for (let X = 0; X < W; X++) masks[labels[row + work.colMap[X]]][Y * W + X] = 1;
  }
  return masks;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Edge accuracy at full resolution: a red disc and a rotated blue box on noisy grey, 2048×1536 (4× the 512-px
 * working copy). For each shape, the best proposal's misplaced pixels (XOR with the truth) per boundary pixel of
 * the truth; baseline: the same proposals sampled at the working size and upsampled nearest-neighbour (4-px stairs).
 */
async function edgeAccuracy(segmenter) {
  const W = 2048, H = 1536;
  const data = new Uint8Array(W * H * 3);
  const disc = new Uint8Array(W * H), box = new Uint8Array(W * H);
  let seed = 3;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const c = Math.cos(0.5), s = Math.sin(0.5);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const p = y * W + x;
    let col = [128, 128, 128];
    const u = (x + 0.5 - 1450) * c + (y + 0.5 - 760) * s, v = -(x + 0.5 - 1450) * s + (y + 0.5 - 760) * c;
    if ((x + 0.5 - 600) ** 2 + (y + 0.5 - 760) ** 2 <= 380 ** 2) { col = [200, 40, 40]; disc[p] = 1; }
    else if (Math.abs(u) <= 280 && Math.abs(v) <= 170) { col = [40, 60, 190]; box[p] = 1; }
    const noise = Math.round((rand() - 0.5) * 20);
    for (let k = 0; k < 3; k++) data[3 * p + k] = Math.max(0, Math.min(255, col[k] + noise));
  }
  const image = { width: W, height: H, data };
  const ours = (await segmenter.segment(image)).map((r) => rleToMask(r.rle));
  // the same proposals as the working copy sees them (the full-resolution pixel at each working pixel's centre),
  // carried back by nearest-neighbour upsampling: what classic returned before its boundaries were refined
  const w = Math.round(W * (512 / W)), h = Math.round(H * (512 / W));
  const colMap = Int32Array.from({ length: W }, (_, X) => Math.min(w - 1, Math.floor(((X + 0.5) * w) / W)));
  const rowMap = Int32Array.from({ length: H }, (_, Y) => Math.min(h - 1, Math.floor(((Y + 0.5) * h) / H)));
  const nearest = ours.map((m) => {
    const small = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) small[y * w + x] = m[Math.min(H - 1, Math.floor(((y + 0.5) * H) / h)) * W + Math.min(W - 1, Math.floor(((x + 0.5) * W) / w))];
    const out = new Uint8Array(W * H);
    for (let Y = 0; Y < H; Y++) for (let X = 0; X < W; X++) out[Y * W + X] = small[rowMap[Y] * w + colMap[X]];
    return out;
  });
  const rows = [];
  for (const [name, truth] of [["disc", disc], ["rotated box", box]]) {
    let boundary = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const p = y * W + x;
      if (truth[p] && (x === 0 || !truth[p - 1] || x === W - 1 || !truth[p + 1] || y === 0 || !truth[p - W] || y === H - 1 || !truth[p + W])) boundary++;
    }
    const best = (masks) => {
      let least = Infinity;
      for (const m of masks) {
        let wrong = 0;
        for (let p = 0; p < m.length; p++) wrong += m[p] ^ truth[p];
        if (wrong < least) least = wrong;
      }
      return least;
    };
    rows.push({ name, boundary, ours: best(ours), base: best(nearest) });
  }
  return rows;
}

export default async function (log) {
  const segmenter = await createBackend("segmenter", "classic", {});
  log("## Classic segmenter");
  log("");
  log("`classic` (FH at k = 30/100/300/1000 on a 512-px CIELAB working copy, two selective-search groupings per scale, dedup, top 200)");
  log("against the baseline of one FH segmentation alone (k = 300, same working copy, no grouping). Times are the");
  log("median of 3 runs on one core, decode excluded; wall time and the process's CPU time (the reference machine is");
  log("shared, so wall time includes waiting for a core; CPU time is what one free core would take).");
  log("");
  log("| photo | size | classic wall ms | classic CPU ms | proposals | FH-only wall ms | FH-only CPU ms | FH segments |");
  log("|---|---|---:|---:|---:|---:|---:|---:|");
  const inputs = [];
  for (const name of (await readdir(photosDir)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
    inputs.push({ name, image: await loadRgb(join(photosDir, name)) });
  }
  // the target size: 1.5 megapixels
  const { data: d15, info: i15 } = await sharp(join(photosDir, "cars.jpg")).resize(1500, 1000).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  inputs.push({ name: "cars.jpg resized", image: { width: i15.width, height: i15.height, data: new Uint8Array(d15.buffer, d15.byteOffset, d15.length) } });
  for (const { name, image } of inputs) {
    const times = [], baseTimes = [], cpu = [], baseCpu = [];
    let count = 0, segs = 0;
    const cpuMs = (c) => (c.user + c.system) / 1000;
    for (let run = 0; run < 3; run++) {
      let t = performance.now();
      let c = process.cpuUsage();
      count = (await segmenter.segment(image)).length;
      times.push(performance.now() - t);
      cpu.push(cpuMs(process.cpuUsage(c)));
      t = performance.now();
      c = process.cpuUsage();
      segs = fhOnly(image).count;
      baseTimes.push(performance.now() - t);
      baseCpu.push(cpuMs(process.cpuUsage(c)));
    }
    const mp = ((image.width * image.height) / 1e6).toFixed(2);
    log(`| ${name} | ${image.width}×${image.height} (${mp} MP) | ${median(times).toFixed(0)} | ${median(cpu).toFixed(0)} | ${count} | ${median(baseTimes).toFixed(0)} | ${median(baseCpu).toFixed(0)} | ${segs} |`);
  }
  log("");
  log("Edges at full resolution: a red disc and a rotated blue box on noisy grey, 2048×1536 (4× the working size); the best proposal's");
  log("misplaced pixels per boundary pixel of the shape. Classic places its boundaries on the photo's pixels (refine.ts);");
  log("baseline: the same proposals sampled at the 512-px working size and carried back by nearest-neighbour upsampling,");
  log("which is what classic returned before (4-pixel stairs).");
  log("");
  log("| shape | boundary pixels | classic, full-resolution boundaries: misplaced / boundary pixel | same proposals, nearest upsampling |");
  log("|---|---:|---:|---:|");
  for (const r of await edgeAccuracy(segmenter)) log(`| ${r.name} | ${r.boundary} | ${(r.ours / r.boundary).toFixed(2)} (${r.ours} px) | ${(r.base / r.boundary).toFixed(2)} (${r.base} px) |`);
  log("");
  log("Oracle IoU on the ReasonSeg samples (ground truth rasterised as LISA does: target = 1, ignore excluded):");
  log("best single proposal / greedy union of up to 6. SAM 2 = the reference's everything-mode masks.");
  log("");
  log("| image | classic best | classic ∪≤6 | FH-only best | FH-only ∪≤6 | SAM 2 best | SAM 2 ∪≤6 | SAM 2 masks |");
  log("|---|---:|---:|---:|---:|---:|---:|---:|");
  const imgDir = join(samples, "dataset", "ReasonSeg_val", "images");
  const sums = [0, 0, 0, 0, 0, 0];
  const names = (await readdir(imgDir)).filter((f) => f.endsWith(".jpg")).sort();
  for (const file of names) {
    const name = basename(file, ".jpg");
    const image = await loadRgb(join(imgDir, file));
    const W = image.width, H = image.height;
    const json = JSON.parse(await readFile(join(samples, "dataset", "ReasonSeg_val", "questions", `${name}.json`), "utf8"));
    const gt = rasteriseGroundTruth(json, W, H);
    const regions = await segmenter.segment(image);
    const ours = oracle(regions.map((r) => rleToMask(r.rle)), gt);
    const base = oracle(fhMasks(image, fhOnly(image)), gt);
    const samDir = join(samples, "outputs", "reasonseg_task", "ReasonSeg_val", "sam", "masks", name);
    const samMasks = [];
    for (const f of (await readdir(samDir)).filter((f) => f.endsWith(".png"))) {
      const { data, info } = await sharp(join(samDir, f)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      if (info.width !== W || info.height !== H) throw new Error(`${f}: size differs from the image`);
      const m = new Uint8Array(W * H);
      for (let p = 0; p < m.length; p++) m[p] = data[p] > 127 ? 1 : 0;
      samMasks.push(m);
    }
    const sam = oracle(samMasks, gt);
    const row = [ours.best, ours.union, base.best, base.union, sam.best, sam.union];
    row.forEach((v, i) => (sums[i] += v));
    log(`| ${name} | ${row.map((v) => v.toFixed(3)).join(" | ")} | ${samMasks.length} |`);
  }
  log(`| **mean** | ${sums.map((v) => (v / names.length).toFixed(3)).join(" | ")} | |`);
  log("");
}
