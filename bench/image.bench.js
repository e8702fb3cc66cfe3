// Images: decoding the demo photos, and the numbered candidates picture with 100 regions on cars.jpg,
// each against a baseline measured in the same run.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { loadImage, renderCandidates, encodePng } from "../dist/image/index.js";
import { renderCandidatesRgb } from "../dist/image/render.js";
import { encode, toBbox, area, decode } from "../dist/masks/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const photos = resolve(here, "../../shared/data/photos");

/** Median times of `a` and `b`, run alternately so that load from other processes hits both alike. */
async function timePair(a, b, runs) {
  const ta = [];
  const tb = [];
  for (let i = -2; i < runs; i++) {
    // The first two rounds warm up (JIT, sharp caches) and are not counted.
    for (const [fn, out] of i % 2 ? [[a, ta], [b, tb]] : [[b, tb], [a, ta]]) {
      if (!fn) continue;
      const t0 = performance.now();
      await fn();
      if (i >= 0) out.push(performance.now() - t0);
    }
  }
  const median = (t) => (t.length ? t.sort((x, y) => x - y)[Math.floor(t.length / 2)] : NaN);
  return [median(ta), median(tb)];
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 100 blob-like regions (rotated ellipses with a wobbly rim) of sizes from ~0.05% to ~25% of the image. */
function makeRegions(width, height, count) {
  const rand = rng(7);
  const regions = [];
  for (let id = 0; id < count; id++) {
    const data = new Uint8Array(width * height);
    const cx = rand() * width;
    const cy = rand() * height;
    const r = Math.sqrt(width * height) * (0.02 + 0.3 * rand() ** 2);
    const ax = r * (0.6 + rand() * 0.8);
    const ay = r * (0.6 + rand() * 0.8);
    const th = rand() * Math.PI;
    const c = Math.cos(th), s = Math.sin(th);
    const k = 3 + Math.floor(rand() * 5);
    const x0 = Math.max(0, Math.floor(cx - 1.3 * Math.max(ax, ay)));
    const x1 = Math.min(width, Math.ceil(cx + 1.3 * Math.max(ax, ay)));
    const y0 = Math.max(0, Math.floor(cy - 1.3 * Math.max(ax, ay)));
    const y1 = Math.min(height, Math.ceil(cy + 1.3 * Math.max(ax, ay)));
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const dx = x - cx, dy = y - cy;
        const u = (dx * c + dy * s) / ax, v = (-dx * s + dy * c) / ay;
        const wobble = 1 + 0.15 * Math.sin(k * Math.atan2(v, u));
        if (u * u + v * v < wobble * wobble) data[y * width + x] = 1;
      }
    const rle = encode({ width, height, data });
    regions.push({ id, rle, bbox: toBbox(rle), area: area(rle) });
  }
  regions.sort((a, b) => b.area - a.area);
  regions.forEach((r, i) => (r.id = i));
  return regions;
}

/** Baseline: what one would write with sharp alone: one full-size RGBA layer per region (tint where the
 * mask is), composited by sharp, then PNG. No borders or labels (it does less work than ours). */
async function naiveCandidates(image, regions) {
  const { width, height } = image;
  const layers = regions.map((r, i) => {
    const m = decode(r.rle);
    const rgba = new Uint8Array(width * height * 4);
    const col = [(i * 97) % 256, (i * 57 + 80) % 256, (i * 173 + 40) % 256];
    for (let p = 0; p < m.data.length; p++) {
      if (!m.data[p]) continue;
      rgba[p * 4] = col[0];
      rgba[p * 4 + 1] = col[1];
      rgba[p * 4 + 2] = col[2];
      rgba[p * 4 + 3] = 115;
    }
    return { input: rgba, raw: { width, height, channels: 4 } };
  });
  return sharp(image.data, { raw: { width, height, channels: 3 } }).composite(layers).png({ compressionLevel: 6 }).toBuffer();
}

export default async function (log) {
  log("## Images");
  log("");
  log("Median of runs alternating with the baseline. Decode: `loadImage` (header check, EXIF orientation, alpha flatten, RGB) against");
  log("a bare `sharp(path).raw().toBuffer()`. Candidates: `renderCandidates` with 100 blob regions on cars.jpg");
  log("(tint, 1-px borders, numbered labels at distance-transform anchors, PNG) against the naive approach:");
  log("one full-size RGBA layer per region composited by sharp, then PNG (tint only, no borders or labels).");
  log("");
  log("| task | gear-seg | baseline | speed-up |");
  log("|---|---:|---:|---:|");
  for (const name of ["cars.jpg", "groceries.jpg", "truck.jpg"]) {
    const path = join(photos, name);
    const img = await loadImage(path);
    const [ours, base] = await timePair(() => loadImage(path), () => sharp(path).raw().toBuffer(), 9);
    log(`| decode ${name} (${img.width}×${img.height}) | ${ours.toFixed(1)} ms | ${base.toFixed(1)} ms | ${(base / ours).toFixed(2)}× |`);
  }
  const image = await loadImage(join(photos, "cars.jpg"));
  const regions = makeRegions(image.width, image.height, 100);
  const [ours, base] = await timePair(() => renderCandidates(image, regions), () => naiveCandidates(image, regions), 3);
  const [oursRaw, encodeOnly] = await timePair(() => renderCandidatesRgb(image, regions), () => encodePng(image), 7);
  log(`| candidates, 100 regions, ${image.width}×${image.height}, to PNG | ${ours.toFixed(0)} ms | ${base.toFixed(0)} ms | ${(base / ours).toFixed(1)}× |`);
  log(`| candidates, 100 regions, raw RGB (no PNG encode) | ${oursRaw.toFixed(0)} ms | – | – |`);
  log(`| PNG encode of the photo alone (part of both rows above) | ${encodeOnly.toFixed(0)} ms | – | – |`);
}
