/**
 * Polygons and boxes → RLE, exactly as pycocotools: rleFrPoly and rleFrBbox in cocodataset/cocoapi
 * `common/maskApi.c`, and `frPyObjects` in `PythonAPI/pycocotools/_mask.pyx`.
 *
 * rleFrPoly is not a scanline fill: it scales the vertices by 5 (rounding each with C's truncating
 * `(int)(v*5 + .5)`), draws every edge as a dense digital line on that grid, keeps the points where the
 * line crosses a pixel-column centre (x + 0.5 in polygon coordinates), and turns each of those into a
 * boundary row ceil(y/5-ish) in that column; sorted, these boundaries are the column-major run starts.
 * So pixel (col, row) is inside roughly when its centre (col + 0.5, row + 0.5) is inside the polygon.
 */
import { GearSegError } from "../util/errors.js";
import { emptyRle, merge } from "./rle.js";
import type { BBox, FlatPolygon, Rle } from "./types.js";

function checkSize(height: number, width: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new GearSegError(`${what}: size must be two non-negative integers, got ${height}x${width}`);
  }
}

/** Rasterise one flat polygon [x0, y0, x1, y1, ...] as rleFrPoly (an odd trailing number is ignored). */
export function fromPolygon(poly: FlatPolygon, height: number, width: number): Rle {
  checkSize(height, width, "fromPolygon");
  const k = Math.floor(poly.length / 2);
  for (let i = 0; i < 2 * k; i++) {
    if (typeof poly[i] !== "number" || !Number.isFinite(poly[i])) {
      throw new GearSegError(`fromPolygon: coordinate ${i} is not a finite number`);
    }
  }
  if (k === 0) return emptyRle(height, width);
  const h = height;
  const w = width;
  const scale = 5;
  // Upsampled vertices, closed.
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * poly[j * 2]! + 0.5);
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * poly[j * 2 + 1]! + 0.5);
  x[k] = x[0]!;
  y[k] = y[0]!;
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j]! - x[j + 1]!), Math.abs(y[j]! - y[j + 1]!)) + 1;
  // Dense points along every edge; each edge is walked from its start point, whichever way it was drawn.
  const u = new Int32Array(m);
  const v = new Int32Array(m);
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j]!;
    let xe = x[j + 1]!;
    let ys = y[j]!;
    let ye = y[j + 1]!;
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    // dx = dy = 0 gives NaN as in C; that point's v is never read (its neighbours share its u).
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // Crossings of pixel-column centres, downsampled to (column, first row below the edge).
  const total = m;
  const bx = new Int32Array(total);
  const by = new Int32Array(total);
  let nb = 0;
  for (let j = 1; j < total; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j]! < v[j - 1]! ? v[j]! : v[j - 1]!;
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    bx[nb] = xd;
    by[nb] = yd;
    nb++;
  }
  // Boundary positions (column-major), sorted; differences are the runs; empty runs are folded away.
  const a = new Float64Array(nb + 1);
  for (let j = 0; j < nb; j++) a[j] = bx[j]! * h + by[j]!;
  a[nb] = h * w;
  a.sort();
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]!;
    a[j] = t - prev;
    prev = t;
  }
  const b = new Uint32Array(a.length);
  let j = 0;
  let nbOut = 0;
  b[nbOut++] = a[j++]!;
  while (j < a.length) {
    if (a[j]! > 0) b[nbOut++] = a[j++]!;
    else {
      j++;
      if (j < a.length) b[nbOut - 1]! += a[j++]!;
    }
  }
  return { height: h, width: w, counts: b.slice(0, nbOut) };
}

/** A box [x, y, w, h] as rleFrBbox: the polygon of its four corners, rasterised by rleFrPoly. */
export function fromBbox(bbox: BBox, height: number, width: number): Rle {
  const [bx, by, bw, bh] = bbox;
  const xe = bx + bw;
  const ye = by + bh;
  return fromPolygon([bx, by, bx, ye, xe, ye, xe, by], height, width);
}

/**
 * The union of several polygons of one object, as pycocotools' annToRLE does for a polygon list:
 * `frPyObjects(polys, h, w)` then `merge`. Like frPyObjects, a list whose first entry has exactly 4
 * numbers is read as a list of [x, y, w, h] boxes; a first entry with fewer than 4 numbers is rejected.
 * An empty list gives an empty mask (pycocotools raises).
 */
export function fromPolygons(polys: FlatPolygon[], height: number, width: number): Rle {
  checkSize(height, width, "fromPolygons");
  if (polys.length === 0) return emptyRle(height, width);
  const first = polys[0]!.length;
  let rles: Rle[];
  if (first === 4) {
    rles = polys.map((p, i) => {
      if (p.length !== 4) throw new GearSegError(`fromPolygons: entry ${i} has ${p.length} numbers but entry 0 is a 4-number box`);
      return fromBbox(p as BBox, height, width);
    });
  } else if (first > 4) {
    rles = polys.map((p) => fromPolygon(p, height, width));
  } else {
    throw new GearSegError(`fromPolygons: polygon 0 has ${first} numbers; a polygon needs at least 6`);
  }
  return merge(rles, false);
}
