import sharp from "sharp";
import { readFileSync } from "node:fs";
import { rleFromString, merge, area, fromBbox, decode } from "/work/gs-det/dist/masks/index.js";
const name = process.argv[2]; const tau = Number(process.argv[3] ?? 0.85);
const J = JSON.parse(readFileSync(`/tmp/det-explore/regions/${name}.json`, "utf8"));
const H = J.height, W = J.width;
const regions = J.regions.map(r => ({ ...r, rle: rleFromString(r.counts, H, W) }));
const dets = J.detections.filter(d => d.score >= 0.3);
const layers = [];
const s = 800 / W, h = Math.round(H * s);
for (const d of dets) {
  const box = fromBbox(d.bbox, H, W); const B = area(box);
  const members = [];
  for (const r of regions) {
    const inter = area(merge([r.rle, box], true));
    if (inter / r.area >= tau && r.area >= 0.002 * B) members.push(r);
  }
  if (!members.length) { console.log(d.label, d.score.toFixed(2), "no members"); continue; }
  const u = merge(members.map(m => m.rle));
  const ua = area(u);
  const fill = area(merge([u, box], true)) / B;
  console.log(d.label, d.score.toFixed(2), "members", members.length, "union/box", (ua / B).toFixed(2), "fill", fill.toFixed(2));
  const m = decode(u);
  // m.data column-major? check
  layers.push({ d, m });
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
await sharp(base, { raw: { width: 800, height: h, channels: 3 } }).png().toFile(`/tmp/det-explore/obj-${name}.png`);
