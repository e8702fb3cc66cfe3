import sharp from "sharp";
import { readFileSync } from "node:fs";
import { rleFromString, merge, area, fromBbox, decode } from "/work/gs-det/dist/masks/index.js";
const [name, tauS, growS] = process.argv.slice(2); const tau = Number(tauS), grow = Number(growS);
const J = JSON.parse(readFileSync(`/tmp/det-explore/regions/${name}.json`, "utf8"));
const H = J.height, W = J.width;
const regions = J.regions.map(r => ({ ...r, rle: rleFromString(r.counts, H, W) }));
const dets = J.detections.filter(d => d.score >= 0.3);
const s = 800 / W, h = Math.round(H * s);
const base = await sharp(J.image).resize(800, h).raw().toBuffer();
const colors = [[255,0,0],[0,255,0],[0,128,255],[255,255,0],[255,0,255],[0,255,255]];
let li = 0;
for (const d of dets) {
  const [x, y, w, hh] = d.bbox;
  const g = [x - grow * w, y - grow * hh, w * (1 + 2 * grow), hh * (1 + 2 * grow)];
  const box = fromBbox(g, H, W);
  const members = regions.filter(r => area(merge([r.rle, box], true)) / r.area >= tau);
  if (!members.length) continue;
  const u = merge(members.map(m => m.rle));
  console.log(name, d.label, d.score.toFixed(2), "members", members.length, "fill", (area(u) / (w * hh)).toFixed(2));
  const m = decode(u); const c = colors[li++ % colors.length];
  for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < 800; xx++) {
    const sx = Math.min(W - 1, Math.floor(xx / s)), sy = Math.min(H - 1, Math.floor(yy / s));
    if (m.data[sy * W + sx]) { const o = (yy * 800 + xx) * 3; for (let k = 0; k < 3; k++) base[o + k] = (base[o + k] + c[k]) >> 1; }
  }
}
await sharp(base, { raw: { width: 800, height: h, channels: 3 } }).png().toFile(`/tmp/det-explore/g-${name}-${tau}-${grow}.png`);
