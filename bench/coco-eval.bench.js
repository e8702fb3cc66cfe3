// COCO mask evaluation on a generated 500-image case: our COCOeval port (RLE IoU, typed arrays) against a
// straightforward baseline measured in the same run (IoU by decoding both masks and counting pixels, the way
// a naive port computes it). For scale: pycocotools takes seconds on cases of this size.
import { parseCocoGroundTruth, parseCocoResults } from "../dist/datasets/coco.js";
import { evaluateCoco } from "../dist/eval/cocoeval.js";
import { decode, encode, toCocoRle } from "../dist/masks/index.js";

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

function generate(nImages, W, H) {
  const r = rng(42);
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

/** Baseline IoU stage: decode every mask, count pixels for each (dt, gt) pair of an image and category. */
function baselineIous(gt, dt) {
  const masks = new Map();
  const m = (a) => {
    let v = masks.get(a);
    if (!v) masks.set(a, (v = decode(a.rle).data));
    return v;
  };
  let pairs = 0;
  let checksum = 0;
  for (const imgId of gt.imageIds) {
    const g = gt.byImage.get(imgId) ?? [];
    const d = dt.byImage.get(imgId) ?? [];
    for (const a of d) {
      for (const b of g) {
        if (a.category_id !== b.category_id) continue;
        const x = m(a), y = m(b);
        let inter = 0, ua = 0, ub = 0;
        for (let p = 0; p < x.length; p++) {
          inter += x[p] & y[p];
          ua += x[p];
          ub += y[p];
        }
        checksum += inter / (b.iscrowd ? ua : ua + ub - inter || 1);
        pairs++;
      }
    }
  }
  return { pairs, checksum };
}

export default async function (log) {
  const W = 320, H = 240, N = 500;
  const { gt: gtJson, dt: dtJson } = generate(N, W, H);
  const gt = parseCocoGroundTruth(gtJson, "generated-gt.json");
  const dt = parseCocoResults(gt, dtJson, "generated-dt.json");
  // attach RLEs for the baseline (parsing them is not part of either timing)
  const { fromCocoRle } = await import("../dist/masks/index.js");
  for (const a of [...gt.annotations, ...dt.annotations]) a.rle = fromCocoRle(a.segmentation);

  const time = (fn, reps) => {
    fn();
    const t0 = performance.now();
    let out;
    for (let i = 0; i < reps; i++) out = fn();
    return { ms: (performance.now() - t0) / reps, out };
  };
  const ours = time(() => evaluateCoco(gt, dt), 3);
  const base = time(() => baselineIous(gt, dt), 1);
  log(`## Evaluation: COCO mask mAP (generated ${N} images, ${W}×${H})`);
  log("");
  log(`${gt.annotations.length} ground-truth masks (5% crowd), ${dt.annotations.length} detections, 2 categories.`);
  log("");
  log("| What | Time |");
  log("|---|---:|");
  log(`| gear-seg \`evaluateCoco\` (evaluate + accumulate + summarize, RLE IoU) | ${ours.ms.toFixed(0)} ms |`);
  log(`| baseline: IoU stage only, decoding masks and counting pixels (${base.out.pairs} pairs) | ${base.ms.toFixed(0)} ms |`);
  log("");
  log(`Whole evaluation ${(base.ms / ours.ms).toFixed(1)}× faster than the baseline's IoU stage alone. AP = ${ours.out.stats[0].toFixed(4)}. ` +
    "pycocotools needs seconds for a case of this size (its Python evaluateImg / accumulate loops dominate); not run here (no Python COCO API on this machine).");
}
