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

/**
 * Marks, in the run bitmap, the runs of every atom of a proposal. The loops of an encode are module functions
 * that end right after their loop: the first call is optimised while in its loop (on-stack replacement), and
 * code after the loop, never run by then, made that code deoptimise on every later call.
 */
function markRuns(atoms: Int32Array, atomStart: Int32Array, atomRuns: Int32Array, marks: Int32Array): void {
  for (let i = 0; i < atoms.length; i++) {
    const a = atoms[i]!;
    for (let j = atomStart[a]!, e = atomStart[a + 1]!; j < e; j++) {
      const r = atomRuns[j]!;
      marks[r >>> 5]! |= 1 << (r & 31);
    }
  }
}

/** Clears every mark of a proposal's runs (those in its columns' range are cleared already). */
function clearRuns(atoms: Int32Array, atomStart: Int32Array, atomRuns: Int32Array, marks: Int32Array): void {
  for (let i = 0; i < atoms.length; i++) {
    const a = atoms[i]!;
    for (let j = atomStart[a]!, e = atomStart[a + 1]!; j < e; j++) marks[atomRuns[j]! >>> 5] = 0;
  }
}

/** Indices into the `state` of collectRuns. */
const AREA = 0, MIN_X = 1, MAX_X = 2, MIN_Y = 3, MAX_Y = 4, LAST_END = 5;

/**
 * The foreground runs of the marked runs r0..r1-1 (clearing their marks) into `counts` (room for every run),
 * returning how many counts were written; area, extent and the end of the last run go to `state`, updated per
 * run so that nothing follows the loop.
 */
function collectRuns(marks: Int32Array, colStart: Int32Array, runY: Int32Array, H: number, X0: number, r0: number, r1: number, counts: Uint32Array, state: Int32Array): number {
  let m = 0;
  let lastEnd = 0; // column-major position where the last foreground run ended
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
      if (m > 0 && s === lastEnd) {
        counts[m - 1]! += y1 - y0; // continues the previous run (same column, or across the column break)
      } else {
        counts[m++] = s - lastEnd;
        counts[m++] = y1 - y0;
      }
      lastEnd = X * H + y1;
      state[AREA]! += y1 - y0;
      if (X < state[MIN_X]!) state[MIN_X] = X;
      state[MAX_X] = X;
      if (y0 < state[MIN_Y]!) state[MIN_Y] = y0;
      if (y1 - 1 > state[MAX_Y]!) state[MAX_Y] = y1 - 1;
      state[LAST_END] = lastEnd;
    }
  }
  return m;
}

export class MaskEncoder {
  private readonly firstX: Int32Array;
  /** Run indices of each atom: atomRuns[atomStart[a] .. atomStart[a + 1]), ascending. */
  private readonly atomStart: Int32Array;
  private readonly atomRuns: Int32Array;
  private readonly marks: Int32Array;
  /** Room for any proposal's counts: two per run at most, and the last background run. */
  private readonly counts: Uint32Array;
  private readonly state = new Int32Array(6);

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
    this.counts = new Uint32Array(2 * n + 2);
  }

  /** `box` = working bbox [x0, y0, x1, y1] inclusive. */
  encode(atoms: Int32Array, box: ArrayLike<number>): EncodedMask {
    const { firstX, workWidth, atomStart, atomRuns, marks, counts, state } = this;
    const { width: W, height: H, colStart, runY } = this.runs;
    // refinement moves a boundary by less than one working pixel: the widened box holds every member run
    const X0 = firstX[Math.max(0, box[0]! - 1)]!;
    const X1 = firstX[Math.min(workWidth, box[2]! + 2)]!;
    markRuns(atoms, atomStart, atomRuns, marks);
    state[AREA] = 0; state[MIN_X] = W; state[MAX_X] = -1; state[MIN_Y] = H; state[MAX_Y] = -1; state[LAST_END] = 0;
    let m = collectRuns(marks, colStart, runY, H, X0, colStart[X0]!, colStart[X1]!, counts, state);
    // keeps the bitmap clean whatever happened
    clearRuns(atoms, atomStart, atomRuns, marks);
    const lastEnd = state[LAST_END]!;
    if (lastEnd < W * H) counts[m++] = W * H - lastEnd;
    const area = state[AREA]!;
    const minX = state[MIN_X]!, minY = state[MIN_Y]!;
    const bbox: BBox = area > 0 ? [minX, minY, state[MAX_X]! - minX + 1, state[MAX_Y]! - minY + 1] : [0, 0, 0, 0];
    return { rle: { height: H, width: W, counts: counts.slice(0, m) }, area, bbox };
  }
}
