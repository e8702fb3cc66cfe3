/**
 * Oracle for `interiorAnchors` (src/image/raster.ts): the same sampling grid and chamfer distances, written
 * plainly (closures, arrays of numbers), and the alternatives ordered by a comparator sort: by decreasing
 * distance, ties by increasing cell index.
 */
export function interiorAnchorsPlain(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  value: number,
  bbox: readonly [number, number, number, number],
  count: number,
  minDistance = 0.3,
): [number, number][] {
  const bx0 = Math.max(0, Math.floor(bbox[0]));
  const by0 = Math.max(0, Math.floor(bbox[1]));
  const bx1 = Math.min(width, Math.ceil(bbox[0] + bbox[2]));
  const by1 = Math.min(height, Math.ceil(bbox[1] + bbox[3]));
  const bw = bx1 - bx0;
  const bh = by1 - by0;
  if (bw <= 0 || bh <= 0) return [];
  const step = Math.max(1, Math.ceil(Math.max(bw, bh) / 96));
  const gw = Math.ceil(bw / step);
  const gh = Math.ceil(bh / step);
  const sx = (i: number) => Math.min(bx1 - 1, bx0 + i * step + (step >> 1));
  const sy = (j: number) => Math.min(by1 - 1, by0 + j * step + (step >> 1));
  const dist = new Float32Array(gw * gh);
  for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) if (labels[sy(j) * width + sx(i)] === value) dist[j * gw + i] = Math.min(i + 1, j + 1, gw - i, gh - j);
  if (!dist.some((d) => d > 0)) return [];
  const at = (i: number, j: number) => dist[j * gw + i]!;
  for (let j = 0; j < gh; j++) {
    for (let i = 0; i < gw; i++) {
      if (at(i, j) === 0) continue;
      const near = [at(i, j)];
      if (i > 0) near.push(at(i - 1, j) + 1);
      if (j > 0) near.push(at(i, j - 1) + 1);
      if (j > 0 && i > 0) near.push(at(i - 1, j - 1) + Math.SQRT2);
      if (j > 0 && i < gw - 1) near.push(at(i + 1, j - 1) + Math.SQRT2);
      dist[j * gw + i] = near.reduce((a, b) => Math.min(a, b));
    }
  }
  for (let j = gh - 1; j >= 0; j--) {
    for (let i = gw - 1; i >= 0; i--) {
      if (at(i, j) === 0) continue;
      const near = [at(i, j)];
      if (i < gw - 1) near.push(at(i + 1, j) + 1);
      if (j < gh - 1) near.push(at(i, j + 1) + 1);
      if (j < gh - 1 && i < gw - 1) near.push(at(i + 1, j + 1) + Math.SQRT2);
      if (j < gh - 1 && i > 0) near.push(at(i - 1, j + 1) + Math.SQRT2);
      dist[j * gw + i] = near.reduce((a, b) => Math.min(a, b));
    }
  }
  const best = Math.max(...dist);
  const cx = (gw - 1) / 2;
  const cy = (gh - 1) / 2;
  const off = (p: number) => ((p % gw) - cx) ** 2 + (Math.floor(p / gw) - cy) ** 2;
  const bestP = [...dist.keys()].filter((p) => dist[p]! >= best - 0.1).reduce((a, b) => (off(b) < off(a) ? b : a));
  const point = (p: number): [number, number] => [sx(p % gw), sy(Math.floor(p / gw))];
  const out = [point(bestP)];
  if (count <= 1) return out;
  const cells = [...dist.keys()].filter((p) => p !== bestP && dist[p]! >= Math.max(1, best * minDistance));
  cells.sort((a, b) => dist[b]! - dist[a]! || a - b);
  const taken = [bestP];
  const spacing = Math.max(1, Math.min(gw, gh) / 8);
  for (const p of cells) {
    if (out.length >= count) break;
    if (taken.some((q) => Math.abs((q % gw) - (p % gw)) + Math.abs(Math.floor(q / gw) - Math.floor(p / gw)) < spacing)) continue;
    taken.push(p);
    out.push(point(p));
  }
  return out;
}
