/**
 * Mask → polygons (outer contours with their holes), for the exporters (YOLO, COCO polygons, LabelMe, LISA).
 *
 * Method: connected components, then crack following. Foreground components are 4-connected and
 * background components 8-connected (the usual dual pair, so a hole's border is one foreground
 * component). Each boundary is followed along pixel edges with the region kept on the right, which gives
 * a clockwise polygon (on screen, y down) for outer contours and for holes alike.
 *
 * Coordinates are pixel CORNERS: pixel (col, row) is the square [col, col+1] × [row, row+1]. That is the
 * convention pycocotools' rleFrPoly rasterises (a pixel is inside when its centre (col+0.5, row+0.5) is),
 * so `fromPolygons([outer])` minus `fromPolygons([hole])` for each hole gives back the mask exactly when no
 * simplification is asked for. (Pixel-centre contours, as cv2.findContours returns, lose half a pixel all
 * round under that rasteriser: IoU well below 0.98 on small blobs.) Only corner vertices are kept; with
 * `simplify` > 0 the polygons are further reduced by Douglas–Peucker with that tolerance in pixels.
 */
import { GearSegError } from "../util/errors.js";
import type { BinaryMask, FlatPolygon } from "./types.js";

export interface MaskPolygon {
  /** Outer boundary, clockwise on screen, pixel-corner coordinates. */
  outer: FlatPolygon;
  /** Boundaries of the background holes inside it (islands inside a hole are their own entries). */
  holes: FlatPolygon[];
}

export interface MaskToPolygonsOptions {
  /** Polygons (outer or hole) with fewer vertices than this are dropped. Default 3. */
  minPoints?: number;
  /** Douglas–Peucker tolerance in pixels; 0 (default) keeps every corner. */
  simplify?: number;
}

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

/** Douglas–Peucker on a closed polygon: split at the vertex farthest from the first, reduce both chains. */
function simplifyClosed(pts: number[], eps: number): number[] {
  const n = pts.length / 2;
  if (n <= 3 || eps <= 0) return pts;
  let far = 0;
  let best = -1;
  for (let i = 1; i < n; i++) {
    const dx = pts[2 * i]! - pts[0]!;
    const dy = pts[2 * i + 1]! - pts[1]!;
    const dd = dx * dx + dy * dy;
    if (dd > best) {
      best = dd;
      far = i;
    }
  }
  const keep = new Uint8Array(n + 1);
  keep[0] = keep[far] = keep[n] = 1;
  const px = (i: number) => pts[2 * (i % n)]!;
  const py = (i: number) => pts[2 * (i % n) + 1]!;
  const stack: number[] = [0, far, far, n];
  const eps2 = eps * eps;
  while (stack.length) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    if (b - a < 2) continue;
    const ax = px(a);
    const ay = py(a);
    const vx = px(b) - ax;
    const vy = py(b) - ay;
    const len2 = vx * vx + vy * vy;
    let idx = -1;
    let dmax = -1;
    for (let i = a + 1; i < b; i++) {
      const wx = px(i) - ax;
      const wy = py(i) - ay;
      let d2: number;
      if (len2 === 0) d2 = wx * wx + wy * wy;
      else {
        const cross = vx * wy - vy * wx;
        d2 = (cross * cross) / len2;
      }
      if (d2 > dmax) {
        dmax = d2;
        idx = i;
      }
    }
    if (dmax > eps2) {
      keep[idx] = 1;
      stack.push(a, idx, idx, b);
    }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(pts[2 * i]!, pts[2 * i + 1]!);
  return out;
}

/**
 * Outer contours and holes of a mask, one entry per 4-connected foreground component, in raster order of
 * their top-left pixel. See the module comment for the coordinate convention.
 */
export function maskToPolygons(mask: BinaryMask, options: MaskToPolygonsOptions = {}): MaskPolygon[] {
  const { height: h, width: w } = mask;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0 || mask.data.length !== h * w) {
    throw new GearSegError(`maskToPolygons: mask data has ${mask.data.length} bytes but size is ${h}x${w}`);
  }
  const minPoints = options.minPoints ?? 3;
  const eps = options.simplify ?? 0;
  if (!(eps >= 0)) throw new GearSegError(`maskToPolygons: simplify must be >= 0, got ${eps}`);
  if (h * w === 0) return [];
  const { labels, fgSeeds, bgSeeds, bgBorder } = label(mask);
  const result: (MaskPolygon | null)[] = fgSeeds.map((seed, i) => {
    const outer = simplifyClosed(trace(labels, h, w, seed, i + 1, false), eps);
    return outer.length / 2 >= minPoints ? { outer, holes: [] } : null;
  });
  for (let i = 0; i < bgSeeds.length; i++) {
    if (bgBorder[i]) continue;
    const seed = bgSeeds[i]!;
    // The pixel above a hole's raster-first pixel belongs to the component that encloses it.
    const owner = result[labels[seed - w]! - 1];
    if (!owner) continue;
    const hole = simplifyClosed(trace(labels, h, w, seed, -(i + 1), true), eps);
    if (hole.length / 2 >= minPoints) owner.holes.push(hole);
  }
  return result.filter((r): r is MaskPolygon => r !== null);
}
