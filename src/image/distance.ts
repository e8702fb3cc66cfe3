/**
 * Exact Euclidean distances from a mask, up to a small reach, for outlines drawn at a sub-pixel-smooth
 * distance from it. The nearest mask pixel to any outside pixel lies on the mask's border (a mask pixel
 * with a 4-neighbour outside: otherwise its neighbour towards the outside pixel would be nearer), so
 * stamping a disc of squared distances around every border pixel gives the exact distance within the
 * reach. It costs (border length) × (disc area), far less than a whole-window transform when the reach is a
 * few pixels and the mask covers most of a large picture.
 */

/** The value of pixels farther than the reach (and the largest squared reach accepted). */
export const BEYOND = 65535;

/** Offsets (dx, dy) and their squared lengths within a disc of radius `reach`, the centre excluded. */
function discOffsets(reach: number): { dx: Int16Array; dy: Int16Array; d2: Uint16Array } {
  const r = Math.floor(reach);
  const dx: number[] = [];
  const dy: number[] = [];
  const d2: number[] = [];
  for (let y = -r; y <= r; y++) {
    for (let x = -r; x <= r; x++) {
      const d = x * x + y * y;
      if (d === 0 || d > reach * reach) continue;
      dx.push(x);
      dy.push(y);
      d2.push(d);
    }
  }
  return { dx: Int16Array.from(dx), dy: Int16Array.from(dy), d2: Uint16Array.from(d2) };
}

/** Squared distances in a window (`BEYOND` past the reach) and the window pixels near the mask. */
export interface NearDistances {
  /** Row-major in the window: 0 on the mask, the squared distance within the reach, else `BEYOND`. */
  readonly d2: Uint16Array;
  /** Window indices of the pixels off the mask within the reach, each once (a band around the mask). */
  readonly band: Int32Array;
}

/**
 * For every pixel of the window [x0, x0 + w) × [y0, y0 + h): the squared distance to the nearest non-zero
 * pixel of the row-major `mask` (`width` × `height`), if it is at most `reach`; else `BEYOND`. Mask pixels
 * outside the window are not considered (make the window cover the mask's bbox plus the reach).
 */
export function squaredDistanceWithin(
  mask: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  reach: number,
): NearDistances {
  if (!(reach >= 0 && reach * reach < BEYOND)) throw new RangeError(`distance reach must be in 0..255 (got ${reach})`);
  const out = new Uint16Array(w * h).fill(BEYOND);
  // Window pixels set from the reach's "outside" value, in the order they were first set: each at most once.
  // Room for all of them from the start (pages never written are never touched), so that no rare branch
  // grows it: one first taken late threw the optimised code of the loop away.
  const band = new Int32Array(w * h);
  let count = 0;
  const { dx, dy, d2 } = discOffsets(reach);
  // Every border pixel of the mask stamps the disc of squared distances around it (the least wins).
  for (let y = 0; y < h; y++) count = stampRow(mask, width, height, x0, y0, w, h, y, dx, dy, d2, out, band, count);
  const kept = offMask(out, band, count);
  return { d2: out, band: band.subarray(0, kept) };
}

// squaredDistanceWithin's loops are functions of their own, apart from its set-up and result: its code after
// the first loop had not run when that loop was optimised, and threw the optimised code away on every call.

/** Window row y's border pixels stamp their discs: a function of its own, optimised once for all rows and
 * calls (a loop over the whole window was compiled anew at every call). */
function stampRow(
  mask: Uint8Array,
  width: number,
  height: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  y: number,
  dx: Int16Array,
  dy: Int16Array,
  d2: Uint16Array,
  out: Uint16Array,
  band: Int32Array,
  count: number,
): number {
  const n = d2.length;
  const iy = y0 + y;
  for (let x = 0; x < w; x++) {
    const ix = x0 + x;
    const p = iy * width + ix;
    if (!mask[p]) continue;
    out[y * w + x] = 0;
    const border =
      (ix > 0 && !mask[p - 1]) || (ix < width - 1 && !mask[p + 1]) || (iy > 0 && !mask[p - width]) || (iy < height - 1 && !mask[p + width]);
    if (!border) continue;
    for (let k = 0; k < n; k++) {
      const tx = x + dx[k]!;
      const ty = y + dy[k]!;
      if (tx < 0 || ty < 0 || tx >= w || ty >= h) continue;
      const o = ty * w + tx;
      const old = out[o]!;
      if (d2[k]! >= old) continue;
      if (old === BEYOND) band[count++] = o;
      out[o] = d2[k]!;
    }
  }
  return count;
}

/** Pixels stamped before the scan reached them as mask pixels were set to 0 since: keeps the band off the
 * mask (in place); returns how many are kept. */
function offMask(out: Uint16Array, band: Int32Array, count: number): number {
  let kept = 0;
  for (let i = 0; i < count; i++) if (out[band[i]!] !== 0) band[kept++] = band[i]!;
  return kept;
}
