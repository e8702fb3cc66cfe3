/**
 * The fused post-processing kernel: bilinear upscaling of one low-resolution logits map to the crop size
 * (torch `F.interpolate(..., mode="bilinear", align_corners=False)`, as `postprocess_masks` in
 * facebookresearch/sam2 `sam2/utils/transforms.py`), the stability counts of `calculate_stability_score`
 * (`sam2/utils/amg.py`), binarisation at the mask threshold, the mask's box (`batched_mask_to_box`) and its
 * column-major RLE in the image frame (`uncrop_masks` + `mask_to_rle_pytorch`) — in one pass, without
 * materialising the upscaled map.
 *
 * Why it is exact and fast: a bilinear value is a convex combination of its (up to) four low-resolution
 * neighbours, so it can exceed a threshold only if one neighbour does. Pixels whose neighbours all lie outside
 * the box of low-resolution values above the lowest threshold are below every threshold and are skipped; so
 * are cells whose four corners all lie beyond the thresholds by a rounding margin (they are below all or
 * above all, counted as runs), and within the remaining cells, output columns whose two vertical taps do. The
 * taps are `resizeBilinear`'s own (`bilinearTaps` in src/masks/resize.ts) and the arithmetic per pixel is the
 * same, in the same order and with the same float32 roundings, so the counts and masks equal those of upscaling
 * everything. Where the two taps of a segment lie on either side of zero the values are monotone down it, so
 * the pixels past the last threshold are counted without computing them; and a mask whose stability score can
 * no longer reach the caller's threshold is given up as soon as that is certain.
 */
import { bilinearTaps, type BilinearTaps } from "../../masks/resize.js";
import type { Rle } from "../../masks/types.js";

const f32 = Math.fround;

/** Cell class from the OR of its corners' codes: 0 = below every threshold, 2 = above all, 1 = mixed. */
const CELL_CLASS = Uint8Array.of(0, 2, 0, 1);

const keyScratch = new Float32Array(1);
const keyBits = new Int32Array(keyScratch.buffer);
/** An int32 whose order is the order of float32 values (for non-NaN values), from their bits. */
function orderKey(x: number): number {
  keyScratch[0] = x;
  const b = keyBits[0]!;
  return b ^ ((b >> 31) & 0x7fffffff);
}
/** The float32 bits of a non-negative bound. */
function boundBits(x: number): number {
  keyScratch[0] = x;
  return keyBits[0]!;
}

/**
 * The coding pass of `UpscaleKernel.run` over one map: each value's 2-bit threshold code (see there) from the
 * order keys of its float32 bits, halved (`kLo`, `kHi` are the halved keys of the two bounds). Writes the
 * column and row extents of the values with bit 0 set to `extent` ([x0, x1, y0, y1]; x1 = −1 when none) and
 * returns the largest magnitude's bits.
 */
function codeLogits(bits: Int32Array, offset: number, lowH: number, lowW: number, kLo: number, kHi: number, codes: Uint8Array, extent: Int32Array): number {
  let rx0 = lowW;
  let rx1 = -1;
  let ry0 = lowH;
  let ry1 = -1;
  let absMax = 0;
  for (let r = 0; r < lowH; r++) {
    const base = offset + r * lowW;
    const cb = r * lowW - base;
    const end = base + lowW;
    let any = 0;
    for (let i = base; i < end; i++) {
      const b = bits[i]!;
      const key = (b ^ ((b >> 31) & 0x7fffffff)) >> 1;
      const k = ((kLo - key) >>> 31) | (((key - kHi) >>> 31) << 1);
      codes[cb + i] = k;
      any |= k;
      const ab = b & 0x7fffffff;
      if (ab > absMax) absMax = ab;
    }
    if (any & 1) {
      const rb = r * lowW;
      let first = 0;
      while (!(codes[rb + first]! & 1)) first++;
      let last = lowW - 1;
      while (!(codes[rb + last]! & 1)) last--;
      if (r < ry0) ry0 = r;
      ry1 = r;
      if (first < rx0) rx0 = first;
      if (last > rx1) rx1 = last;
    }
  }
  extent[0] = rx0;
  extent[1] = rx1;
  extent[2] = ry0;
  extent[3] = ry1;
  return absMax;
}

/** Source taps of torch's bilinear resize (align_corners=False) for one axis (`bilinearTaps`, shared with
 * `resizeBilinear`), with the index ranges the kernel skips by. */
export interface AxisTaps extends BilinearTaps {
  readonly inSize: number;
  readonly outSize: number;
  /** For each source index r: the first output whose taps reach r (i1 ≥ r) and the last (i0 ≤ r). */
  readonly firstOut: Int32Array;
  readonly lastOut: Int32Array;
  /** For each source index r: the outputs whose first tap is r are [runStart[r], runEnd[r]) (i0 is monotone). */
  readonly runStart: Int32Array;
  readonly runEnd: Int32Array;
}

export function axisTaps(inSize: number, outSize: number): AxisTaps {
  const { i0, i1, l1, l0 } = bilinearTaps(inSize, outSize);
  const firstOut = new Int32Array(inSize).fill(outSize);
  const lastOut = new Int32Array(inSize).fill(-1);
  for (let r = 0, d = 0; r < inSize; r++) {
    while (d < outSize && i1[d]! < r) d++;
    firstOut[r] = d;
  }
  for (let r = inSize - 1, d = outSize - 1; r >= 0; r--) {
    while (d >= 0 && i0[d]! > r) d--;
    lastOut[r] = d;
  }
  // runStart[r] = first output with i0 ≥ r; runEnd[r] = 1 + last output with i0 ≤ r (so a range of source
  // indices [r0, r1] owns exactly the outputs [runStart[r0], runEnd[r1]), empty when none).
  const runStart = new Int32Array(inSize);
  const runEnd = new Int32Array(inSize);
  for (let r = 0, d = 0; r < inSize; r++) {
    while (d < outSize && i0[d]! < r) d++;
    runStart[r] = d;
  }
  for (let r = inSize - 1, d = outSize - 1; r >= 0; r--) {
    while (d >= 0 && i0[d]! > r) d--;
    runEnd[r] = d + 1;
  }
  return { inSize, outSize, i0, i1, l1, l0, firstOut, lastOut, runStart, runEnd };
}

export interface KernelFrame {
  /** Low-resolution size (256 × 256 for SAM 2). */
  lowH: number;
  lowW: number;
  /** Crop size the logits are upscaled to, and where the crop sits in the image. */
  cropH: number;
  cropW: number;
  cropX0: number;
  cropY0: number;
  imageH: number;
  imageW: number;
  ty: AxisTaps;
  tx: AxisTaps;
}

export function kernelFrame(lowH: number, lowW: number, crop: [number, number, number, number], imageH: number, imageW: number): KernelFrame {
  const cropW = crop[2] - crop[0];
  const cropH = crop[3] - crop[1];
  return { lowH, lowW, cropH, cropW, cropX0: crop[0], cropY0: crop[1], imageH, imageW, ty: axisTaps(lowH, cropH), tx: axisTaps(lowW, cropW) };
}

export interface MaskStats {
  /** |v > t + offset| and |v > t − offset| over the upscaled map. */
  intersections: number;
  unions: number;
  /** Pixels with v > t. */
  area: number;
  /** Inclusive box of v > t in the crop frame; [0, 0, 0, 0] when empty. */
  box: [number, number, number, number];
}

/** Reusable buffers for one thread. */
export class UpscaleKernel {
  private column = new Float32Array(0);
  /** Runs of equal cell class down each cell column: (first row, last row, class) triples; class 0 = below
   * every threshold, 2 = safely above all, 1 = mixed (computed per pixel). */
  private runs = new Int32Array(0);
  private colRunStart = new Int32Array(0);
  private colRunEnd = new Int32Array(0);
  private colPossible = new Int32Array(0);
  /** Per low-resolution value: threshold code (see `run`). */
  private codes = new Uint8Array(0);
  /** The float32 bits of the last logits array seen. */
  private bits = new Int32Array(0);
  private bitsOf: Float32Array | null = null;
  /** Bound on the magnitudes of the logits for the rounding margin (grows to the largest seen). */
  private bound = 256;
  private transitions = new Uint32Array(1 << 12);
  private nTransitions = 0;
  private readonly extent = new Int32Array(4);

  private pushTransition(p: number): void {
    // A run that would end where the next starts (a column ending at the image bottom, the next starting at
    // its top) is one run: cancel instead of recording an empty run.
    if (this.nTransitions > 0 && this.transitions[this.nTransitions - 1] === p) {
      this.nTransitions--;
      return;
    }
    if (this.nTransitions === this.transitions.length) {
      const next = new Uint32Array(this.transitions.length * 2);
      next.set(this.transitions);
      this.transitions = next;
    }
    this.transitions[this.nTransitions++] = p;
  }

  /**
   * Upscales `low[offset .. offset + lowH·lowW)` and returns the stability counts, area and box of the
   * mask at `threshold`; call `rle()` afterwards for its RLE in the image frame.
   *
   * With `minStability`, the work stops (and null is returned) as soon as the stability score
   * f32(intersections / unions) can no longer reach it; `rle()` is then not to be called.
   */
  run(low: Float32Array, offset: number, frame: KernelFrame, threshold: number, stabilityOffset: number): MaskStats;
  run(low: Float32Array, offset: number, frame: KernelFrame, threshold: number, stabilityOffset: number, minStability: number): MaskStats | null;
  run(low: Float32Array, offset: number, frame: KernelFrame, threshold: number, stabilityOffset: number, minStability = 0): MaskStats | null {
    const { lowH, lowW, ty, tx, cropX0, cropY0, imageH } = frame;
    const thrHi = threshold + stabilityOffset;
    const thrLo = threshold - stabilityOffset;
    const lowest = Math.min(thrHi, thrLo, threshold);
    const highest = Math.max(thrHi, thrLo, threshold);
    this.nTransitions = 0;
    const stats: MaskStats = { intersections: 0, unions: 0, area: 0, box: [0, 0, 0, 0] };
    // One pass over the map gives each low-resolution value a code: bit 0 = above (lowest − m), bit 1 = not
    // above (highest + m). The OR over a cell's four corners is 0 or 2 when all are at most lowest − m (class
    // 0: every interpolated value is below every threshold), 1 when all exceed highest + m (class 2: above
    // all), 3 otherwise (mixed, computed per pixel). m bounds the float32 rounding of the two interpolation
    // steps: it is 1e-5·(1 + B) for a map whose values are all within ±B, at least the per-cell margin
    // 1e-5·(1 + max |corner|); B starts at 256 and, when a map exceeds it, becomes the next power of two above
    // that map's largest magnitude (the map is coded again, and later maps start there).
    // Rows and columns holding a value with bit 0 give the box outside whose reach all outputs are below
    // every threshold (a superset of the box of values above `lowest`).
    if (this.codes.length < lowH * lowW) this.codes = new Uint8Array(lowH * lowW);
    const codes = this.codes;
    if (this.bitsOf !== low) {
      this.bits = new Int32Array(low.buffer as ArrayBuffer, low.byteOffset, low.length);
      this.bitsOf = low;
    }
    const bits = this.bits;
    let bound = this.bound;
    let rx0 = lowW;
    let rx1 = -1;
    let ry0 = lowH;
    let ry1 = -1;
    let m = 0;
    for (;;) {
      m = 1e-5 * (1 + bound);
      // Branch-free codes (logits near a threshold make compares unpredictable): compare order-preserving
      // integer keys of the float32 bits, halved so the difference cannot overflow; its sign bit is the
      // comparison. Halving blurs one unit in the last place, far inside the margin m: bit 0 set ⇒ v > lo,
      // bit 0 clear ⇒ v ≤ lo + 1 ulp < lowest − m/2; bit 1 clear ⇒ v > hi.
      const kLo = orderKey(lowest - m) >> 1;
      const kHi = (orderKey(highest + m) >> 1) + 1;
      const extent = this.extent;
      const absMax = codeLogits(bits, offset, lowH, lowW, kLo, kHi, codes, extent);
      rx0 = extent[0]!;
      rx1 = extent[1]!;
      ry0 = extent[2]!;
      ry1 = extent[3]!;
      // The magnitudes' bits order as the magnitudes do (NaN above infinity).
      if (absMax <= boundBits(bound)) break;
      let maxAbs = 0;
      let nan = false;
      if (absMax > 0x7f800000) {
        for (let i = offset, e = offset + lowH * lowW; i < e; i++) {
          const a = Math.abs(low[i]!);
          if (a > maxAbs) maxAbs = a;
          else if (a !== a) nan = true;
        }
      } else {
        keyBits[0] = absMax;
        maxAbs = keyScratch[0]!;
      }
      if (maxAbs > bound) {
        // Code again with a bound above this map's largest magnitude; later maps start there (if finite).
        bound = 2 ** Math.ceil(Math.log2(maxAbs) + 1e-9);
        if (bound < Infinity) this.bound = bound;
        continue;
      }
      // NaN compares false with every threshold: mark its cells mixed so they are computed per pixel.
      if (nan) for (let i = offset, e = offset + lowH * lowW; i < e; i++) if (low[i] !== low[i]) codes[i - offset] = 3;
      break;
    }
    if (rx1 < 0) return stats;
    const x0 = tx.firstOut[rx0]!;
    const x1 = tx.lastOut[rx1]!;
    const y0 = ty.firstOut[ry0]!;
    const y1 = ty.lastOut[ry1]!;
    if (x0 > x1 || y0 > y1) return stats;
    // Output cells: the outputs whose first taps are (r, c); their values are convex combinations of the
    // corners (r, r'), (c, c') with r' = ty.i1, c' = tx.i1 of those outputs.
    const cr0 = ty.i0[y0]!;
    const cr1 = ty.i0[y1]!;
    const cc0 = tx.i0[x0]!;
    const cc1 = tx.i0[x1]!;
    const nc = cc1 - cc0 + 1;
    const nr = cr1 - cr0 + 1;
    this.ensureCells(nr * nc, lowH);
    // Runs of equal cell class down each cell column, straight from the corner codes; per cell column, the
    // output pixels of one output column that lie in cells not below every threshold (only those can count
    // towards either stability count), and their total over the box.
    const runs = this.runs;
    const colPossible = this.colPossible;
    const { runStart, runEnd } = ty;
    let possibleLeft = 0;
    let nRuns = 0;
    for (let c = cc0; c <= cc1; c++) {
      const j = c - cc0;
      const c1 = c < lowW - 1 ? c + 1 : c;
      this.colRunStart[j] = nRuns;
      let top = codes[cr0 * lowW + c]! | codes[cr0 * lowW + c1]!;
      let k = -1;
      let rs = cr0;
      let possible = 0;
      for (let r = cr0; r <= cr1; r++) {
        const rb = (r < lowH - 1 ? r + 1 : r) * lowW;
        const bottom = codes[rb + c]! | codes[rb + c1]!;
        const kk = CELL_CLASS[top | bottom]!;
        top = bottom;
        if (kk !== k) {
          if (k >= 0) {
            runs[3 * nRuns] = rs;
            runs[3 * nRuns + 1] = r - 1;
            runs[3 * nRuns + 2] = k;
            nRuns++;
            if (k !== 0) possible += Math.max(0, Math.min(runEnd[r - 1]!, y1 + 1) - Math.max(runStart[rs]!, y0));
          }
          k = kk;
          rs = r;
        }
      }
      runs[3 * nRuns] = rs;
      runs[3 * nRuns + 1] = cr1;
      runs[3 * nRuns + 2] = k;
      nRuns++;
      if (k !== 0) possible += Math.max(0, Math.min(runEnd[cr1]!, y1 + 1) - Math.max(runStart[rs]!, y0));
      this.colRunEnd[j] = nRuns;
      colPossible[j] = possible;
      // Output columns of this cell column within [x0, x1].
      possibleLeft += possible * Math.max(0, Math.min(tx.runEnd[c]!, x1 + 1) - Math.max(tx.runStart[c]!, x0));
    }
    const col = this.column;
    const segLo = lowest - m;
    const segHi = highest + m;
    const { i1: ti1, l0: tl0, l1: tl1 } = ty;
    // Stability early-out: with I, U counted so far and P pixels left that could still count, the final score
    // is at most (I + P) / (U + P) (each pixel above thrHi is also above thrLo, so I ≤ U and the remaining
    // pixels raise the ratio most when all of them count for both). When that bound is below the threshold,
    // by a relative margin far above the double rounding of the test and the float32 rounding of the score,
    // the mask fails the threshold whatever the rest holds.
    const cut = minStability > 0 ? minStability * (1 - 2 ** -20) : 0;
    let inter = 0;
    let union = 0;
    let area = 0;
    let bx0 = Infinity;
    let bx1 = -1;
    let by0 = Infinity;
    let by1 = -1;
    for (let x = x0; x <= x1; x++) {
      const a = tx.i0[x]!;
      const b = tx.i1[x]!;
      const w1 = tx.l1[x]!;
      const w0 = tx.l0[x]!;
      const j = a - cc0;
      const colBase = (x + cropX0) * imageH + cropY0;
      let on = false;
      let colFirst = -1;
      let colLast = -1;
      for (let q = this.colRunStart[j]!, qe = this.colRunEnd[j]!; q < qe; q++) {
        const rs = runs[3 * q]!;
        const re = runs[3 * q + 1]!;
        const k = runs[3 * q + 2]!;
        const ys = Math.max(runStart[rs]!, y0);
        const ye = Math.min(runEnd[re]!, y1 + 1) - 1;
        if (ys > ye) continue;
        if (k === 0) {
          if (on) {
            this.pushTransition(colBase + ys);
            on = false;
          }
        } else if (k === 2) {
          const len = ye - ys + 1;
          union += len;
          inter += len;
          area += len;
          if (!on) {
            this.pushTransition(colBase + ys);
            on = true;
          }
          if (colFirst < 0) colFirst = ys;
          colLast = ye;
        } else {
          const rTop = re < lowH - 1 ? re + 1 : re;
          for (let r = rs; r <= rTop; r++) {
            const base = offset + r * lowW;
            col[r] = w0 * low[base + a]! + w1 * low[base + b]!;
          }
          // Cell by cell: the two vertical taps are fixed within a cell.
          for (let r = rs; r <= re; r++) {
            const yA = Math.max(runStart[r]!, ys);
            const yB = Math.min(runEnd[r]!, ye + 1);
            if (yA >= yB) continue;
            const A = col[r]!;
            const B = col[ti1[yA]!]!;
            // This output column's two vertical taps decide the whole segment when both lie beyond the
            // thresholds by the rounding margin (the cell was mixed only through its other column).
            // (Written so that NaN taps fall through to the per-pixel loop.)
            if (A <= segLo && B <= segLo) {
              if (on) {
                this.pushTransition(colBase + yA);
                on = false;
              }
              continue;
            }
            if (A > segHi && B > segHi) {
              const len = yB - yA;
              union += len;
              inter += len;
              area += len;
              if (!on) {
                this.pushTransition(colBase + yA);
                on = true;
              }
              if (colFirst < 0) colFirst = yA;
              colLast = yB - 1;
              continue;
            }
            // Taps on either side of zero (finite): within a cell l1 rises and l0 falls with y, so both
            // rounded products, their rounded sum and its float32 rounding move the same way, and the values
            // are monotone down the segment. Rising, once one exceeds every threshold so do the rest;
            // falling, once one is at most the lowest so are the rest. Pixel by pixel only up to there.
            const finite = A * 0 === 0 && B * 0 === 0;
            const rising = finite && A <= 0 && B >= 0;
            const falling = finite && !rising && A >= 0 && B <= 0;
            let y = yA;
            for (; y < yB; y++) {
              const v = f32(tl0[y]! * A + tl1[y]! * B);
              if (rising ? v > highest : falling && !(v > lowest)) break;
              if (v > thrLo) union++;
              if (v > thrHi) inter++;
              const mm = v > threshold;
              if (mm !== on) {
                this.pushTransition(colBase + y);
                on = mm;
              }
              if (mm) {
                area++;
                if (colFirst < 0) colFirst = y;
                colLast = y;
              }
            }
            if (y < yB) {
              if (rising) {
                const len = yB - y;
                union += len;
                inter += len;
                area += len;
                if (!on) {
                  this.pushTransition(colBase + y);
                  on = true;
                }
                if (colFirst < 0) colFirst = y;
                colLast = yB - 1;
              } else if (on) {
                this.pushTransition(colBase + y);
                on = false;
              }
            }
          }
        }
      }
      if (on) this.pushTransition(colBase + y1 + 1);
      possibleLeft -= colPossible[j]!;
      if (inter + possibleLeft < cut * (union + possibleLeft)) return null;
      if (colFirst >= 0) {
        if (x < bx0) bx0 = x;
        bx1 = x;
        if (colFirst < by0) by0 = colFirst;
        if (colLast > by1) by1 = colLast;
      }
    }
    stats.intersections = inter;
    stats.unions = union;
    stats.area = area;
    if (bx1 >= 0) stats.box = [bx0, by0, bx1, by1];
    return stats;
  }

  private ensureCells(n: number, lowH: number): void {
    if (this.runs.length < 3 * n) this.runs = new Int32Array(3 * n);
    if (this.colRunStart.length < n) {
      this.colRunStart = new Int32Array(n);
      this.colRunEnd = new Int32Array(n);
      this.colPossible = new Int32Array(n);
    }
    if (this.column.length < lowH) this.column = new Float32Array(lowH);
  }

  /** The RLE (image frame, column-major) of the mask from the last `run`. */
  rle(imageH: number, imageW: number): Rle {
    const n = this.nTransitions;
    const t = this.transitions;
    const total = imageH * imageW;
    // A mask whose last run reaches the end has a zero-length final background run: drop it, as COCO does.
    const last = n > 0 ? t[n - 1]! : 0;
    const counts = new Uint32Array(last === total && n > 0 ? n : n + 1);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const p = t[i]!;
      counts[i] = p - prev;
      prev = p;
    }
    if (counts.length > n) counts[n] = total - prev;
    return { height: imageH, width: imageW, counts };
  }
}
