/**
 * COCO run-length encoding: encode, decode, area, bbox, merge, IoU.
 *
 * Semantics follow pycocotools' C core, cocodataset/cocoapi `common/maskApi.c` (rleEncode, rleDecode,
 * rleArea, rleToBbox, rleMerge, rleIou, bbIou). The algorithms here are our own where that is faster
 * (row-difference encode/decode, a union folded in first-pixel order, range-limited IoU walk), and each one
 * is argued below to give the same numbers and the same counts as the reference.
 */
import { GearSegError } from "../util/errors.js";
import type { BBox, BinaryMask, Rle } from "./types.js";

// ---------------------------------------------------------------------------------------------------------
// Growable scratch buffers, reused across calls (the library is single-threaded per isolate).

let scratchA: Uint32Array = new Uint32Array(1 << 16);
let scratchB: Uint32Array = new Uint32Array(1 << 16);
let scratchCounts: Uint32Array = new Uint32Array(1 << 16);

function grow(buf: Uint32Array, need: number): Uint32Array {
  if (need <= buf.length) return buf;
  let size = buf.length;
  while (size < need) size *= 2;
  const next = new Uint32Array(size);
  next.set(buf);
  return next;
}

function checkShape(height: number, width: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw new GearSegError(`${what}: size must be two non-negative integers, got ${height}x${width}`);
  }
}

function checkMask(mask: BinaryMask, what: string): void {
  checkShape(mask.height, mask.width, what);
  if (mask.data.length !== mask.height * mask.width) {
    throw new GearSegError(
      `${what}: mask data has ${mask.data.length} bytes but size ${mask.height}x${mask.width} needs ${mask.height * mask.width}`,
    );
  }
}

function countsSumError(rle: Rle, what: string, sum: number): GearSegError {
  return new GearSegError(`${what}: RLE counts sum to ${sum} but its size ${rle.height}x${rle.width} has ${rle.height * rle.width} pixels`);
}

/** Sum of the counts; throws when it is not height * width (a corrupt Rle would make the walks below loop). */
function checkRle(rle: Rle, what: string): void {
  const c = rle.counts;
  let sum = 0;
  for (let i = 0; i < c.length; i++) sum += c[i]!;
  if (sum !== rle.height * rle.width) {
    throw countsSumError(rle, what, sum);
  }
}

/** checkRle, and in the same pass: true when only the first run may be empty (what rleEncode and rleMerge produce). */
function checkRleCanonical(rle: Rle, what: string): boolean {
  const c = rle.counts;
  let sum = c.length > 0 ? c[0]! : 0;
  let empty = 0;
  for (let i = 1; i < c.length; i++) {
    const v = c[i]!;
    sum += v;
    empty |= v === 0 ? 1 : 0;
  }
  if (sum !== rle.height * rle.width) {
    throw countsSumError(rle, what, sum);
  }
  return empty === 0;
}


// ---------------------------------------------------------------------------------------------------------
// Small helpers

/** An all-background RLE. */
export function emptyRle(height: number, width: number): Rle {
  checkShape(height, width, "emptyRle");
  return { height, width, counts: Uint32Array.of(height * width) };
}

/** Same size and the same runs. */
export function rleEquals(a: Rle, b: Rle): boolean {
  if (a.height !== b.height || a.width !== b.width || a.counts.length !== b.counts.length) return false;
  for (let i = 0; i < a.counts.length; i++) if (a.counts[i] !== b.counts[i]) return false;
  return true;
}

/** Number of non-zero pixels of a row-major mask. */
export function maskArea(mask: BinaryMask): number {
  const d = mask.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/**
 * A BinaryMask from any row-major pixel buffer (for instance sharp's raw output): channel 0 of
 * `channels` interleaved channels, any non-zero value is inside. Always copies.
 */
export function binaryMaskFrom(data: ArrayLike<number>, height: number, width: number, channels = 1): BinaryMask {
  checkShape(height, width, "binaryMaskFrom");
  if (!Number.isInteger(channels) || channels < 1) throw new GearSegError(`binaryMaskFrom: channels must be a positive integer, got ${channels}`);
  const n = height * width;
  if (data.length !== n * channels) {
    throw new GearSegError(`binaryMaskFrom: buffer has ${data.length} values but ${height}x${width}x${channels} needs ${n * channels}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += channels) out[i] = data[j] !== 0 ? 1 : 0;
  return { height, width, data: out };
}

// ---------------------------------------------------------------------------------------------------------
// encode / decode

/**
 * Row-major mask → COCO RLE (column-major runs, first run background), as rleEncode.
 *
 * Instead of walking the image column by column (a strided read per pixel), we compare each row with the
 * row above four bytes (and four rows) at a time: only where they differ does a column have a transition.
 * The transitions are bucketed by column (counting sort, stable so rows stay sorted) and turned into runs.
 * Any non-zero byte counts as inside.
 */
export function encode(mask: BinaryMask): Rle {
  checkMask(mask, "encode");
  const { height: h, width: w, data } = mask;
  const n = h * w;
  if (n === 0) return { height: h, width: w, counts: Uint32Array.of(0) };

  // Pass 1: transitions (x, y) with y >= 1, in row order. tx/ty share scratchA/scratchB.
  let tn = 0;
  const pushTransition = (x: number, y: number) => {
    if (tn >= scratchA.length) {
      scratchA = grow(scratchA, tn + 1);
      scratchB = grow(scratchB, tn + 1);
    }
    scratchA[tn] = x;
    scratchB[tn] = y;
    tn++;
  };
  if ((w & 3) === 0 && (data.byteOffset & 3) === 0) {
    const words = new Uint32Array(data.buffer, data.byteOffset, n >>> 2);
    const w4 = w >>> 2;
    /** The columns of word k where row y differs from the row above (their words differ). */
    const wordTransitions = (k: number, y: number) => {
      const base = (y * w4 + k) << 2;
      for (let b = 0; b < 4; b++) {
        if ((data[base + b] !== 0) !== (data[base + b - w] !== 0)) pushTransition((k << 2) + b, y);
      }
    };
    // Rows four at a time: each word of five rows is read once for four comparisons (one row at a time read
    // every row twice, as itself and as the row above: 2.2x the time on 200 masks of 1536x2048). Transitions
    // still come in row order within every column, which is all the counting sort below needs.
    let y = 1;
    for (; y + 3 < h; y += 4) {
      const r0 = (y - 1) * w4;
      const r1 = r0 + w4;
      const r2 = r1 + w4;
      const r3 = r2 + w4;
      const r4 = r3 + w4;
      for (let k = 0; k < w4; k++) {
        const a = words[r0 + k]!;
        const b = words[r1 + k]!;
        const c = words[r2 + k]!;
        const d = words[r3 + k]!;
        const e = words[r4 + k]!;
        if (a !== b || b !== c || c !== d || d !== e) {
          if (a !== b) wordTransitions(k, y);
          if (b !== c) wordTransitions(k, y + 1);
          if (c !== d) wordTransitions(k, y + 2);
          if (d !== e) wordTransitions(k, y + 3);
        }
      }
    }
    for (; y < h; y++) {
      const row = y * w4;
      const prev = row - w4;
      for (let k = 0; k < w4; k++) if (words[row + k] !== words[prev + k]) wordTransitions(k, y);
    }
  } else {
    for (let y = 1; y < h; y++) {
      const row = y * w;
      for (let x = 0; x < w; x++) {
        const i = row + x;
        if (data[i] !== data[i - w] && (data[i] !== 0) !== (data[i - w] !== 0)) pushTransition(x, y);
      }
    }
  }

  // Pass 2: stable counting sort by column.
  const colStart = new Uint32Array(w + 1);
  for (let t = 0; t < tn; t++) colStart[scratchA[t]! + 1]!++;
  for (let x = 0; x < w; x++) colStart[x + 1]! += colStart[x]!;
  const fill = colStart.slice(0, w);
  const ys = new Uint32Array(tn);
  for (let t = 0; t < tn; t++) ys[fill[scratchA[t]!]!++] = scratchB[t]!;

  // Pass 3: runs. At most one run per transition, one per column start, plus two.
  scratchCounts = grow(scratchCounts, tn + w + 2);
  const out = scratchCounts;
  let m = 0;
  let v = 0;
  let runStart = 0;
  for (let x = 0; x < w; x++) {
    const base = x * h;
    const first = data[x] !== 0 ? 1 : 0;
    if (first !== v) {
      out[m++] = base - runStart;
      runStart = base;
      v = first;
    }
    for (let t = colStart[x]!, e = colStart[x + 1]!; t < e; t++) {
      const p = base + ys[t]!;
      out[m++] = p - runStart;
      runStart = p;
    }
    // Each in-column transition flips v; their count's parity tells the value at the column's end.
    if ((colStart[x + 1]! - colStart[x]!) & 1) v ^= 1;
  }
  out[m++] = n - runStart;
  return { height: h, width: w, counts: out.slice(0, m) };
}

/**
 * COCO RLE → row-major mask (0/1 bytes), as rleDecode.
 *
 * Each foreground run marks a toggle where it starts and ends in every column it touches; then, inside the
 * box the toggles span, each row is XOR-ed with the row above (four bytes at a time), which turns toggles
 * into filled spans without strided per-pixel writes. Work is proportional to the mask's box, not the
 * image (plus zeroing the output).
 */
export function decode(rle: Rle): BinaryMask {
  checkRle(rle, "decode");
  const { height: h, width: w, counts } = rle;
  const n = h * w;
  const out = new Uint8Array(n);
  if (n === 0) return { height: h, width: w, data: out };
  let pos = 0;
  let minX = w;
  let maxX = -1;
  let minY = h;
  let maxY = -1;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j]!;
    if (j & 1 && len > 0) {
      const end = pos + len;
      let x = Math.floor(pos / h);
      let y0 = pos - x * h;
      if (x < minX) minX = x;
      for (;;) {
        if (y0 < minY) minY = y0;
        if (y0 > maxY) maxY = y0;
        const colEnd = (x + 1) * h;
        out[y0 * w + x]! ^= 1;
        if (end < colEnd) {
          const y1 = end - x * h;
          out[y1 * w + x]! ^= 1;
          if (y1 > maxY) maxY = y1;
          break;
        }
        // The run reaches the bottom: rows below y0 in this column are all filled by the prefix XOR.
        maxY = h - 1;
        if (end === colEnd) break;
        x++;
        y0 = 0;
      }
      if (x > maxX) maxX = x;
    }
    pos += len;
  }
  if (maxX < 0) return { height: h, width: w, data: out };
  prefixXorRows(out, w, minX, maxX, minY + 1, maxY);
  return { height: h, width: w, data: out };
}

/** out[y][x] ^= out[y-1][x] for y in [y0, y1], x in [x0, x1] (word-wise when rows are word-aligned). */
function prefixXorRows(out: Uint8Array, w: number, x0: number, x1: number, y0: number, y1: number): void {
  if ((w & 3) === 0 && (out.byteOffset & 3) === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    const w4 = w >>> 2;
    const k0 = x0 >>> 2;
    const k1 = x1 >>> 2;
    for (let y = y0; y <= y1; y++) {
      const row = y * w4;
      for (let k = row + k0, e = row + k1; k <= e; k++) words[k]! ^= words[k - w4]!;
    }
  } else {
    for (let y = y0; y <= y1; y++) {
      const row = y * w;
      for (let i = row + x0, e = row + x1; i <= e; i++) out[i]! ^= out[i - w]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// area / bbox

/** Foreground pixel count, as rleArea (sum of the odd runs). */
export function area(rle: Rle): number {
  const c = rle.counts;
  let a = 0;
  for (let j = 1; j < c.length; j += 2) a += c[j]!;
  return a;
}

/**
 * [x, y, w, h] as rleToBbox, with its quirks: a trailing background run is ignored (an odd run count is
 * rounded down to even), and whenever a foreground run crosses from one column into the next the box
 * takes the full image height, even if the run does not cover it. An empty mask gives [0, 0, 0, 0].
 * Arithmetic is unsigned 32-bit, as in the C code.
 */
export function toBbox(rle: Rle): BBox {
  const h = rle.height >>> 0;
  const w = rle.width >>> 0;
  const c = rle.counts;
  const m = c.length - (c.length & 1);
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + c[j]!) >>> 0;
    const t = (cc - (j & 1)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if ((j & 1) === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

// ---------------------------------------------------------------------------------------------------------
// merge

/**
 * One step of rleMerge: A op B, as its loop runs. On some inputs with empty inner runs that loop stops early
 * and drops pixels (and the next step, given that result, spins forever); then this returns null.
 */
function mergePair(A: Uint32Array, B: Uint32Array, total: number, intersect: boolean): Uint32Array | null {
  scratchCounts = grow(scratchCounts, A.length + B.length + 1);
  const out = scratchCounts;
  const am = A.length;
  const bm = B.length;
  let ca = A[0]!;
  let cb = B[0]!;
  let va = 0;
  let vb = 0;
  let v = 0;
  let m = 0;
  let a = 1;
  let b = 1;
  let cc = 0;
  let ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    cc += c;
    ct = 0;
    ca -= c;
    if (ca === 0 && a < am) {
      ca = A[a++]!;
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (cb === 0 && b < bm) {
      cb = B[b++]!;
      vb ^= 1;
    }
    ct += cb;
    const vp = v;
    v = intersect ? va & vb : va | vb;
    if (v !== vp || ct === 0) {
      out[m++] = cc;
      cc = 0;
    }
  }
  let sum = 0;
  for (let i = 0; i < m; i++) sum += out[i]!;
  return sum === total ? out.slice(0, m) : null;
}

/** The same pixels with no empty run after the first. */
function canonicalCounts(c: Uint32Array): Uint32Array {
  const out = new Uint32Array(c.length);
  let m = 0;
  for (let i = 0; i < c.length; i++) {
    if (i > 0 && c[i] === 0) continue;
    // out[k] is background for even k, foreground for odd k, as c[i] is for i
    if (i > 0 && ((m - 1) & 1) === (i & 1)) out[m - 1]! += c[i]!;
    else out[m++] = c[i]!;
  }
  return out.slice(0, m);
}

/**
 * Union or intersection of two canonical run lists (only the first run may be empty), by walking the
 * positions where either input toggles between background and foreground and emitting a run wherever the
 * combined value changes. The result is canonical: emitted positions strictly increase and no toggle lies at
 * h*w. Returns a fresh array of the exact length.
 */
function mergeCanonicalPair(A: Uint32Array, B: Uint32Array, total: number, intersect: boolean): Uint32Array {
  scratchCounts = grow(scratchCounts, A.length + B.length + 1);
  const out = scratchCounts;
  const na = A.length - 1; // toggles of A: at the end of each run but the last
  const nb = B.length - 1;
  let i = 0;
  let j = 0;
  let pa = na > 0 ? A[0]! : Infinity;
  let pb = nb > 0 ? B[0]! : Infinity;
  let va = 0;
  let vb = 0;
  let v = 0;
  let last = 0;
  let m = 0;
  for (;;) {
    const p = pa < pb ? pa : pb;
    if (p === Infinity) break;
    if (pa === p) {
      va ^= 1;
      pa = ++i < na ? pa + A[i]! : Infinity;
    }
    if (pb === p) {
      vb ^= 1;
      pb = ++j < nb ? pb + B[j]! : Infinity;
    }
    const nv = intersect ? va & vb : va | vb;
    if (nv !== v) {
      out[m++] = p - last;
      last = p;
      v = nv;
    }
  }
  out[m++] = total - last;
  return out.slice(0, m);
}

/**
 * Union (or intersection) of RLEs of one size, as rleMerge.
 *
 * rleMerge folds left to right. For canonical inputs (no empty run after the first, which is what encode,
 * merge, string parsing of pycocotools output and polygon rasterising produce) its output is the unique
 * canonical encoding of the union or intersection, so any order of pairwise merges gives the same counts.
 * Unions fold the inputs in the order of their first foreground pixel into an interval list of the union so
 * far (unionCanonical); intersections fold left to right (they only shrink). Inputs with empty inner runs are
 * folded left to right exactly as the reference does.
 * Differences from pycocotools: no masks, or masks of different sizes, throw a GearSegError (pycocotools
 * returns a 0x0 RLE); where rleMerge's fold of inputs with empty inner runs would lose pixels (and then hang),
 * the result is the canonical union or intersection of the pixels.
 */
export function merge(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) throw new GearSegError("merge: no masks to merge");
  const { height: h, width: w } = rles[0]!;
  for (let i = 0; i < rles.length; i++) {
    const r = rles[i]!;
    if (r.height !== h || r.width !== w) {
      throw new GearSegError(`merge: mask ${i} is ${r.height}x${r.width} but mask 0 is ${h}x${w}`);
    }
  }
  if (rles.length === 1) {
    checkRle(rles[0]!, "merge: mask 0");
    return { height: h, width: w, counts: rles[0]!.counts.slice() };
  }
  const total = h * w;
  // Interval positions are int32 below 2^31 pixels; unionCanonical checks every input as it reads it.
  const byIntervals = !intersect && total < 0x7fffffff;
  const union = byIntervals ? unionCanonical(rles, total) : null;
  if (union) return { height: h, width: w, counts: union };
  let canonical = true;
  for (let i = 0; i < rles.length; i++) canonical = checkRleCanonical(rles[i]!, `merge: mask ${i}`) && canonical;
  let inputs = rles;
  if (!canonical) {
    let acc: Uint32Array | null = rles[0]!.counts;
    for (let i = 1; i < rles.length && acc; i++) acc = mergePair(acc, rles[i]!.counts, total, intersect);
    if (acc) return { height: h, width: w, counts: acc };
    // rleMerge goes wrong on these inputs (pycocotools drops pixels, then hangs): the pixels' union or
    // intersection, canonical
    inputs = rles.map((r) => ({ height: h, width: w, counts: canonicalCounts(r.counts) }));
    const canonicalUnion = byIntervals ? unionCanonical(inputs, total) : null;
    if (canonicalUnion) return { height: h, width: w, counts: canonicalUnion };
  }
  let acc = inputs[0]!.counts;
  for (let i = 1; i < inputs.length; i++) acc = mergeCanonicalPair(acc, inputs[i]!.counts, total, intersect);
  return { height: h, width: w, counts: acc };
}

// The union so far as an interval list, [start0, end0, start1, end1, …] (sorted, disjoint, never touching: a
// canonical encoding leaves background between two runs), and the next one being written: two halves of one
// buffer, so that the stretches a fold leaves alone move by copyWithin.
let intervals: Int32Array = new Int32Array(1 << 13);
const NO_START = 0x7fffffff; // above every start (positions are below 2^31 here)

/** First r in [lo, hi) with list[base + 2r + side] > v, by bisection (side 0: starts, 1: ends). */
function firstAbove(list: Int32Array, base: number, side: number, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[base + 2 * mid + side]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function moveIntervals(list: Int32Array, to: number, from: number, end: number): void {
  if (end - from < 64) for (let q = from; q < end; q++) list[to++] = list[q]!;
  else list.copyWithin(to, from, end);
}

/**
 * Union of RLEs of h*w = total pixels, or null when an input has an empty inner run (then rleMerge's left
 * fold must run as it is). Each input, in the order of its first foreground pixel, is merged straight from
 * its counts into the interval list of the union so far: the union's intervals that end before the input's
 * first run or start after its last are moved in bulk, the rest are merged with the input's runs one by one
 * (intervals that overlap or touch coalesce). A fold costs the input's runs plus the union's intervals within
 * its span; its counts are checked (sum, empty runs) as they are read. The result is the canonical encoding of
 * the union: the counts rleMerge's fold produces.
 */
function unionCanonical(rles: readonly Rle[], total: number): Uint32Array | null {
  const n = rles.length;
  const order = foldOrder(rles, total);
  let cap = intervals.length >> 1;
  let list = intervals;
  let acc = 0; // the union so far is list[acc …), the next one goes to list[cap - acc …)
  let na = 0;
  for (let o = 0; o < n; o++) {
    const idx = order[o]!;
    const c = rles[idx]!.counts;
    const L = c.length;
    if (L <= 1) {
      if ((L === 1 ? c[0]! : 0) !== total) throw countsSumError(rles[idx]!, `merge: mask ${idx}`, L === 1 ? c[0]! : 0);
      continue;
    }
    const nb = L >> 1; // runs of foreground
    const need = 2 * (na + nb);
    if (need > cap) {
      while (cap < need) cap *= 2;
      const bigger = new Int32Array(2 * cap);
      bigger.set(list.subarray(acc, acc + 2 * na));
      list = intervals = bigger;
      acc = 0;
    }
    const out = cap - acc;
    // the input's span: from its first foreground pixel to the end of its last run (exact when the counts
    // sum to total, which is checked below before anything is returned)
    const bStart = c[0]!;
    const bEnd = L & 1 ? total - c[L - 1]! : total;
    const i0 = firstAbove(list, acc, 1, 0, na, bStart - 1); // union intervals before, not touching
    const i1 = firstAbove(list, acc, 0, i0, na, bEnd); // union intervals after, not touching
    moveIntervals(list, out, acc, acc + 2 * i0);
    let m = out + 2 * i0; // where the next interval goes
    let i = acc + 2 * i0;
    const iEnd = acc + 2 * i1;
    let aS = i < iEnd ? list[i]! : NO_START;
    let bS = bStart;
    let bE = bStart + c[1]!;
    let empty = c[1]! === 0 ? 1 : 0;
    let k = 2;
    let lastE = -1;
    for (;;) {
      let s: number;
      let e: number;
      if (aS <= bS) {
        if (aS === NO_START) break;
        s = aS;
        e = list[i + 1]!;
        i += 2;
        aS = i < iEnd ? list[i]! : NO_START;
      } else {
        s = bS;
        e = bE;
        if (k + 1 < L) {
          const gap = c[k]!;
          const run = c[k + 1]!;
          empty |= (gap === 0 ? 1 : 0) | (run === 0 ? 1 : 0);
          bS = bE + gap;
          bE = bS + run;
          k += 2;
        } else {
          bS = NO_START;
        }
      }
      if (s > lastE) {
        list[m] = s;
        list[m + 1] = e;
        m += 2;
        lastE = e;
      } else if (e > lastE) {
        list[m - 1] = e;
        lastE = e;
      }
    }
    // the input's last count is background when L is odd
    const sum = L & 1 ? bE + c[L - 1]! : bE;
    if (sum !== total) throw countsSumError(rles[idx]!, `merge: mask ${idx}`, sum);
    if (empty || (L & 1 && c[L - 1] === 0)) return null;
    moveIntervals(list, m, iEnd, acc + 2 * na);
    na = ((m - out) >> 1) + (na - i1);
    acc = out;
  }
  // interval list → counts (first run background, possibly empty)
  const counts = new Uint32Array(2 * na + (na > 0 && list[acc + 2 * na - 1] === total ? 0 : 1));
  let last = 0;
  let m = 0;
  for (let r = acc; r < acc + 2 * na; r += 2) {
    counts[m++] = list[r]! - last;
    counts[m++] = list[r + 1]! - list[r]!;
    last = list[r + 1]!;
  }
  if (m < counts.length) counts[m] = total - last;
  return counts;
}

/** Indices of the inputs by their first foreground pixel (ties by index); empty inputs last. */
function foldOrder(rles: readonly Rle[], total: number): ArrayLike<number> {
  const n = rles.length;
  const firstFg = (i: number) => (rles[i]!.counts.length > 1 ? rles[i]!.counts[0]! : total);
  if (n > 1 << 21 || total >= 2 ** 31) {
    return Array.from({ length: n }, (_, i) => i).sort((x, y) => firstFg(x) - firstFg(y) || x - y);
  }
  // first pixel and index packed into one exactly representable number: a numeric sort without a comparator
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.min(firstFg(i), total) * n + i;
  keys.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i]! % n;
  return order;
}

// ---------------------------------------------------------------------------------------------------------
// IoU

/** bbIou for one pair: intersection over union of XYWH boxes; over the dt box's area when crowd. */
function boxPairIou(D: ArrayLike<number>, G: ArrayLike<number>, crowd: boolean): number {
  const da = D[2]! * D[3]!;
  const ga = G[2]! * G[3]!;
  const iw = Math.min(D[2]! + D[0]!, G[2]! + G[0]!) - Math.max(D[0]!, G[0]!);
  if (iw <= 0) return 0;
  const ih = Math.min(D[3]! + D[1]!, G[3]! + G[1]!) - Math.max(D[1]!, G[1]!);
  if (ih <= 0) return 0;
  const i = iw * ih;
  const u = crowd ? da : da + ga - i;
  return i / u;
}

function checkCrowd(n: number, iscrowd: readonly boolean[], what: string): void {
  if (iscrowd.length !== n) throw new GearSegError(`${what}: iscrowd has ${iscrowd.length} flags for ${n} ground-truth masks`);
}

/**
 * IoU of XYWH boxes, as bbIou: one row per dt box, one column per gt box; for a crowd gt the
 * denominator is the dt box's area.
 */
export function bboxIou(dt: readonly BBox[], gt: readonly BBox[], iscrowd: readonly boolean[]): Float64Array[] {
  checkCrowd(gt.length, iscrowd, "bboxIou");
  return dt.map((d) => {
    const row = new Float64Array(gt.length);
    for (let g = 0; g < gt.length; g++) row[g] = boxPairIou(d, gt[g]!, iscrowd[g] === true);
    return row;
  });
}

/** Per-RLE facts the IoU walk needs: run starts, foreground extent, area, pycocotools bbox. */
interface RleIndex {
  starts: Float64Array; // starts[j] = position where run j begins; starts[m] = h*w
  lo: number; // first foreground position (or h*w)
  hi: number; // one past the last foreground position (or 0)
  area: number;
  bbox: BBox;
}

function indexRle(rle: Rle, what: string): RleIndex {
  checkRle(rle, what);
  const c = rle.counts;
  const starts = new Float64Array(c.length + 1);
  let pos = 0;
  let a = 0;
  let lo = rle.height * rle.width;
  let hi = 0;
  for (let j = 0; j < c.length; j++) {
    starts[j] = pos;
    const len = c[j]!;
    if (j & 1 && len > 0) {
      if (pos < lo) lo = pos;
      hi = pos + len;
      a += len;
    }
    pos += len;
  }
  starts[c.length] = pos;
  return { starts, lo, hi, area: a, bbox: toBbox(rle) };
}

/** Largest j with starts[j] <= p (the run containing position p). */
function runAt(starts: Float64Array, m: number, p: number): number {
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Pixels inside both, walking only the runs between the later first-foreground and the earlier last. */
function intersectionArea(A: Uint32Array, ia: RleIndex, B: Uint32Array, ib: RleIndex): number {
  const lo = ia.lo > ib.lo ? ia.lo : ib.lo;
  const hi = ia.hi < ib.hi ? ia.hi : ib.hi;
  if (lo >= hi) return 0;
  let a = runAt(ia.starts, A.length, lo);
  let b = runAt(ib.starts, B.length, lo);
  const sa = ia.starts;
  const sb = ib.starts;
  let pos = lo;
  let inter = 0;
  while (pos < hi) {
    const ea = sa[a + 1]!;
    const eb = sb[b + 1]!;
    let next = ea < eb ? ea : eb;
    if (next > hi) next = hi;
    if (a & b & 1) inter += next - pos;
    pos = next;
    if (ea === next) a++;
    if (eb === next) b++;
  }
  return inter;
}

/**
 * IoU of every dt RLE with every gt RLE, as rleIou: one row per dt. A pair whose pycocotools boxes do not
 * overlap is 0 without looking at the runs; a pair of different sizes whose boxes overlap is -1; for a
 * crowd gt the denominator is the dt area; no intersection gives 0.
 *
 * The union is area(dt) + area(gt) − I, which is exactly the union rleIou counts by walking every run;
 * this lets us walk only the overlap of the two foreground extents.
 */
export function iou(dt: readonly Rle[], gt: readonly Rle[], iscrowd: readonly boolean[]): Float64Array[] {
  checkCrowd(gt.length, iscrowd, "iou");
  const di = dt.map((r, i) => indexRle(r, `iou: dt ${i}`));
  const gi = gt.map((r, i) => indexRle(r, `iou: gt ${i}`));
  return dt.map((d, k) => {
    const row = new Float64Array(gt.length);
    const dk = di[k]!;
    for (let g = 0; g < gt.length; g++) {
      const gg = gi[g]!;
      const crowd = iscrowd[g] === true;
      const o = boxPairIou(dk.bbox, gg.bbox, crowd);
      if (!(o > 0)) {
        row[g] = o;
        continue;
      }
      const G = gt[g]!;
      if (d.height !== G.height || d.width !== G.width) {
        row[g] = -1;
        continue;
      }
      const inter = intersectionArea(d.counts, dk, G.counts, gg);
      if (inter === 0) row[g] = 0;
      else row[g] = inter / (crowd ? dk.area : dk.area + gg.area - inter);
    }
    return row;
  });
}
