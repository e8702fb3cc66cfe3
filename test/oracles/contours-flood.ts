// The oracle of the contour tracer: the mask flood-filled pixel by pixel over the whole image (foreground
// 4-connected, background 8-connected), then each boundary followed as src/masks/contours.ts follows it. This is
// how maskToPolygons worked before it labelled components from the RLE runs within the mask's box; the run
// version must give exactly these polygons (src/masks/contours.test.ts). No simplification: that step is the
// same function applied to the same vertices.
import type { BinaryMask, FlatPolygon } from "../../src/masks/types.js";

// Directions: 0 = east, 1 = south, 2 = west, 3 = north (y grows downwards).
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];
// Offsets from a vertex to the pixel ahead-right / ahead-left of the heading.
const ARX = [0, -1, -1, 0];
const ARY = [0, 0, -1, -1];
const ALX = [0, 0, -1, -1];
const ALY = [-1, 0, 0, -1];

/**
 * Label components: foreground 4-connected (labels 1, 2, ...), background 8-connected (labels -1, -2,
 * ...). Seeds are each component's first pixel in raster order.
 */
function label(mask: BinaryMask) {
  const { height: h, width: w, data } = mask;
  const n = h * w;
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  const fgSeeds: number[] = [];
  const bgSeeds: number[] = [];
  const bgBorder: boolean[] = [];
  for (let s = 0; s < n; s++) {
    if (labels[s] !== 0) continue;
    const fg = data[s] !== 0;
    const lab = fg ? fgSeeds.length + 1 : -(bgSeeds.length + 1);
    if (fg) fgSeeds.push(s);
    else bgSeeds.push(s);
    let border = false;
    let top = 0;
    stack[top++] = s;
    labels[s] = lab;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / w) | 0;
      const x = p - y * w;
      if (x === 0 || y === 0 || x === w - 1 || y === h - 1) border = true;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          if (fg && dx !== 0 && dy !== 0) continue; // foreground: 4-connected
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const q = ny * w + nx;
          if (labels[q] === 0 && (data[q] !== 0) === fg) {
            labels[q] = lab;
            stack[top++] = q;
          }
        }
      }
    }
    if (!fg) bgBorder.push(border);
  }
  return { labels, fgSeeds, bgSeeds, bgBorder };
}

/** Follow the boundary of component `lab` from the top-left corner of its raster-first pixel. */
function trace(labels: Int32Array, h: number, w: number, seed: number, lab: number, eight: boolean): number[] {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && labels[y * w + x] === lab;
  const sy = (seed / w) | 0;
  const sx = seed - sy * w;
  const pts: number[] = [sx, sy];
  let cx = sx;
  let cy = sy;
  let d = 0;
  for (;;) {
    cx += DX[d]!;
    cy += DY[d]!;
    const r = inside(cx + ARX[d]!, cy + ARY[d]!);
    const l = inside(cx + ALX[d]!, cy + ALY[d]!);
    let nd: number;
    if (r) nd = l ? (d + 3) & 3 : d;
    else nd = l && eight ? (d + 3) & 3 : (d + 1) & 3;
    if (cx === sx && cy === sy && nd === 0) break;
    if (nd !== d) pts.push(cx, cy);
    d = nd;
  }
  return pts;
}

/** Outer contours (with their holes) of every foreground component, in raster order of its first pixel. */
export function floodFillPolygons(mask: BinaryMask, minPoints = 3): { outer: FlatPolygon; holes: FlatPolygon[] }[] {
  const { height: h, width: w } = mask;
  if (h * w === 0) return [];
  const { labels, fgSeeds, bgSeeds, bgBorder } = label(mask);
  const result = fgSeeds.map((seed, i) => {
    const outer = trace(labels, h, w, seed, i + 1, false);
    return outer.length / 2 >= minPoints ? { outer, holes: [] as FlatPolygon[] } : null;
  });
  for (let i = 0; i < bgSeeds.length; i++) {
    if (bgBorder[i]) continue;
    const seed = bgSeeds[i]!;
    const owner = result[labels[seed - w]! - 1];
    if (!owner) continue;
    const hole = trace(labels, h, w, seed, -(i + 1), true);
    if (hole.length / 2 >= minPoints) owner.holes.push(hole);
  }
  return result.filter((r) => r !== null);
}
