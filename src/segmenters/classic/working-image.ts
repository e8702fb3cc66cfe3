/**
 * The working copy the classic segmenter computes on: the image downscaled (area average) so that its long
 * side is at most `maxSide`, converted to CIELAB and lightly smoothed. `colMap`/`rowMap` say which working
 * pixel each full-resolution column/row falls into (nearest neighbour); the downscale averages exactly the
 * full-resolution pixels that map to a working pixel, so mapping masks back is consistent with it.
 */
import type { RgbImage } from "../../image/types.js";

export interface WorkingImage {
  width: number;
  height: number;
  /** Planar CIELAB (D65), `3 * width * height` floats: L plane, a plane, b plane. */
  lab: Float32Array;
  /** Planar linear RGB (the area averages the CIELAB planes are computed from), same layout. */
  linear: Float32Array;
  /** Full-resolution column → working column (length = full width). */
  colMap: Int32Array;
  /** Full-resolution row → working row (length = full height). */
  rowMap: Int32Array;
  fullWidth: number;
  fullHeight: number;
}

/** Full-resolution index → working index, nearest neighbour on pixel centres. */
function axisMap(full: number, small: number): Int32Array {
  const map = new Int32Array(full);
  const ratio = small / full;
  for (let i = 0; i < full; i++) map[i] = Math.min(small - 1, Math.floor((i + 0.5) * ratio));
  return map;
}

export const SRGB_TO_LINEAR = (() => {
  const lut = new Float32Array(256);
  for (let i = 0; i < 256; i++) {
    const c = i / 255;
    lut[i] = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  return lut;
})();

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** Linear sRGB (D65) → CIELAB, written to out[at], out[at + stride], out[at + 2 * stride]. */
export function linearRgbToLab(r: number, g: number, b: number, out: Float32Array, at: number, stride: number): void {
  // sRGB (D65) → XYZ, normalised by the D65 white point.
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  out[at] = 116 * fy - 16;
  out[at + stride] = 500 * (fx - fy);
  out[at + 2 * stride] = 200 * (fy - fz);
}

/**
 * One full-resolution row added into the working sums. A small function called per row is optimised after a
 * few rows; the loop inside makeWorkingImage ran far longer in the interpreter, a heap number per addition.
 */
function accumulateRow(src: Uint8Array, at: number, W: number, rowBase: number, colMap: Int32Array, n: number, sum: Float32Array, count: Float32Array): void {
  for (let X = 0, p = at; X < W; X++, p += 3) {
    const q = rowBase + colMap[X]!;
    sum[q] += SRGB_TO_LINEAR[src[p]!]!;
    sum[q + n] += SRGB_TO_LINEAR[src[p + 1]!]!;
    sum[q + 2 * n] += SRGB_TO_LINEAR[src[p + 2]!]!;
    count[q]! += 1;
  }
}

/**
 * Average linear RGB over each working pixel's footprint (averaging in linear light keeps edges between
 * saturated colours from producing dark seams), then convert to CIELAB.
 */
export function makeWorkingImage(image: RgbImage, maxSide: number): WorkingImage {
  const W = image.width;
  const H = image.height;
  const scale = Math.min(1, maxSide / Math.max(W, H));
  const w = Math.max(1, Math.round(W * scale));
  const h = Math.max(1, Math.round(H * scale));
  const colMap = axisMap(W, w);
  const rowMap = axisMap(H, h);
  const n = w * h;
  const sum = new Float32Array(3 * n);
  const count = new Float32Array(n);
  const src = image.data;
  for (let Y = 0; Y < H; Y++) accumulateRow(src, Y * W * 3, W, rowMap[Y]! * w, colMap, n, sum, count);
  const lab = new Float32Array(3 * n);
  for (let q = 0; q < n; q++) {
    const c = count[q]!;
    const r = sum[q]! / c;
    const g = sum[q + n]! / c;
    const b = sum[q + 2 * n]! / c;
    linearRgbToLab(r, g, b, lab, q, n);
    sum[q] = r;
    sum[q + n] = g;
    sum[q + 2 * n] = b;
  }
  return { width: w, height: h, lab, linear: sum, colMap, rowMap, fullWidth: W, fullHeight: H };
}

/**
 * One line of the separable convolution: `count` samples of `src` from `at`, `step` apart, into `dst` from `to`
 * (same step), with borders clamped. Interior samples skip the clamping; the sums are formed in the same order
 * either way (centre, then pairs outward), so the result does not depend on where a sample lies.
 */
function convolveRow(src: Float32Array, at: number, step: number, count: number, mask: Float32Array, dst: Float32Array, to: number, dstStep: number): void {
  const len = mask.length;
  const last = count - 1;
  const m0 = mask[0]!;
  for (let i = 0; i < count; i++) {
    let acc = m0 * src[at + i * step]!;
    if (i >= len - 1 && i <= last - (len - 1)) {
      for (let k = 1; k < len; k++) acc += mask[k]! * (src[at + (i - k) * step]! + src[at + (i + k) * step]!);
    } else {
      for (let k = 1; k < len; k++) {
        const l = i - k < 0 ? 0 : i - k;
        const r = i + k > last ? last : i + k;
        acc += mask[k]! * (src[at + l * step]! + src[at + r * step]!);
      }
    }
    dst[to + i * dstStep] = acc;
  }
}

/**
 * Separable Gaussian smoothing of each plane, with the kernel and clamped borders of Felzenszwalb's
 * reference code (pff segment, filter.h make_fgauss / convolve.h convolve_even: half-width ceil(4σ)+1,
 * normalised over the full symmetric kernel).
 */
export function smoothPlanes(planes: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return planes;
  const s = Math.max(sigma, 0.01);
  const len = Math.ceil(s * 4) + 1;
  const mask = new Float32Array(len);
  for (let i = 0; i < len; i++) mask[i] = Math.exp(-0.5 * (i / s) * (i / s));
  let total = 0;
  for (let i = 1; i < len; i++) total += mask[i]!;
  total = 2 * total + mask[0]!;
  for (let i = 0; i < len; i++) mask[i]! /= total;
  const n = width * height;
  const planeCount = planes.length / n;
  const tmp = new Float32Array(n);
  const out = new Float32Array(planes.length);
  for (let c = 0; c < planeCount; c++) {
    const off = c * n;
    for (let y = 0; y < height; y++) convolveRow(planes, off + y * width, 1, width, mask, tmp, y * width, 1);
    for (let x = 0; x < width; x++) convolveRow(tmp, x, width, height, mask, out, off + x, width);
  }
  return out;
}
