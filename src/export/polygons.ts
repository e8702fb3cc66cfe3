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

/** Removes repeated points and middle points of straight runs. */
function dropRedundant(poly: number[]): FlatPolygon {
  let pts: [number, number][] = [];
  for (let i = 0; i < poly.length; i += 2) {
    const p: [number, number] = [poly[i]!, poly[i + 1]!];
    const last = pts[pts.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) pts.push(p);
  }
  if (pts.length > 1 && pts[0]![0] === pts[pts.length - 1]![0] && pts[0]![1] === pts[pts.length - 1]![1]) pts.pop();
  let changed = true;
  while (changed && pts.length > 2) {
    changed = false;
    const kept: [number, number][] = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[(i + pts.length - 1) % pts.length]!;
      const b = pts[i]!;
      const c = pts[(i + 1) % pts.length]!;
      const cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
      const forward = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) > 0;
      if (cross === 0 && forward) changed = true;
      else kept.push(b);
    }
    pts = kept;
  }
  return pts.flat();
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
