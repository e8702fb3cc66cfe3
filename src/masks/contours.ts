/**
 * Mask → polygons (outer contours with their holes), for the exporters (YOLO, COCO polygons, LabelMe, LISA).
 *
 * Method: connected components, then crack following. Foreground components are 4-connected and
 * background components 8-connected (the usual dual pair, so a hole's border is one foreground
 * component); they are found from the RLE runs within the box of the mask's pixels (see `label`), so an
 * export of 150,000 masks costs seconds, not hours of full-image flood fills. Each boundary is followed along pixel edges with the region kept on the right, which gives
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
import { encode } from "./rle.js";
import { forEachColumnSpan, runsTotal } from "./runs.js";
import type { BinaryMask, FlatPolygon, Rle } from "./types.js";

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

// ---------------------------------------------------------------------------------------------------------
// Components from the runs. The mask is cut to the box of its pixels and split, column by column, into
// vertical runs that alternate background/foreground and cover the column; runs in neighbouring columns are
// joined with union-find (foreground when their rows overlap, background also when they only touch
// diagonally). Work is proportional to the runs plus one `fill` per run, not to the image.
//
// Why the box gives the same polygons as the whole image: every foreground pixel is inside it, so the
// foreground components are the same. A hole (a background component that does not reach the image border)
// lies strictly inside the box, because a background pixel in a row or column that holds no foreground
// reaches the image border along it; and within the box it touches neither the box border nor any
// background outside the box, so it is also a component of the box that does not reach the box border.
// Conversely a background component of the box away from the box border has only box pixels around it, so
// it is a hole of the image. Raster order within the box is raster order within the image, so seeds,
// labels and output order are unchanged.

/** Scratch, grown on demand and reused across calls (the library is single-threaded per isolate). */
let labelScratch = new Int32Array(1 << 16);

interface Components {
  /** Column-major over the box (index = x * rows + y): foreground labels 1, 2, ..., background -1, -2, .... */
  labels: Int32Array;
  /** The box: its left column, top row, columns and rows. */
  x0: number;
  y0: number;
  cols: number;
  rows: number;
  /** Each component's raster-first pixel within the box (index y * cols + x), in label order. */
  fgSeeds: number[];
  bgSeeds: number[];
  /** Whether each background component reaches the box border (then it is no hole). */
  bgBorder: boolean[];
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    const up = parent[parent[i]!]!;
    parent[i] = up;
    i = up;
  }
  return i;
}

function label(rle: Rle): Components | undefined {
  // Foreground spans per column, in column order, rows ascending; touching spans (an empty background run
  // between them) are joined.
  const spanX: number[] = [];
  const spanY: number[] = [];
  const spanEnd: number[] = [];
  forEachColumnSpan(rle, (x, y, len) => {
    const last = spanX.length - 1;
    if (last >= 0 && spanX[last] === x && spanEnd[last] === y) spanEnd[last] = y + len;
    else {
      spanX.push(x);
      spanY.push(y);
      spanEnd.push(y + len);
    }
  });
  const nSpans = spanX.length;
  if (nSpans === 0) return undefined;
  const x0 = spanX[0]!;
  const cols = spanX[nSpans - 1]! - x0 + 1;
  let y0 = Infinity;
  let y1 = 0;
  for (let s = 0; s < nSpans; s++) {
    if (spanY[s]! < y0) y0 = spanY[s]!;
    if (spanEnd[s]! > y1) y1 = spanEnd[s]!;
  }
  const rows = y1 - y0;

  // Runs covering every column of the box: at most one background run before and after each span.
  const cap = 2 * nSpans + cols;
  const runCol = new Int32Array(cap);
  const runStart = new Int32Array(cap);
  const runEnd = new Int32Array(cap);
  const runFg = new Uint8Array(cap);
  const colFirst = new Int32Array(cols + 1);
  let nRuns = 0;
  const addRun = (c: number, start: number, end: number, fg: number) => {
    runCol[nRuns] = c;
    runStart[nRuns] = start;
    runEnd[nRuns] = end;
    runFg[nRuns] = fg;
    nRuns++;
  };
  let s = 0;
  for (let c = 0; c < cols; c++) {
    colFirst[c] = nRuns;
    let row = 0;
    while (s < nSpans && spanX[s]! - x0 === c) {
      const a = spanY[s]! - y0;
      const b = spanEnd[s]! - y0;
      if (a > row) addRun(c, row, a, 0);
      addRun(c, a, b, 1);
      row = b;
      s++;
    }
    if (row < rows) addRun(c, row, rows, 0);
  }
  colFirst[cols] = nRuns;

  // Join runs of one colour in neighbouring columns: foreground 4-connected (rows overlap), background
  // 8-connected (rows overlap or meet at a corner).
  const parent = new Int32Array(nRuns);
  for (let r = 0; r < nRuns; r++) parent[r] = r;
  for (let c = 1; c < cols; c++) {
    let p = colFirst[c - 1]!;
    const pEnd = colFirst[c]!;
    for (let r = colFirst[c]!; r < colFirst[c + 1]!; r++) {
      const fg = runFg[r]!;
      const lo = fg ? runStart[r]! : runStart[r]! - 1;
      const hi = fg ? runEnd[r]! : runEnd[r]! + 1;
      while (p < pEnd && runEnd[p]! <= runStart[r]! - 1) p++;
      for (let q = p; q < pEnd && runStart[q]! < hi; q++) {
        if (runFg[q] !== fg || runEnd[q]! <= lo) continue;
        const a = find(parent, r);
        const b = find(parent, q);
        if (a !== b) parent[a < b ? b : a] = a < b ? a : b;
      }
    }
  }

  // Each component's seed (raster-first pixel) and border flag, then labels in seed order.
  const seed = new Float64Array(nRuns).fill(Infinity);
  const border = new Uint8Array(nRuns);
  for (let r = 0; r < nRuns; r++) {
    const root = find(parent, r);
    const first = runStart[r]! * cols + runCol[r]!;
    if (first < seed[root]!) seed[root] = first;
    if (!runFg[r] && (runCol[r] === 0 || runCol[r] === cols - 1 || runStart[r] === 0 || runEnd[r] === rows)) border[root] = 1;
  }
  const fgRoots: number[] = [];
  const bgRoots: number[] = [];
  for (let r = 0; r < nRuns; r++) if (parent[r] === r) (runFg[r] ? fgRoots : bgRoots).push(r);
  const bySeed = (a: number, b: number) => seed[a]! - seed[b]!;
  fgRoots.sort(bySeed);
  bgRoots.sort(bySeed);
  const labelOf = new Int32Array(nRuns);
  fgRoots.forEach((root, i) => (labelOf[root] = i + 1));
  bgRoots.forEach((root, i) => (labelOf[root] = -(i + 1)));

  if (labelScratch.length < cols * rows) labelScratch = new Int32Array(Math.max(cols * rows, 2 * labelScratch.length));
  const labels = labelScratch;
  for (let r = 0; r < nRuns; r++) {
    const base = runCol[r]! * rows;
    labels.fill(labelOf[find(parent, r)]!, base + runStart[r]!, base + runEnd[r]!);
  }
  return {
    labels,
    x0,
    y0,
    cols,
    rows,
    fgSeeds: fgRoots.map((r) => seed[r]!),
    bgSeeds: bgRoots.map((r) => seed[r]!),
    bgBorder: bgRoots.map((r) => border[r] === 1),
  };
}

/**
 * Follow the boundary of component `lab` from the top-left corner of its raster-first pixel `seed` (index
 * y * cols + x in the box); vertices come out in image coordinates.
 */
function trace(box: Components, seed: number, lab: number, eight: boolean): number[] {
  const { labels, cols, rows, x0, y0 } = box;
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < cols && y < rows && labels[x * rows + y] === lab;
  const sy = (seed / cols) | 0;
  const sx = seed - sy * cols;
  const pts: number[] = [sx + x0, sy + y0];
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
    if (nd !== d) pts.push(cx + x0, cy + y0);
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
  return polygonsOf(encode(mask), options, "maskToPolygons");
}

/**
 * `maskToPolygons` of an RLE mask, without decoding it: the same polygons, at a cost that follows the runs
 * and the box of the mask's pixels rather than the image size.
 */
export function rleToPolygons(rle: Rle, options: MaskToPolygonsOptions = {}): MaskPolygon[] {
  const total = runsTotal(rle);
  if (total !== rle.height * rle.width) {
    throw new GearSegError(`rleToPolygons: RLE counts sum to ${total} but its size ${rle.height}x${rle.width} has ${rle.height * rle.width} pixels`);
  }
  return polygonsOf(rle, options, "rleToPolygons");
}

function polygonsOf(rle: Rle, options: MaskToPolygonsOptions, what: string): MaskPolygon[] {
  const minPoints = options.minPoints ?? 3;
  const eps = options.simplify ?? 0;
  if (!(eps >= 0)) throw new GearSegError(`${what}: simplify must be >= 0, got ${eps}`);
  const box = label(rle);
  if (!box) return [];
  const { labels, fgSeeds, bgSeeds, bgBorder, cols, rows } = box;
  const result: (MaskPolygon | null)[] = fgSeeds.map((seed, i) => {
    const outer = simplifyClosed(trace(box, seed, i + 1, false), eps);
    return outer.length / 2 >= minPoints ? { outer, holes: [] } : null;
  });
  for (let i = 0; i < bgSeeds.length; i++) {
    if (bgBorder[i]) continue;
    const seed = bgSeeds[i]!;
    // The pixel above a hole's raster-first pixel belongs to the component that encloses it.
    const sy = (seed / cols) | 0;
    const owner = result[labels[(seed - sy * cols) * rows + sy - 1]! - 1];
    if (!owner) continue;
    const hole = simplifyClosed(trace(box, seed, -(i + 1), true), eps);
    if (hole.length / 2 >= minPoints) owner.holes.push(hole);
  }
  return result.filter((r): r is MaskPolygon => r !== null);
}
