/**
 * Full-resolution COCO RLE of a set of atoms, read from the runs of atoms down each full-resolution column
 * (refine.ts) without materialising a mask: only the columns of the proposal's box (widened by one working
 * pixel, as far as refinement can move a boundary) are read, and consecutive member runs, in a column or
 * across the bottom of one column and the top of the next, become one foreground run.
 */
import type { BBox, Rle } from "../../masks/types.js";
import { firstIndex, type AtomRuns } from "./refine.js";

export interface EncodedMask {
  rle: Rle;
  area: number;
  bbox: BBox;
}

export class MaskEncoder {
  private readonly firstX: Int32Array;
  private readonly member: Uint8Array;
  private counts = new Uint32Array(1 << 12);

  constructor(
    private readonly runs: AtomRuns,
    atomCount: number,
    /** Working width and the full → working column map. */
    private readonly workWidth: number,
    colMap: Int32Array,
  ) {
    this.firstX = firstIndex(colMap, workWidth);
    this.member = new Uint8Array(atomCount);
  }

  /** `box` = working bbox [x0, y0, x1, y1] inclusive. */
  encode(atoms: Int32Array, box: ArrayLike<number>): EncodedMask {
    const { member, firstX, workWidth } = this;
    const { width: W, height: H, colStart, runY, runAtom } = this.runs;
    for (let i = 0; i < atoms.length; i++) member[atoms[i]!] = 1;
    const X0 = firstX[Math.max(0, box[0]! - 1)]!;
    const X1 = firstX[Math.min(workWidth, box[2]! + 2)]!;
    let counts = this.counts;
    let m = 0;
    let lastEnd = 0; // column-major position where the last foreground run ended
    let open = false; // the last foreground run ends exactly at lastEnd and may continue
    let area = 0;
    let minX = W, maxX = -1, minY = H, maxY = -1;
    for (let X = X0; X < X1; X++) {
      const base = X * H;
      const e = colStart[X + 1]!;
      for (let r = colStart[X]!; r < e; r++) {
        if (member[runAtom[r]!] !== 1) continue;
        const y0 = runY[r]!;
        const y1 = r + 1 < e ? runY[r + 1]! : H;
        const s = base + y0;
        if (m + 2 >= counts.length) {
          const bigger = new Uint32Array(counts.length * 2);
          bigger.set(counts);
          counts = this.counts = bigger;
        }
        if (open && s === lastEnd) {
          counts[m - 1]! += y1 - y0; // continues the previous run (same column, or across the column break)
        } else {
          counts[m++] = s - lastEnd;
          counts[m++] = y1 - y0;
        }
        lastEnd = base + y1;
        open = true;
        area += y1 - y0;
        if (X < minX) minX = X;
        maxX = X;
        if (y0 < minY) minY = y0;
        if (y1 - 1 > maxY) maxY = y1 - 1;
      }
    }
    for (let i = 0; i < atoms.length; i++) member[atoms[i]!] = 0;
    if (lastEnd < W * H) counts[m++] = W * H - lastEnd;
    if (m === 0) counts[m++] = 0; // an empty image
    const bbox: BBox = area > 0 ? [minX, minY, maxX - minX + 1, maxY - minY + 1] : [0, 0, 0, 0];
    return { rle: { height: H, width: W, counts: counts.slice(0, m) }, area, bbox };
  }
}
