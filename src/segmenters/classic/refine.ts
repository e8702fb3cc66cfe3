/**
 * Atoms at full resolution: the working-size atom map carried back to the photo's own pixels, with every
 * boundary placed where the photo's colours put it (no stairs from upsampling).
 *
 * A full-resolution pixel whose working pixel has the same atom all around (its 3×3 working neighbourhood)
 * simply takes that atom. Near an atom boundary the working pixels are area averages of both sides, so the
 * pixel instead takes the atom, among those of the 3×3 neighbourhood, that minimises
 *   (distance from the pixel's colour to the atom's mean colour)² + SPATIAL · (1 − the atom's bilinear weight),
 * the bilinear weight being the share of the four surrounding working pixel centres (bilinearly weighted) that
 * carry the atom. Colour decides wherever the two sides differ (a joint bilateral upsampling of the label map,
 * reduced to its nearest colour); where they do not, the weights put the boundary on the bilinear 0.5 contour,
 * a smooth line instead of the stairs of nearest-neighbour upsampling. Colours are compared as sRGB bytes,
 * which is roughly perceptual and needs no conversion per pixel.
 *
 * The result is kept as runs down each full-resolution column (column-major, as COCO RLE), so encoding a
 * proposal reads only the runs of the columns in its box.
 */
import type { RgbImage } from "../../image/types.js";
import type { WorkingImage } from "./working-image.js";

/**
 * Squared sRGB distance (0..255 per channel) that a candidate atom pays for having none of the bilinear weight
 * at the pixel; all of it costs 0. About a difference of 32 levels: stronger edges are placed by colour, weaker
 * ones (and single noisy pixels) follow the smooth bilinear contour.
 */
const SPATIAL = 1000;

export interface AtomRuns {
  /** Full-resolution size. */
  width: number;
  height: number;
  /** Runs of column X are colStart[X] .. colStart[X + 1] - 1. */
  colStart: Int32Array;
  /** First row of each run; it ends where the next run of its column starts (or at the bottom). */
  runY: Int32Array;
  runAtom: Int32Array;
}

/** For a monotone full→working map, first[i] = first full index mapping to working index >= i (first[n] = full). */
export function firstIndex(map: Int32Array, small: number): Int32Array {
  const first = new Int32Array(small + 1).fill(map.length);
  for (let i = map.length - 1; i >= 0; i--) first[map[i]!] = i;
  for (let i = small - 1; i >= 0; i--) if (first[i]! > first[i + 1]!) first[i] = first[i + 1]!;
  return first;
}

/** Linear → sRGB byte scale (0..255, not rounded). */
function linearToSrgb(v: number): number {
  const c = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
  return 255 * (c < 0 ? 0 : c > 1 ? 1 : c);
}

/** Mean colour of each atom over its working pixels (linear light), as sRGB 0..255, interleaved r, g, b. */
export function atomColours(linear: Float32Array, atomLabel: Int32Array, count: number): Float32Array {
  const n = atomLabel.length;
  const sum = new Float64Array(3 * count);
  const px = new Float64Array(count);
  for (let q = 0; q < n; q++) {
    const a = atomLabel[q]!;
    sum[3 * a] += linear[q]!;
    sum[3 * a + 1] += linear[q + n]!;
    sum[3 * a + 2] += linear[q + 2 * n]!;
    px[a]! += 1;
  }
  const out = new Float32Array(3 * count);
  for (let a = 0; a < count; a++) {
    const c = px[a]! || 1;
    out[3 * a] = linearToSrgb(sum[3 * a]! / c);
    out[3 * a + 1] = linearToSrgb(sum[3 * a + 1]! / c);
    out[3 * a + 2] = linearToSrgb(sum[3 * a + 2]! / c);
  }
  return out;
}

/**
 * For every working pixel whose 3×3 neighbourhood holds more than one atom, the distinct atoms there
 * (cands[candStart[q] .. candStart[q + 1])); other pixels get an empty list.
 */
function boundaryCandidates(atomLabel: Int32Array, w: number, h: number): { candStart: Int32Array; cands: Int32Array } {
  const n = w * h;
  const candStart = new Int32Array(n + 1);
  let cands = new Int32Array(Math.max(64, n >> 1));
  let k = 0;
  for (let y = 0; y < h; y++) {
    const y0 = y > 0 ? y - 1 : 0;
    const y1 = y < h - 1 ? y + 1 : h - 1;
    for (let x = 0; x < w; x++) {
      const q = y * w + x;
      candStart[q] = k;
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < w - 1 ? x + 1 : w - 1;
      if (k + 9 > cands.length) {
        const bigger = new Int32Array(cands.length * 2);
        bigger.set(cands);
        cands = bigger;
      }
      const first = k;
      for (let yy = y0; yy <= y1; yy++) {
        for (let xx = x0; xx <= x1; xx++) {
          const b = atomLabel[yy * w + xx]!;
          let seen = false;
          for (let i = first; i < k; i++) {
            if (cands[i] === b) {
              seen = true;
              break;
            }
          }
          if (!seen) cands[k++] = b;
        }
      }
      if (k - first === 1) k = first; // one atom all around: not a boundary pixel
    }
  }
  candStart[n] = k;
  return { candStart, cands: cands.subarray(0, k) };
}

/** Working-pixel coordinate of each full-resolution pixel centre along one axis. */
function centres(full: number, small: number): Float32Array {
  const out = new Float32Array(full);
  const ratio = small / full;
  for (let i = 0; i < full; i++) out[i] = (i + 0.5) * ratio - 0.5;
  return out;
}

/** Lower bilinear support index along one axis, clamped to [0, small - 2] (0 for a 1-pixel axis). */
function supportIndex(c: Float32Array, small: number): Int32Array {
  const out = new Int32Array(c.length);
  const hi = Math.max(0, small - 2);
  for (let i = 0; i < c.length; i++) {
    const f = Math.floor(c[i]!);
    out[i] = f < 0 ? 0 : f > hi ? hi : f;
  }
  return out;
}

class RunWriter {
  runY = new Int32Array(1 << 16);
  runAtom = new Int32Array(1 << 16);
  n = 0;
  push(y: number, atom: number): void {
    if (this.n === this.runY.length) {
      const y2 = new Int32Array(this.n * 2);
      y2.set(this.runY);
      this.runY = y2;
      const a2 = new Int32Array(this.n * 2);
      a2.set(this.runAtom);
      this.runAtom = a2;
    }
    this.runY[this.n] = y;
    this.runAtom[this.n++] = atom;
  }
}

/** The refined atoms of the full-resolution pixels of one working pixel's rows in column X (a boundary pixel). */
function refineRows(
  out: RunWriter,
  current: number,
  src: Uint8Array,
  W: number,
  X: number,
  Y0: number,
  Y1: number,
  cands: Int32Array,
  c0: number,
  c1: number,
  colours: Float32Array,
  atomLabel: Int32Array,
  w: number,
  sx: number,
  tx: number,
  supY: Int32Array,
  cy: Float32Array,
  h: number,
): number {
  const sx1 = sx + 1 < w ? sx + 1 : sx;
  for (let Y = Y0; Y < Y1; Y++) {
    const sy = supY[Y]!;
    const sy1 = sy + 1 < h ? sy + 1 : sy;
    let ty = cy[Y]! - sy;
    ty = ty < 0 ? 0 : ty > 1 ? 1 : ty;
    const l00 = atomLabel[sy * w + sx]!, l10 = atomLabel[sy * w + sx1]!;
    const l01 = atomLabel[sy1 * w + sx]!, l11 = atomLabel[sy1 * w + sx1]!;
    const w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
    const p = 3 * (Y * W + X);
    const r = src[p]!, g = src[p + 1]!, b = src[p + 2]!;
    let best = cands[c0]!;
    let bestCost = Infinity;
    for (let i = c0; i < c1; i++) {
      const a = cands[i]!;
      const weight = (l00 === a ? w00 : 0) + (l10 === a ? w10 : 0) + (l01 === a ? w01 : 0) + (l11 === a ? w11 : 0);
      const dr = r - colours[3 * a]!, dg = g - colours[3 * a + 1]!, db = b - colours[3 * a + 2]!;
      const cost = dr * dr + dg * dg + db * db + SPATIAL * (1 - weight);
      if (cost < bestCost) {
        bestCost = cost;
        best = a;
      }
    }
    if (best !== current) {
      out.push(Y, best);
      current = best;
    }
  }
  return current;
}

/**
 * Each working column as a short list of items, shared by the full-resolution columns that map to it: a stretch
 * of interior pixels (3×3 neighbourhood of one atom) of the same atom, as (first row, atom), or a boundary pixel,
 * as (row, −1). Columns then visit their items instead of every working row.
 */
function columnItems(atomLabel: Int32Array, candStart: Int32Array, w: number, h: number): { colItem: Int32Array; itemY: Int32Array; itemAtom: Int32Array } {
  const colItem = new Int32Array(w + 1);
  let itemY = new Int32Array(Math.max(64, (w * h) >> 3));
  let itemAtom = new Int32Array(itemY.length);
  let k = 0;
  for (let x = 0; x < w; x++) {
    colItem[x] = k;
    let last = -1; // the atom of the previous item when it is an interior stretch, else −1
    for (let y = 0; y < h; y++) {
      const q = y * w + x;
      const boundary = candStart[q] !== candStart[q + 1];
      const a = boundary ? -1 : atomLabel[q]!;
      if (a >= 0 && a === last) continue;
      if (k === itemY.length) {
        const y2 = new Int32Array(k * 2);
        y2.set(itemY);
        itemY = y2;
        const a2 = new Int32Array(k * 2);
        a2.set(itemAtom);
        itemAtom = a2;
      }
      itemY[k] = y;
      itemAtom[k++] = a;
      last = a;
    }
  }
  colItem[w] = k;
  return { colItem, itemY, itemAtom };
}

/** Runs of atoms down every full-resolution column, boundaries refined on the photo's own pixels. */
export function fullResolutionAtoms(image: RgbImage, work: WorkingImage, atomLabel: Int32Array, colours: Float32Array): AtomRuns {
  const W = image.width;
  const H = image.height;
  const { width: w, height: h, colMap } = work;
  const firstY = firstIndex(work.rowMap, h);
  const { candStart, cands } = boundaryCandidates(atomLabel, w, h);
  const { colItem, itemY, itemAtom } = columnItems(atomLabel, candStart, w, h);
  const cx = centres(W, w);
  const cy = centres(H, h);
  const supX = supportIndex(cx, w);
  const supY = supportIndex(cy, h);
  const src = image.data;
  const colStart = new Int32Array(W + 1);
  const out = new RunWriter();
  for (let X = 0; X < W; X++) {
    colStart[X] = out.n;
    const x = colMap[X]!;
    const sx = supX[X]!;
    let tx = cx[X]! - sx;
    tx = tx < 0 ? 0 : tx > 1 ? 1 : tx;
    let current = -1;
    for (let i = colItem[x]!, end = colItem[x + 1]!; i < end; i++) {
      const y = itemY[i]!;
      const a = itemAtom[i]!;
      if (a >= 0) {
        if (a !== current) {
          out.push(firstY[y]!, a);
          current = a;
        }
        continue;
      }
      const q = y * w + x;
      current = refineRows(out, current, src, W, X, firstY[y]!, firstY[y + 1]!, cands, candStart[q]!, candStart[q + 1]!, colours, atomLabel, w, sx, tx, supY, cy, h);
    }
  }
  colStart[W] = out.n;
  return { width: W, height: H, colStart, runY: out.runY.subarray(0, out.n), runAtom: out.runAtom.subarray(0, out.n) };
}
