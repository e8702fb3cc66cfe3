/**
 * Polygons for formats whose readers rasterise with OpenCV or PIL (LISA's ReasonSeg, YOLO, LabelMe): those
 * draw the outline through the vertices' pixels and fill inside, so the polygon must run through the CENTRES
 * of the boundary pixels (what cv2.findContours returns). Our contours (src/masks rleToPolygons) follow
 * pixel corners, as pycocotools rasterises; each corner vertex of such a contour moves half a pixel along
 * both edge normals towards the traced region, which lands it on the centre of the boundary pixel at that
 * corner (integer coordinates). Thin parts become back-and-forth runs, which the outline still draws.
 */
import { rleToPolygons } from "../masks/index.js";
import type { FlatPolygon, Rle } from "../masks/types.js";

export interface CentrePolygon {
  outer: FlatPolygon;
  holes: FlatPolygon[];
}

/** A corner contour (clockwise on screen, traced region on the right) → the pixel-centre contour. */
export function cornerToCentre(poly: FlatPolygon): FlatPolygon {
  const n = poly.length / 2;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const px = poly[2 * ((i + n - 1) % n)]!;
    const py = poly[2 * ((i + n - 1) % n) + 1]!;
    const x = poly[2 * i]!;
    const y = poly[2 * i + 1]!;
    const nx = poly[2 * ((i + 1) % n)]!;
    const ny = poly[2 * ((i + 1) % n) + 1]!;
    // Unit directions of the edges in and out; their right-hand normals (y down) are (-dy, dx).
    const [ix, iy] = [Math.sign(x - px), Math.sign(y - py)];
    const [ox, oy] = [Math.sign(nx - x), Math.sign(ny - y)];
    let sx = -iy;
    let sy = ix;
    if (ix !== ox || iy !== oy) {
      sx += -oy;
      sy += ox;
    } else {
      sx *= 2;
      sy *= 2;
    }
    out.push(x + sx / 2 - 0.5, y + sy / 2 - 0.5);
  }
  return dropRedundant(out);
}

// Scratch for dropRedundant: two point lists it moves between, grown on demand and reused.
let scratch = [new Float64Array(1024), new Float64Array(1024)];

/** Removes repeated points and middle points of straight runs. */
function dropRedundant(poly: number[]): FlatPolygon {
  if (scratch[0]!.length < poly.length) scratch = [new Float64Array(2 * poly.length), new Float64Array(2 * poly.length)];
  let [pts, kept] = scratch as [Float64Array, Float64Array];
  let n = 0;
  for (let i = 0; i < poly.length; i += 2) {
    const x = poly[i]!;
    const y = poly[i + 1]!;
    if (n === 0 || pts[2 * n - 2] !== x || pts[2 * n - 1] !== y) {
      pts[2 * n] = x;
      pts[2 * n + 1] = y;
      n++;
    }
  }
  if (n > 1 && pts[0] === pts[2 * n - 2] && pts[1] === pts[2 * n - 1]) n--;
  // Each pass drops every point that lies on the straight line through its neighbours, going forward.
  let changed = true;
  while (changed && n > 2) {
    changed = false;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const a = i === 0 ? n - 1 : i - 1;
      const c = i === n - 1 ? 0 : i + 1;
      const ax = pts[2 * a]!, ay = pts[2 * a + 1]!;
      const bx = pts[2 * i]!, by = pts[2 * i + 1]!;
      const cx = pts[2 * c]!, cy = pts[2 * c + 1]!;
      const cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx);
      const forward = (bx - ax) * (cx - bx) + (by - ay) * (cy - by) > 0;
      if (cross === 0 && forward) changed = true;
      else {
        kept[2 * m] = bx;
        kept[2 * m + 1] = by;
        m++;
      }
    }
    [pts, kept] = [kept, pts];
    n = m;
  }
  return Array.from(pts.subarray(0, 2 * n));
}

/** The mask's outer contours and holes as pixel-centre polygons. */
export function centrePolygons(rle: Rle): CentrePolygon[] {
  return rleToPolygons(rle, { minPoints: 1 }).map((p) => ({ outer: cornerToCentre(p.outer), holes: p.holes.map(cornerToCentre) }));
}

/** [[x, y], ...] pairs from a flat polygon. */
export function toPointPairs(poly: FlatPolygon): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < poly.length; i += 2) out.push([poly[i]!, poly[i + 1]!]);
  return out;
}
