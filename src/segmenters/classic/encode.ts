/**
 * Full-resolution COCO RLE of a set of atoms, without materialising a full-resolution mask: the working
 * mask is scanned column by column inside its bbox, and each working run [y0, y1] becomes the full-resolution
 * rows that map into it (a contiguous range, because the nearest-neighbour row map is monotone); each
 * full-resolution column copies the runs of the working column it maps to.
 */
import type { BBox, Rle } from "../../masks/types.js";

export interface EncodedMask {
  rle: Rle;
  area: number;
  bbox: BBox;
}

/** For a monotone full→working map, first[i] = first full index mapping to working index >= i (first[n] = full). */
export function firstIndex(map: Int32Array, small: number): Int32Array {
  const first = new Int32Array(small + 1).fill(map.length);
  for (let i = map.length - 1; i >= 0; i--) first[map[i]!] = i;
  for (let i = small - 1; i >= 0; i--) if (first[i]! > first[i + 1]!) first[i] = first[i + 1]!;
  return first;
}

export class MaskEncoder {
  private readonly firstX: Int32Array;
  private readonly firstY: Int32Array;
  private readonly member: Uint8Array;

  constructor(
    private readonly atomLabel: Int32Array,
    atomCount: number,
    private readonly width: number,
    private readonly height: number,
    colMap: Int32Array,
    rowMap: Int32Array,
  ) {
    this.firstX = firstIndex(colMap, width);
    this.firstY = firstIndex(rowMap, height);
    this.member = new Uint8Array(atomCount);
  }

  /** `box` = working bbox [x0, y0, x1, y1] inclusive. */
  encode(atoms: Int32Array, box: ArrayLike<number>): EncodedMask {
    const { member, atomLabel, width, firstX, firstY } = this;
    const W = firstX[width]!;
    const H = firstY[this.height]!;
    for (let i = 0; i < atoms.length; i++) member[atoms[i]!] = 1;
    const x0 = box[0]!, y0 = box[1]!, x1 = box[2]!, y1 = box[3]!;
    const counts: number[] = [];
    let lastEnd = 0; // column-major position where the last foreground run ended
    let area = 0;
    let minX = Infinity, maxX = -1, minY = Infinity, maxY = -1;
    const runStart: number[] = [];
    const runEnd: number[] = [];
    for (let x = x0; x <= x1; x++) {
      // runs of this working column, in full-resolution rows
      runStart.length = 0;
      runEnd.length = 0;
      let inside = false;
      for (let y = y0; y <= y1; y++) {
        const on = member[atomLabel[y * width + x]!] === 1;
        if (on && !inside) { runStart.push(firstY[y]!); inside = true; }
        else if (!on && inside) { runEnd.push(firstY[y]!); inside = false; }
      }
      if (inside) runEnd.push(firstY[y1 + 1]!);
      if (runStart.length === 0) continue;
      const top = runStart[0]!, bottom = runEnd[runEnd.length - 1]! - 1;
      for (let X = firstX[x]!; X < firstX[x + 1]!; X++) {
        if (X < minX) minX = X;
        maxX = X;
        if (top < minY) minY = top;
        if (bottom > maxY) maxY = bottom;
        const base = X * H;
        for (let r = 0; r < runStart.length; r++) {
          const s = base + runStart[r]!, e = base + runEnd[r]!;
          if (s === lastEnd && counts.length > 0) {
            counts[counts.length - 1]! += e - s; // continues the previous column's run
          } else {
            counts.push(s - lastEnd, e - s);
          }
          area += e - s;
          lastEnd = e;
        }
      }
    }
    for (let i = 0; i < atoms.length; i++) member[atoms[i]!] = 0;
    if (lastEnd < W * H) counts.push(W * H - lastEnd);
    const bbox: BBox = area > 0 ? [minX, minY, maxX - minX + 1, maxY - minY + 1] : [0, 0, 0, 0];
    return { rle: { height: H, width: W, counts: Uint32Array.from(counts) }, area, bbox };
  }
}
