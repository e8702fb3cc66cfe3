/**
 * Mask and logit resizing.
 *
 * - resizeMaskNearest follows OpenCV's INTER_NEAREST (`resizeNN` in opencv `modules/imgproc/src/resize.cpp`):
 *   source index = floor(dst * (1 / (out / in))) in double precision, clamped to in − 1. This is what
 *   LISA / LLM-Seg's ncIoU gets from `cv2.resize(..., interpolation=cv2.INTER_NEAREST)`.
 * - resizeBilinear follows torch `F.interpolate(mode="bilinear", align_corners=False)` on CPU
 *   (`area_pixel_compute_source_index` and the linear kernel in aten/src/ATen/native/UpSample.h): source
 *   coordinate (dst + 0.5) · (in / out) − 0.5 clamped at 0, computed in float32 as torch does, and the
 *   two neighbours weighted by the fractional part.
 */
import { GearSegError } from "../util/errors.js";
import type { BinaryMask } from "./types.js";

function checkDims(h: number, w: number, what: string): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new GearSegError(`${what}: size must be two positive integers, got ${h}x${w}`);
  }
}

/** Source index per destination index, as OpenCV's resizeNN. */
function nearestIndex(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  const inv = 1 / (outSize / inSize);
  for (let d = 0; d < outSize; d++) {
    const s = Math.floor(d * inv);
    idx[d] = s < inSize - 1 ? s : inSize - 1;
  }
  return idx;
}

/** Nearest-neighbour resize of a row-major mask to height × width. */
export function resizeMaskNearest(mask: BinaryMask, height: number, width: number): BinaryMask {
  checkDims(mask.height, mask.width, "resizeMaskNearest: source");
  checkDims(height, width, "resizeMaskNearest: target");
  if (mask.data.length !== mask.height * mask.width) {
    throw new GearSegError(`resizeMaskNearest: mask data has ${mask.data.length} bytes, size says ${mask.height}x${mask.width}`);
  }
  const xi = nearestIndex(mask.width, width);
  const yi = nearestIndex(mask.height, height);
  const src = mask.data;
  const out = new Uint8Array(height * width);
  let prevSy = -1;
  for (let y = 0; y < height; y++) {
    const sy = yi[y]!;
    const o = y * width;
    if (sy === prevSy) {
      out.copyWithin(o, o - width, o); // same source row as the previous output row
      continue;
    }
    prevSy = sy;
    const r = sy * mask.width;
    for (let x = 0; x < width; x++) out[o + x] = src[r + xi[x]!]!;
  }
  return { height, width, data: out };
}

/** The taps of torch's bilinear resize (align_corners=False) along one axis, in its float32 arithmetic. */
export interface BilinearTaps {
  /** Per output index: the two source indices (i1 = i0 at the last source index). */
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  /** Weights of i1 and i0, float32 values: l0 = fround(1 - l1). */
  readonly l1: Float64Array;
  readonly l0: Float64Array;
}

/**
 * Per output index: the two source indices and their weights, as torch computes them. `resizeBilinear` and
 * SAM 2's fused upscaling kernel (src/segmenters/sam2/upscale.ts) both take their taps from here, so that the
 * kernel's masks stay equal to upscaling the whole map with `resizeBilinear`.
 */
export function bilinearTaps(inSize: number, outSize: number): BilinearTaps {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l1 = new Float64Array(outSize);
  const l0 = new Float64Array(outSize);
  for (let d = 0; d < outSize; d++) {
    let src = f(f(scale * (d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const a = Math.trunc(src);
    i0[d] = a;
    i1[d] = a < inSize - 1 ? a + 1 : a;
    l1[d] = f(src - a);
    l0[d] = f(1 - l1[d]!);
  }
  return { i0, i1, l1, l0 };
}

/**
 * Bilinear resize of one float channel (e.g. SAM's 256×256 logits) from srcH × srcW to dstH × dstW, as
 * torch's bilinear interpolation with align_corners=False. Writes into `out` when given (it must hold
 * dstH · dstW values). Results agree with torch to float32 rounding.
 */
export function resizeBilinear(
  src: Float32Array,
  srcH: number,
  srcW: number,
  dstH: number,
  dstW: number,
  out?: Float32Array,
): Float32Array {
  checkDims(srcH, srcW, "resizeBilinear: source");
  checkDims(dstH, dstW, "resizeBilinear: target");
  if (src.length !== srcH * srcW) throw new GearSegError(`resizeBilinear: source has ${src.length} values, size says ${srcH}x${srcW}`);
  const dst = out ?? new Float32Array(dstH * dstW);
  if (dst.length < dstH * dstW) throw new GearSegError(`resizeBilinear: output buffer has ${dst.length} values, needs ${dstH * dstW}`);
  const ty = bilinearTaps(srcH, dstH);
  const tx = bilinearTaps(srcW, dstW);
  // Horizontal pass for each needed source row, cached for the two rows of the current output row.
  let rowA = new Float32Array(dstW);
  let rowB = new Float32Array(dstW);
  let rowAIdx = -1;
  let rowBIdx = -1;
  const horiz = (sy: number, into: Float32Array) => {
    const base = sy * srcW;
    for (let x = 0; x < dstW; x++) {
      const w1 = tx.l1[x]!;
      into[x] = Math.fround(1 - w1) * src[base + tx.i0[x]!]! + w1 * src[base + tx.i1[x]!]!;
    }
  };
  for (let y = 0; y < dstH; y++) {
    const y0 = ty.i0[y]!;
    const y1 = ty.i1[y]!;
    if (rowAIdx !== y0) {
      if (rowBIdx === y0) {
        const t = rowA;
        rowA = rowB;
        rowB = t;
        rowAIdx = y0;
        rowBIdx = -1;
      } else {
        horiz(y0, rowA);
        rowAIdx = y0;
      }
    }
    if (rowBIdx !== y1) {
      if (y1 === y0) {
        rowB.set(rowA);
      } else {
        horiz(y1, rowB);
      }
      rowBIdx = y1;
    }
    const w1 = ty.l1[y]!;
    const w0 = Math.fround(1 - w1);
    const o = y * dstW;
    for (let x = 0; x < dstW; x++) dst[o + x] = w0 * rowA[x]! + w1 * rowB[x]!;
  }
  return dst;
}
