/**
 * Full-resolution COCO RLE of a set of atoms, read from the runs of atoms down each full-resolution column
 * (refine.ts) without materialising a mask. Runs are numbered in column-major order, so a proposal's
 * foreground runs are the runs of its atoms, in index order: the encoder marks them in a bitmap (each atom
 * knows its runs) and reads the bitmap a 32-bit word at a time over the range of its box's columns, so the cost
 * follows the proposal's own runs, not every run of the columns it spans. Consecutive member runs, in a column
 * or across the bottom of one column and the top of the next, become one foreground run.
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
  /** Run indices of each atom: atomRuns[atomStart[a] .. atomStart[a + 1]), ascending. */
  private readonly atomStart: Int32Array;
  private readonly atomRuns: Int32Array;
  private readonly marks: Int32Array;
  private counts = new Uint32Array(1 << 12);

  constructor(
    private readonly runs: AtomRuns,
    atomCount: number,
    /** Working width and the full → working column map. */
    private readonly workWidth: number,
    colMap: Int32Array,
  ) {
    this.firstX = firstIndex(colMap, workWidth);
    const { runAtom } = runs;
    const n = runAtom.length;
    const start = new Int32Array(atomCount + 1);
    for (let r = 0; r < n; r++) start[runAtom[r]! + 1]!++;
    for (let a = 0; a < atomCount; a++) start[a + 1]! += start[a]!;
    const fill = start.slice(0, atomCount);
    const list = new Int32Array(n);
    for (let r = 0; r < n; r++) list[fill[runAtom[r]!]!++] = r;
    this.atomStart = start;
    this.atomRuns = list;
    this.marks = new Int32Array((n >>> 5) + 1);
  }

  /** `box` = working bbox [x0, y0, x1, y1] inclusive. */
  encode(atoms: Int32Array, box: ArrayLike<number>): EncodedMask {
    const { firstX, workWidth, atomStart, atomRuns, marks } = this;
    const { width: W, height: H, colStart, runY } = this.runs;
    // refinement moves a boundary by less than one working pixel: the widened box holds every member run
    const X0 = firstX[Math.max(0, box[0]! - 1)]!;
    const X1 = firstX[Math.min(workWidth, box[2]! + 2)]!;
    for (let i = 0; i < atoms.length; i++) {
      const a = atoms[i]!;
      for (let j = atomStart[a]!, e = atomStart[a + 1]!; j < e; j++) {
        const r = atomRuns[j]!;
        marks[r >>> 5]! |= 1 << (r & 31);
      }
    }
    let counts = this.counts;
    let m = 0;
    let lastEnd = 0; // column-major position where the last foreground run ended
    let area = 0;
    let minX = W, maxX = -1, minY = H, maxY = -1;
    const r0 = colStart[X0]!;
    const r1 = colStart[X1]!;
    let X = X0;
    for (let word = r0 >>> 5, wEnd = r1 === 0 ? 0 : (r1 - 1) >>> 5; word <= wEnd && r0 < r1; word++) {
      let bits = marks[word]!;
      if (bits === 0) continue;
      marks[word] = 0;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const r = (word << 5) + 31 - Math.clz32(low);
        while (colStart[X + 1]! <= r) X++;
        const y0 = runY[r]!;
        const y1 = r + 1 < colStart[X + 1]! ? runY[r + 1]! : H;
        const s = X * H + y0;
        if (m + 2 >= counts.length) {
          const bigger = new Uint32Array(counts.length * 2);
          bigger.set(counts);
          counts = this.counts = bigger;
        }
        if (m > 0 && s === lastEnd) {
          counts[m - 1]! += y1 - y0; // continues the previous run (same column, or across the column break)
        } else {
          counts[m++] = s - lastEnd;
          counts[m++] = y1 - y0;
        }
        lastEnd = X * H + y1;
        area += y1 - y0;
        if (X < minX) minX = X;
        maxX = X;
        if (y0 < minY) minY = y0;
        if (y1 - 1 > maxY) maxY = y1 - 1;
      }
    }
    // clear every mark (those in the range are cleared already; this keeps the bitmap clean whatever happened)
    for (let i = 0; i < atoms.length; i++) {
      const a = atoms[i]!;
      for (let j = atomStart[a]!, e = atomStart[a + 1]!; j < e; j++) marks[atomRuns[j]! >>> 5] = 0;
    }
    if (lastEnd < W * H) counts[m++] = W * H - lastEnd;
    const bbox: BBox = area > 0 ? [minX, minY, maxX - minX + 1, maxY - minY + 1] : [0, 0, 0, 0];
    return { rle: { height: H, width: W, counts: counts.slice(0, m) }, area, bbox };
  }
}
