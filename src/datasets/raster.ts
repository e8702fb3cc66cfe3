/**
 * OpenCV's polygon rasterisation for 8-bit single-channel images, for integer points (shift = 0), as LISA
 * draws ReasonSeg ground truth with `cv2.polylines(mask, pts, True, value, 1)` and `cv2.fillPoly(mask, pts,
 * value)`.
 *
 * Port of opencv/opencv `modules/imgproc/src/drawing.cpp` (4.x): `clipLine` (the double-precision variant),
 * `LineIterator` (8-connected, left to right), `Line`, `PolyLine` → `ThickLine` with thickness 1 and LINE_8,
 * `CollectPolyEdges` (with the "clipped endpoints" correction) and `FillEdgeCollection`. Coordinates inside
 * the fill are 16.16 fixed point as in OpenCV; JavaScript numbers hold them exactly (they stay far below
 * 2^53), and the C++ shifts and integer divisions are written as floor / truncating divisions.
 */

/** A single-channel 8-bit image, row-major. */
export interface LabelImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

const XY_SHIFT = 16;
const XY_ONE = 1 << XY_SHIFT;

/** `v >> XY_SHIFT` on a 64-bit integer (arithmetic shift = floor division). */
const shr = (v: number) => Math.floor(v / XY_ONE);

/** C++ integer division (truncates toward zero), exact for integers below 2^53. */
function idiv(a: number, b: number): number {
  let q = Math.trunc(a / b);
  // Guard against a rounding of a / b onto the next integer.
  const r = a - q * b;
  if (r !== 0 && Math.sign(r) !== Math.sign(a)) q += a > 0 === b > 0 ? -1 : 1;
  return q;
}

interface Pt {
  x: number;
  y: number;
}

/**
 * cv::clipLine(Size2l, Point2l&, Point2l&): clips the segment to [0, w-1] × [0, h-1] in place (Cohen–
 * Sutherland style, one pass as OpenCV does it); returns false when the segment lies outside.
 */
export function clipLine(width: number, height: number, p1: Pt, p2: Pt): boolean {
  if (width <= 0 || height <= 0) return false;
  const right = width - 1;
  const bottom = height - 1;
  let c1 = (p1.x < 0 ? 1 : 0) + (p1.x > right ? 2 : 0) + (p1.y < 0 ? 4 : 0) + (p1.y > bottom ? 8 : 0);
  let c2 = (p2.x < 0 ? 1 : 0) + (p2.x > right ? 2 : 0) + (p2.y < 0 ? 4 : 0) + (p2.y > bottom ? 8 : 0);
  if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
    let a: number;
    if (c1 & 12) {
      a = c1 < 8 ? 0 : bottom;
      p1.x += Math.trunc(((a - p1.y) * (p2.x - p1.x)) / (p2.y - p1.y));
      p1.y = a;
      c1 = (p1.x < 0 ? 1 : 0) + (p1.x > right ? 2 : 0);
    }
    if (c2 & 12) {
      a = c2 < 8 ? 0 : bottom;
      p2.x += Math.trunc(((a - p2.y) * (p2.x - p1.x)) / (p2.y - p1.y));
      p2.y = a;
      c2 = (p2.x < 0 ? 1 : 0) + (p2.x > right ? 2 : 0);
    }
    if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
      if (c1) {
        a = c1 === 1 ? 0 : right;
        p1.y += Math.trunc(((a - p1.x) * (p2.y - p1.y)) / (p2.x - p1.x));
        p1.x = a;
        c1 = 0;
      }
      if (c2) {
        a = c2 === 1 ? 0 : right;
        p2.y += Math.trunc(((a - p2.x) * (p2.y - p1.y)) / (p2.x - p1.x));
        p2.x = a;
        c2 = 0;
      }
    }
  }
  return (c1 | c2) === 0;
}

const outside = (p: Pt, w: number, h: number) => p.x < 0 || p.x >= w || p.y < 0 || p.y >= h;

/** cv::Line with an 8-connected LineIterator walking left to right: sets every pixel of the segment. */
export function drawLine(img: LabelImage, x0: number, y0: number, x1: number, y1: number, value: number): void {
  const { width: w, height: h, data } = img;
  const p1 = { x: x0, y: y0 };
  const p2 = { x: x1, y: y1 };
  if (outside(p1, w, h) || outside(p2, w, h)) {
    if (!clipLine(w, h, p1, p2)) return;
  }
  let dx = p2.x - p1.x;
  let dy = p2.y - p1.y;
  // left_to_right: a line going left is walked from its other end.
  if (dx < 0) {
    dx = -dx;
    dy = -dy;
    p1.x = p2.x;
    p1.y = p2.y;
  }
  let ystep = 1;
  if (dy < 0) {
    dy = -dy;
    ystep = -1;
  }
  // Major axis steps every pixel ("minus" step); the minor axis steps when err < 0 ("plus" step).
  let majX = 1;
  let majY = 0;
  let minX = 0;
  let minY = ystep;
  if (dy > dx) {
    const t = dx;
    dx = dy;
    dy = t;
    majX = 0;
    majY = ystep;
    minX = 1;
    minY = 0;
  }
  let err = dx - (dy + dy);
  const plusDelta = dx + dx;
  const minusDelta = -(dy + dy);
  const count = dx + 1;
  let x = p1.x;
  let y = p1.y;
  for (let i = 0; i < count; i++) {
    data[y * w + x] = value;
    if (err < 0) {
      err += minusDelta + plusDelta;
      x += majX + minX;
      y += majY + minY;
    } else {
      err += minusDelta;
      x += majX;
      y += majY;
    }
  }
}

/**
 * Integer points from a list of [x, y] pairs as `np.array(points, dtype=np.int32)` makes them: each
 * coordinate truncated toward zero.
 */
export function truncatePoints(points: readonly (readonly number[])[]): Int32Array {
  const out = new Int32Array(points.length * 2);
  points.forEach((p, i) => {
    out[2 * i] = Math.trunc(p[0]!);
    out[2 * i + 1] = Math.trunc(p[1]!);
  });
  return out;
}

/** cv2.polylines(img, [pts], isClosed, value, thickness=1, lineType=LINE_8). `pts` is flat [x0, y0, ...]. */
export function polylines(img: LabelImage, pts: Int32Array, closed: boolean, value: number): void {
  const n = pts.length >> 1;
  if (n <= 0) return;
  // PolyLine: a closed polyline starts with the segment from the last point to the first.
  let i = closed ? n - 1 : 0;
  let x0 = pts[2 * i]!;
  let y0 = pts[2 * i + 1]!;
  for (i = closed ? 0 : 1; i < n; i++) {
    const x = pts[2 * i]!;
    const y = pts[2 * i + 1]!;
    drawLine(img, x0, y0, x, y, value);
    x0 = x;
    y0 = y;
  }
}

interface PolyEdge {
  y0: number;
  y1: number;
  x: number;
  dx: number;
  next: PolyEdge | null;
}

/** CollectPolyEdges for shift = 0, offset = (0, 0), LINE_8: draws each edge and records the fill edges. */
function collectPolyEdges(img: LabelImage, pts: Int32Array, value: number, edges: PolyEdge[]): void {
  const n = pts.length >> 1;
  const { width: w, height: h } = img;
  let pt0x = pts[2 * (n - 1)]! * XY_ONE;
  let pt0y = pts[2 * (n - 1) + 1]!;
  for (let i = 0; i < n; i++) {
    const pt1x = pts[2 * i]! * XY_ONE;
    const pt1y = pts[2 * i + 1]!;
    let pt0cy = pt0y;
    let pt1cy = pt1y;
    const t0 = { x: shr(pt0x + (XY_ONE >> 1)), y: pt0y };
    const t1 = { x: shr(pt1x + (XY_ONE >> 1)), y: pt1y };
    drawLine(img, t0.x, t0.y, t1.x, t1.y, value);
    // "use clipped endpoints to create a more accurate PolyEdge"
    if (outside(t0, w, h) || outside(t1, w, h)) {
      clipLine(w, h, t0, t1);
      if (t0.y !== t1.y) {
        pt0cy = t0.y;
        pt1cy = t1.y;
      }
    }
    const pt0cx = t0.x * XY_ONE;
    const pt1cx = t1.x * XY_ONE;
    if (pt0y !== pt1y) {
      const dx = idiv(pt1cx - pt0cx, pt1cy - pt0cy);
      if (pt0y < pt1y) edges.push({ y0: pt0y, y1: pt1y, x: pt0cx + (pt0y - pt0cy) * dx, dx, next: null });
      else edges.push({ y0: pt1y, y1: pt0y, x: pt1cx + (pt1y - pt1cy) * dx, dx, next: null });
    }
    pt0x = pt1x;
    pt0y = pt1y;
  }
}

/** FillEdgeCollection: scanline fill between pairs of active edges, x in 16.16 fixed point. */
function fillEdgeCollection(img: LabelImage, edges: PolyEdge[], value: number): void {
  const { width: w, height: h, data } = img;
  const total = edges.length;
  if (total < 2) return;
  const delta = XY_ONE - 1;
  let yMax = -Infinity;
  let yMin = Infinity;
  let xMax = -Infinity;
  let xMin = Infinity;
  for (const e1 of edges) {
    const x1 = e1.x + (e1.y1 - e1.y0) * e1.dx;
    yMin = Math.min(yMin, e1.y0);
    yMax = Math.max(yMax, e1.y1);
    xMin = Math.min(xMin, e1.x, x1);
    xMax = Math.max(xMax, e1.x, x1);
  }
  if (yMax < 0 || yMin >= h || xMax < 0 || xMin >= w * XY_ONE) return;
  // CmpEdges: by y0, then x, then dx.
  edges.sort((a, b) => (a.y0 !== b.y0 ? a.y0 - b.y0 : a.x !== b.x ? a.x - b.x : a.dx - b.dx));
  const sentinel: PolyEdge = { y0: Number.MAX_SAFE_INTEGER, y1: 0, x: 0, dx: 0, next: null };
  edges.push(sentinel);
  const tmp: PolyEdge = { y0: 0, y1: 0, x: 0, dx: 0, next: null };
  let i = 0;
  let e = edges[0]!;
  yMax = Math.min(yMax, h);
  for (let y = e.y0; y < yMax; y++) {
    let draw = false;
    const clipline = y < 0;
    let prelast: PolyEdge = tmp;
    let last: PolyEdge | null = tmp.next;
    while (last || e.y0 === y) {
      if (last && last.y1 === y) {
        // the edge ends on this row: drop it from the active list
        prelast.next = last.next;
        last = last.next;
        continue;
      }
      const keepPrelast: PolyEdge = prelast;
      if (last && (e.y0 > y || last.x < e.x)) {
        prelast = last;
        last = last.next;
      } else if (i < total) {
        // the next edge starts on this row: insert it
        prelast.next = e;
        e.next = last;
        prelast = e;
        e = edges[++i]!;
      } else break;
      if (draw) {
        if (!clipline) {
          let x1: number;
          let x2: number;
          if (keepPrelast.x > prelast.x) {
            x1 = shr(prelast.x + delta);
            x2 = shr(keepPrelast.x);
          } else {
            x1 = shr(keepPrelast.x + delta);
            x2 = shr(prelast.x);
          }
          if (x1 < w && x2 >= 0) {
            if (x1 < 0) x1 = 0;
            if (x2 >= w) x2 = w - 1;
            if (x2 >= x1) data.fill(value, y * w + x1, y * w + x2 + 1);
          }
        }
        keepPrelast.x += keepPrelast.dx;
        prelast.x += prelast.dx;
      }
      draw = !draw;
    }
    // keep the active list sorted by x (bubble sort, as OpenCV)
    let keep: PolyEdge | null = null;
    do {
      prelast = tmp;
      last = tmp.next;
      let lastExchange: PolyEdge | null = null;
      while (last !== keep && last!.next !== null) {
        const te: PolyEdge = last!.next;
        if (last!.x > te.x) {
          prelast.next = te;
          last!.next = te.next;
          te.next = last;
          prelast = te;
          lastExchange = prelast;
        } else {
          prelast = last!;
          last = te;
        }
      }
      if (lastExchange === null) break;
      keep = lastExchange;
    } while (keep !== tmp.next && keep !== tmp);
  }
}

/** cv2.fillPoly(img, [pts], value) with LINE_8, shift 0: the outline is drawn too, as OpenCV does. */
export function fillPoly(img: LabelImage, pts: Int32Array, value: number): void {
  if (pts.length < 2) return;
  const edges: PolyEdge[] = [];
  collectPolyEdges(img, pts, value, edges);
  fillEdgeCollection(img, edges, value);
}
