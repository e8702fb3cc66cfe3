import sharp from "sharp";
import { readFileSync } from "node:fs";
import { rleFromString, merge, area, fromBbox, decode, toBbox } from "/work/gs-det/dist/masks/index.js";
const name = process.argv[2];
const J = JSON.parse(readFileSync(`/tmp/det-explore/regions/${name}.json`, "utf8"));
const H = J.height, W = J.width;
const regions = J.regions.map(r => ({ ...r, rle: rleFromString(r.counts, H, W) }));
const dets = J.detections.filter(d => d.score >= 0.3);
const biou = (a, b) => { const w = Math.min(a[0]+a[2], b[0]+b[2]) - Math.max(a[0], b[0]); const h = Math.min(a[1]+a[3], b[1]+b[3]) - Math.max(a[1], b[1]); if (w<=0||h<=0) return 0; return w*h/(a[2]*a[3]+b[2]*b[3]-w*h); };
const layers = [];
const s = 800 / W, h = Math.round(H * s);
for (const d of dets) {
  const box = fromBbox(d.bbox, H, W);
  let best = null;
  for (const r of regions) {
    const inside = area(merge([r.rle, box], true)) / r.area;
    const score = biou(r.bbox, d.bbox) * inside;
    if (!best || score > best.score) best = { r, score, inside, biou: biou(r.bbox, d.bbox) };
  }
  console.log(d.label, d.score.toFixed(2), "best region", best.r.id, "bboxIoU", best.biou.toFixed(2), "inside", best.inside.toFixed(2), "area/box", (best.r.area / (d.bbox[2]*d.bbox[3])).toFixed(2));
  layers.push({ d, m: decode(best.r.rle) });
}
const base = await sharp(J.image).resize(800, h).raw().toBuffer();
const colors = [[255,0,0],[0,255,0],[0,128,255],[255,255,0],[255,0,255],[0,255,255]];
layers.forEach(({ d, m }, li) => {
  const c = colors[li % colors.length];
  for (let y = 0; y < h; y++) for (let x = 0; x < 800; x++) {
    const sx = Math.min(W - 1, Math.floor(x / s)), sy = Math.min(H - 1, Math.floor(y / s));
    if (m.data[sy * W + sx]) { const o = (y * 800 + x) * 3; for (let k = 0; k < 3; k++) base[o + k] = (base[o + k] + c[k]) >> 1; }
  }
});
await sharp(base, { raw: { width: 800, height: h, channels: 3 } }).png().toFile(`/tmp/det-explore/best-${name}.png`);
