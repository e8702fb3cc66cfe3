// Images: decoding the demo photos, and the numbered candidates picture with the classic segmenter's 200
// regions on each photo, each against a baseline measured in the same run; the result overlay.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { cpus, loadavg } from "node:os";
import { loadImage, renderCandidates, encodePng } from "../dist/image/index.js";
import { renderCandidatesRgb, renderOverlayRgb } from "../dist/image/render.js";
import { decode } from "../dist/masks/index.js";
import { createBackend } from "../dist/stack/registry.js";

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

/** Baseline: what one would write with sharp alone: one RGBA layer per region (its bbox, tinted where the
 * mask is), composited by sharp, then PNG. No borders, labels or caption: it does less work than ours. */
async function naiveCandidates(image, regions) {
  const { width, height } = image;
  const layers = regions.map((r, i) => {
    const m = decode(r.rle);
    const [x0, y0, w, h] = r.bbox;
    const rgba = new Uint8Array(Math.max(1, w * h) * 4);
    const col = [(i * 97) % 256, (i * 57 + 80) % 256, (i * 173 + 40) % 256];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!m.data[(y0 + y) * width + x0 + x]) continue;
        const o = (y * w + x) * 4;
        rgba[o] = col[0];
        rgba[o + 1] = col[1];
        rgba[o + 2] = col[2];
        rgba[o + 3] = 115;
      }
    }
    return { input: rgba, raw: { width: Math.max(1, w), height: Math.max(1, h), channels: 4 }, left: x0, top: y0 };
  });
  return sharp(image.data, { raw: { width, height, channels: 3 } }).composite(layers).png({ compressionLevel: 6 }).toBuffer();
}

export default async function (log) {
  log("## Images");
  log("");
  log("Median of runs alternating with the baseline. Decode: `loadImage` (header check, EXIF orientation, alpha flatten, RGB) against");
  log("a bare `sharp(path).raw().toBuffer()`. Candidates: `renderCandidates` with the 200 regions the `classic` segmenter proposes");
  log("for the photo (tint by area, soft borders, 200 numbers placed without overlaps, leader lines, PNG) against the naive approach:");
  log("one RGBA layer per region (its bbox) composited by sharp, then PNG (tint only: no borders or numbers). Overlay:");
  log("`renderOverlay` of the 6 largest regions with a caption (dimming, distance-transform outlines, numbers, caption band).");
  log("");
  log(`Load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(", ")} (${cpus().length} cores).`);
  log("");
  log("| task | gear-seg | baseline | speed-up |");
  log("|---|---:|---:|---:|");
  for (const name of ["cars.jpg", "groceries.jpg", "truck.jpg"]) {
    const path = join(photos, name);
    const img = await loadImage(path);
    const [ours, base] = await timePair(() => loadImage(path), () => sharp(path).raw().toBuffer(), 9);
    log(`| decode ${name} (${img.width}×${img.height}) | ${ours.toFixed(1)} ms | ${base.toFixed(1)} ms | ${(base / ours).toFixed(2)}× |`);
  }
  const segmenter = await createBackend("segmenter", "classic", {});
  for (const name of ["cars.jpg", "groceries.jpg", "truck.jpg"]) {
    const image = await loadImage(join(photos, name));
    const regions = (await segmenter.segment(image)).slice(0, 200);
    const size = `${image.width}×${image.height}`;
    const [ours, base] = await timePair(() => renderCandidates(image, regions), () => naiveCandidates(image, regions), 3);
    const [oursRaw] = await timePair(() => renderCandidatesRgb(image, regions), undefined, 5);
    const [jpg, png] = await timePair(() => renderCandidates(image, regions, { format: "jpg" }), () => encodePng(image), 3);
    const chosen = regions.slice(0, 6);
    const [overlay] = await timePair(() => renderOverlayRgb(image, chosen, { caption: "the red car on the left", captionTail: "masks 0, 1, 2, 3, 4, 5" }), undefined, 5);
    log(`| ${name} (${size}): candidates, ${regions.length} regions, to PNG | ${ours.toFixed(0)} ms | ${base.toFixed(0)} ms | ${(base / ours).toFixed(1)}× |`);
    log(`| ${name}: candidates, raw RGB (no encoding) | ${oursRaw.toFixed(0)} ms | – | – |`);
    log(`| ${name}: candidates to JPEG (PNG encoding of the photo alone: ${png.toFixed(0)} ms) | ${jpg.toFixed(0)} ms | – | – |`);
    log(`| ${name}: overlay, 6 regions + caption, raw RGB | ${overlay.toFixed(0)} ms | – | – |`);
  }
}
