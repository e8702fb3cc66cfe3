// The `attributes` describer: describe + caption of every region on the three photos in ../shared/data/photos
// (regions from the `classic` segmenter, about 200 each) and on the GEAR-Seg sample 4537339 (its 103 SAM 2
// masks). Baseline in the same run: `legacy` below, the describer as it was before this change (commit
// c9bf7b6): each region measured by its own per-pixel walk over the row-major image in the RLE's
// column-major order, nesting by pairwise RLE merges, the caption re-measuring every region, the colour
// table built with two L*a*b* conversions per bin. Both must give the same text, checked here.
// Warm times are medians of 5 alternating runs; "cold" is the first call in a fresh process (colour table,
// JIT), which is what one CLI run pays.
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadImage, loadMaskPng } from "../dist/image/index.js";
import { area, encode, merge, rleFromString, rleToString, toBbox } from "../dist/masks/index.js";
import { createBackend } from "../dist/stack/registry.js";
import { describeAttributes, dominantColours } from "../dist/describers/attributes/index.js";
import { COLOUR_NAMES, ACHROMATIC, nearestColour, srgbToLab } from "../dist/vocabulary/colour-names.js";

const here = dirname(fileURLToPath(import.meta.url));
const shared = join(here, "..", "..", "shared");
const SAMPLE = "4537339_3d8e488294_o";
const sampleMasks = join(shared, "data", "gear-seg-samples", "outputs", "reasonseg_task", "ReasonSeg_val", "sam", "masks", SAMPLE);
const sampleImage = join(shared, "data", "gear-seg-samples", "dataset", "ReasonSeg_val", "images", `${SAMPLE}.jpg`);

// ---------------------------------------------------------------------------------------------------------
// legacy: the describer before this change, kept here as the baseline (same words, old measuring).

let legacyTables;
function legacyBinTables() {
  if (legacyTables) return legacyTables;
  const name = new Uint8Array(32768), lightness = new Float32Array(32768), chroma = new Float32Array(32768);
  for (let bin = 0; bin < 32768; bin++) {
    const r = ((bin >> 10) << 3) + 4, g = (((bin >> 5) & 31) << 3) + 4, b = ((bin & 31) << 3) + 4;
    const [L, A, B] = srgbToLab(r, g, b);
    name[bin] = nearestColour(r, g, b);
    lightness[bin] = L;
    chroma[bin] = Math.hypot(A, B);
  }
  return (legacyTables = { name, lightness, chroma });
}

function legacyMeasureRegion(image, rle) {
  const { name, lightness, chroma } = legacyBinTables();
  const H = rle.height, W = rle.width, data = image.data;
  const colourCounts = new Float64Array(COLOUR_NAMES.length);
  let area = 0, sumX = 0, sumY = 0, sumXX = 0, sumYY = 0, sumXY = 0, sumL = 0, sumC = 0, grad = 0, gradN = 0;
  let pos = 0;
  const counts = rle.counts;
  for (let k = 0; k < counts.length; k++) {
    const run = counts[k];
    if (k % 2 === 1 && run > 0) {
      let i = pos, left = run;
      while (left > 0) {
        const x = Math.floor(i / H), y0 = i - x * H, len = Math.min(left, H - y0), y1 = y0 + len - 1;
        const sy = ((y0 + y1) * len) / 2;
        const syy = (y1 * (y1 + 1) * (2 * y1 + 1) - (y0 - 1) * y0 * (2 * y0 - 1)) / 6;
        area += len; sumX += x * len; sumXX += x * x * len; sumY += sy; sumYY += syy; sumXY += x * sy;
        let prevLum = -1;
        for (let y = y0; y <= y1; y++) {
          const p = (y * W + x) * 3;
          const r = data[p], g = data[p + 1], b = data[p + 2];
          const bin = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
          colourCounts[name[bin]]++;
          sumL += lightness[bin];
          sumC += chroma[bin];
          const lum = (r * 77 + g * 150 + b * 29) >> 8;
          if (prevLum >= 0) { grad += Math.abs(lum - prevLum); gradN++; }
          prevLum = lum;
          if (x + 1 < W) { const q = p + 3; grad += Math.abs(lum - ((data[q] * 77 + data[q + 1] * 150 + data[q + 2] * 29) >> 8)); gradN++; }
        }
        left -= len; i += len;
      }
    }
    pos += run;
  }
  const n = Math.max(1, area), cx = sumX / n, cy = sumY / n;
  return { area, colourCounts, meanLightness: sumL / n, meanChroma: sumC / n, cx, cy, varX: sumXX / n - cx * cx, varY: sumYY / n - cy * cy, covXY: sumXY / n - cx * cy, gradient: gradN ? grad / gradN : 0 };
}

function legacyMeasureImage(image) {
  const { name, lightness, chroma } = legacyBinTables();
  const data = image.data, colourCounts = new Float64Array(COLOUR_NAMES.length);
  let sumL = 0, sumC = 0;
  const n = image.width * image.height;
  for (let p = 0; p < n * 3; p += 3) {
    const bin = ((data[p] >> 3) << 10) | ((data[p + 1] >> 3) << 5) | (data[p + 2] >> 3);
    colourCounts[name[bin]]++;
    sumL += lightness[bin];
    sumC += chroma[bin];
  }
  return { area: n, colourCounts, meanLightness: sumL / Math.max(1, n), meanChroma: sumC / Math.max(1, n) };
}

function legacyTone(m, main) {
  if (!main || ACHROMATIC.has(main)) return [];
  const out = [];
  if (m.meanLightness < 35) out.push("dark");
  else if (m.meanLightness > 75) out.push(m.meanChroma < 25 ? "pale" : "light");
  if (m.meanChroma > 55) out.push("vivid");
  else if (m.meanChroma < 12 && !out.includes("pale")) out.push("greyish");
  return out;
}
const legacySize = (s) => (s < 0.005 ? "tiny" : s < 0.03 ? "small" : s < 0.15 ? "medium" : s < 0.4 ? "large" : "huge");
function legacyShape(m, region) {
  const tr = m.varX + m.varY, det = m.varX * m.varY - m.covXY * m.covXY;
  const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const l1 = tr / 2 + disc, l2 = Math.max(1e-9, tr / 2 - disc);
  const elongation = Math.sqrt(l1 / l2);
  const [, , bw, bh] = region.bbox;
  const extent = m.area / Math.max(1, bw * bh);
  const fill = m.area / Math.max(1, Math.PI * 4 * Math.sqrt(l1 * l2));
  const out = [];
  if (elongation >= 4) out.push("long and thin");
  else if (elongation >= 2) out.push("elongated");
  if (extent >= 0.9 && elongation < 4) out.push("rectangular");
  else if (elongation < 1.35 && extent >= 0.6 && extent < 0.86 && fill > 0.85) out.push("round");
  else if (fill < 0.55 || extent < 0.35) out.push("irregular");
  if (elongation >= 1.6) {
    const a = Math.abs((0.5 * Math.atan2(2 * m.covXY, m.varX - m.varY) * 180) / Math.PI);
    out.push(a < 22.5 ? "horizontal" : a > 67.5 ? "vertical" : "diagonal");
  }
  return out;
}
const legacyTexture = (g) => (g < 4 ? "smooth" : g < 10 ? "slightly textured" : "textured");
const bboxInside = (a, b, s) => a[0] >= b[0] - s && a[1] >= b[1] - s && a[0] + a[2] <= b[0] + b[2] + s && a[1] + a[3] <= b[1] + b[3] + s;

function legacyRegionAttributes(image, regions) {
  const W = image.width, H = image.height;
  const measures = regions.map((r) => legacyMeasureRegion(image, r.rle));
  const attributes = regions.map((r, i) => {
    const m = measures[i];
    const colours = dominantColours(m.colourCounts, m.area);
    const cxr = m.cx / W, cyr = m.cy / H;
    const spans = [];
    if (r.bbox[2] >= 0.9 * W) spans.push("width");
    if (r.bbox[3] >= 0.9 * H) spans.push("height");
    return {
      colours, tone: legacyTone(m, colours[0]?.name), size: legacySize(m.area / (W * H)),
      horizontal: ["left", "centre", "right"][cxr < 1 / 3 ? 0 : cxr > 2 / 3 ? 2 : 1],
      vertical: ["top", "middle", "bottom"][cyr < 1 / 3 ? 0 : cyr > 2 / 3 ? 2 : 1],
      spans, shape: m.area > 0 ? legacyShape(m, r) : [], texture: legacyTexture(m.gradient), superlatives: [], contains: [],
    };
  });
  if (regions.length >= 2) {
    const extreme = (word, key) => {
      let best = -1;
      for (let i = 0; i < regions.length; i++) if (measures[i].area > 0 && (best < 0 || key(i) > key(best))) best = i;
      if (best >= 0) attributes[best].superlatives.push(word);
    };
    extreme("largest", (i) => measures[i].area);
    extreme("smallest", (i) => -measures[i].area);
    extreme("leftmost", (i) => -measures[i].cx);
    extreme("rightmost", (i) => measures[i].cx);
    extreme("topmost", (i) => -measures[i].cy);
    extreme("bottommost", (i) => measures[i].cy);
  }
  for (let i = 0; i < regions.length; i++) {
    const a = regions[i], aArea = measures[i].area;
    if (aArea === 0) continue;
    let parent = -1;
    for (let j = 0; j < regions.length; j++) {
      const b = regions[j];
      if (j === i || measures[j].area <= aArea || !bboxInside(a.bbox, b.bbox, 2)) continue;
      if (parent >= 0 && measures[j].area >= measures[parent].area) continue;
      if (area(merge([a.rle, b.rle], true)) >= 0.9 * aArea) parent = j;
    }
    if (parent >= 0) {
      attributes[i].insideOf = regions[parent].id;
      attributes[parent].contains.push(a.id);
    }
  }
  return { measures, attributes };
}

const pct = (share) => `${Math.round(share * 100)}%`;
export const legacy = {
  describe(image, regions, maxColours = 3) {
    return legacyRegionAttributes(image, regions).attributes.map((a) => describeAttributes({ ...a, colours: a.colours.slice(0, maxColours) }));
  },
  caption(image, regions, maxColours = 3) {
    const whole = legacyMeasureImage(image);
    const colours = dominantColours(whole.colourCounts, whole.area, maxColours, 0.05);
    const L = whole.meanLightness;
    const brightness = L < 30 ? "dark" : L < 50 ? "dim" : L > 70 ? "bright" : "moderately lit";
    const colourful = whole.meanChroma > 40 ? "colourful" : whole.meanChroma < 12 ? "nearly colourless" : "muted";
    const parts = [`A ${brightness}, ${colourful} ${image.width}x${image.height} image, mostly ${colours.map((c) => `${c.name} (${pct(c.share)})`).join(", ") || "without a dominant colour"}.`];
    if (regions.length) {
      const { attributes, measures } = legacyRegionAttributes(image, regions);
      const order = regions.map((_, i) => i).sort((a, b) => measures[b].area - measures[a].area || a - b);
      const big = order.slice(0, 3).map((i) => {
        const a = attributes[i];
        const where = a.horizontal === "centre" && a.vertical === "middle" ? "in the centre" : `at the ${a.vertical} ${a.horizontal}`;
        return `a ${a.size} ${[...a.tone, a.colours[0]?.name ?? ""].join(" ").trim()} region ${where}${a.spans.length ? ` spanning the ${a.spans.join(" and ")}` : ""} (region ${regions[i].id})`;
      });
      parts.push(`${regions.length} region${regions.length > 1 ? "s" : ""}; the largest: ${big.join("; ")}.`);
    } else parts.push("No regions.");
    return parts.join(" ");
  },
};

// ---------------------------------------------------------------------------------------------------------

async function inputs() {
  const out = [];
  const segmenter = await createBackend("segmenter", "classic");
  const photos = join(shared, "data", "photos");
  for (const file of (await readdir(photos)).filter((f) => f.endsWith(".jpg")).sort()) {
    const path = join(photos, file);
    const image = await loadImage(path);
    const regions = (await segmenter.segment(image)).map((r, id) => ({ ...r, id }));
    out.push({ name: `${file} (classic)`, path, image, regions });
  }
  await segmenter.close?.();
  const image = await loadImage(sampleImage);
  const n = (await readdir(sampleMasks)).filter((f) => /^mask_\d+\.png$/.test(f)).length;
  const regions = [];
  for (let i = 0; i < n; i++) {
    const rle = encode(await loadMaskPng(join(sampleMasks, `mask_${i}.png`)));
    regions.push({ id: i, rle, bbox: toBbox(rle), area: area(rle) });
  }
  out.push({ name: `${SAMPLE} (SAM 2 masks)`, path: sampleImage, image, regions });
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The first describe + caption in a fresh process, for the new code and for legacy. */
function cold(which, file) {
  const script = `
    const { loadImage } = await import(${JSON.stringify(new URL("../dist/image/index.js", import.meta.url).href)});
    const { rleFromString } = await import(${JSON.stringify(new URL("../dist/masks/index.js", import.meta.url).href)});
    const { readFileSync } = await import("node:fs");
    const input = JSON.parse(readFileSync(${JSON.stringify(file)}, "utf8"));
    const image = await loadImage(input.path);
    const regions = input.regions.map((r) => ({ id: r.id, bbox: r.bbox, area: r.area, rle: rleFromString(r.counts, image.height, image.width) }));
    // Modules are loaded before the clock starts: the first call pays the colour table and the JIT only.
    const { createBackend } = await import(${JSON.stringify(new URL("../dist/stack/registry.js", import.meta.url).href)});
    const { legacy } = await import(${JSON.stringify(new URL("./attributes.bench.js", import.meta.url).href)});
    const d = await createBackend("describer", "attributes", {});
    const describe = ${JSON.stringify(which)} === "new" ? (i, r) => d.describe(i, r) : async (i, r) => legacy.describe(i, r);
    const caption = ${JSON.stringify(which)} === "new" ? (i, r) => d.caption(i, r) : async (i, r) => legacy.caption(i, r);
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const t = performance.now(), c = cpu();
    await describe(image, regions);
    await caption(image, regions);
    console.log(JSON.stringify({ wall: performance.now() - t, cpu: cpu() - c }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }).trim().split("\n").pop());
}

export default async function (log) {
  const d = await createBackend("describer", "attributes", {});
  const dir = await mkdtemp(join(tmpdir(), "gear-seg-attributes-bench-"));
  const rows = [];
  try {
    for (const input of await inputs()) {
      const { image, regions } = input;
      const file = join(dir, "input.json");
      await writeFile(file, JSON.stringify({ path: input.path, regions: regions.map((r) => ({ id: r.id, bbox: r.bbox, area: r.area, counts: rleToString(r.rle) })) }));
      const coldNew = cold("new", file);
      const coldOld = cold("legacy", file);
      // Per round and side: wall and CPU time (this process, all threads) of describe, of caption.
      const t = { new: { d: [], c: [], dCpu: [], cCpu: [] }, old: { d: [], c: [], dCpu: [], cCpu: [] } };
      const timed = async (side, key, f) => {
        const w = performance.now(), c = cpuMs();
        const out = await f();
        t[side][key].push(performance.now() - w);
        t[side][`${key}Cpu`].push(cpuMs() - c);
        return out;
      };
      let same = true;
      for (let round = 0; round < 5; round++) {
        const text = await timed("new", "d", () => d.describe(image, regions));
        const caption = await timed("new", "c", () => d.caption(image, regions));
        const oldText = await timed("old", "d", async () => legacy.describe(image, regions));
        const oldCaption = await timed("old", "c", async () => legacy.caption(image, regions));
        same &&= caption === oldCaption && text.length === oldText.length && text.every((x, i) => x === oldText[i]);
      }
      rows.push({ input, coldNew, coldOld, t, same, pixels: image.width * image.height });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const ms = (x) => x.toFixed(0);
  log("## Attributes describer (describe + caption of every region)");
  log("");
  log("Regions: the `classic` segmenter's proposals on `../shared/data/photos`, and the 103 SAM 2 masks of GEAR-Seg sample 4537339. Baseline (`legacy` in bench/attributes.bench.js, the describer before this change): a per-pixel walk of each region over the row-major image in RLE order, nesting by pairwise RLE merges, the caption re-measuring every region. Now: one pass over the image in bands of columns for all regions: a band the regions cover more than 1.5 times over is read once into tables (per-column prefix sums of L\\*, chroma and gradient, colour counts every 16 rows) from which each column segment is summed in O(1), a thinner band is walked pixel by pixel; nesting by a run walk with early exits, smallest candidate first; the caption measures its three regions only. Times are wall / CPU (user + system of the process, all threads; less sensitive to the other jobs on this shared machine). Warm: median of 5 alternating runs in one process; cold: the first describe + caption in a fresh process (colour table, JIT; modules already loaded), what one CLI run pays. Same text: every description and the caption equal the baseline's.");
  log("");
  log(`Machine: ${process.version}, load average at the end ${loadavg().map((x) => x.toFixed(1)).join(" / ")} (2 cores, shared).`);
  log("");
  log("| input | pixels | regions | describe warm | caption warm | baseline describe warm | baseline caption warm | speed-up warm (d + c, wall / CPU) | describe + caption cold | baseline cold | same text |");
  log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  const cell = (wall, cpu) => `${ms(wall)} / ${ms(cpu)} ms`;
  for (const r of rows) {
    const n = r.t.new, o = r.t.old;
    const nw = median(n.d) + median(n.c), ow = median(o.d) + median(o.c);
    const nc = median(n.dCpu) + median(n.cCpu), oc = median(o.dCpu) + median(o.cCpu);
    log(`| ${r.input.name} | ${(r.pixels / 1e6).toFixed(2)} M | ${r.input.regions.length} | ${cell(median(n.d), median(n.dCpu))} | ${cell(median(n.c), median(n.cCpu))} | ${cell(median(o.d), median(o.dCpu))} | ${cell(median(o.c), median(o.cCpu))} | ${(ow / nw).toFixed(1)}x / ${(oc / nc).toFixed(1)}x | ${cell(r.coldNew.wall, r.coldNew.cpu)} | ${cell(r.coldOld.wall, r.coldOld.cpu)} | ${r.same ? "yes" : "**no**"} |`);
  }
}
