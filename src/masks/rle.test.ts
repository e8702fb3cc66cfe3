import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { GearSegError } from "../util/errors.js";
import { expectSameArray } from "../../test/helpers/arrays.js";
import {
  area,
  bboxIou,
  binaryMaskFrom,
  decode,
  emptyRle,
  encode,
  fromBbox,
  fromCocoRle,
  fromPolygon,
  fromPolygons,
  iou,
  maskArea,
  merge,
  rleEquals,
  rleFromString,
  rleToString,
  toBbox,
  toCocoRle,
  type BinaryMask,
  type Rle,
} from "./index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shared = path.resolve(repoRoot, "../shared");
const fixtureDir = path.join(shared, "fixtures/coco-rle");
const cases = JSON.parse(readFileSync(path.join(fixtureDir, "cases.json"), "utf8"));
const samples = path.join(shared, "data/gear-seg-samples");

async function loadPng(file: string): Promise<BinaryMask> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return binaryMaskFrom(data, info.height, info.width, info.channels);
}

// ---- Straightforward reference implementations (per pixel), to check the fast ones against. ----
function naiveEncode(m: BinaryMask): number[] {
  const out: number[] = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < m.width; x++) {
    for (let y = 0; y < m.height; y++) {
      const v = m.data[y * m.width + x] ? 1 : 0;
      if (v !== p) {
        out.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  out.push(c);
  return out;
}

/**
 * One step of rleMerge's loop (cocodataset/cocoapi common/maskApi.c), union, as written there; null where it
 * goes wrong (with empty inner runs it can stop early and drop pixels, or spin forever).
 */
function rleMergePair(A: number[], B: number[]): number[] | null {
  const out: number[] = [];
  let ca = A[0]!;
  let cb = B[0]!;
  let va = false;
  let vb = false;
  let v = false;
  let a = 1;
  let b = 1;
  let cc = 0;
  let ct = 1;
  // every step but a spinning one takes the next count of A or B
  for (let steps = 0; ct > 0; steps++) {
    if (steps > A.length + B.length) return null; // spinning
    const c = Math.min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && a < A.length) { ca = A[a++]!; va = !va; }
    ct += ca;
    cb -= c;
    if (!cb && b < B.length) { cb = B[b++]!; vb = !vb; }
    ct += cb;
    const vp: boolean = v;
    v = va || vb;
    if (v !== vp || ct === 0) { out.push(cc); cc = 0; }
  }
  const sum = (c: number[]) => c.reduce((x, y) => x + y, 0);
  return sum(out) === sum(A) ? out : null;
}

/** Row-major OR of column-major count lists. */
function orOfCounts(lists: number[][], h: number, w: number): Uint8Array {
  const or = new Uint8Array(h * w);
  for (const c of lists) {
    let p = 0;
    c.forEach((n, i) => {
      for (let q = p; q < p + n; q++) if (i & 1) or[(q % h) * w + Math.floor(q / h)] = 1;
      p += n;
    });
  }
  return or;
}

function seededRandom(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomMask(rand: () => number, h: number, w: number, kind: number): BinaryMask {
  const d = new Uint8Array(h * w);
  if (kind === 0) for (let i = 0; i < d.length; i++) d[i] = rand() < 0.5 ? 1 : 0;
  else {
    const n = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < n; e++) {
      const cx = rand() * w;
      const cy = rand() * h;
      const rx = 1 + rand() * w * 0.5;
      const ry = 1 + rand() * h * 0.5;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) d[y * w + x] = kind === 2 ? 255 : 1;
    }
  }
  return { height: h, width: w, data: d };
}

describe("pycocotools fixtures (cases.json)", () => {
  for (const c of cases.masks) {
    test(`mask ${c.name}: counts string, area, bbox`, async () => {
      const mask = await loadPng(path.join(fixtureDir, c.png));
      expect([mask.height, mask.width]).toEqual(c.rle.size);
      const rle = encode(mask);
      expect(rleToString(rle)).toBe(c.rle.counts);
      expect(area(rle)).toBe(c.area);
      expect(toBbox(rle)).toEqual(c.bbox);
      // String → runs → string, and decode → encode.
      const parsed = rleFromString(c.rle.counts, c.rle.size[0], c.rle.size[1]);
      expect(rleEquals(parsed, rle)).toBe(true);
      expectSameArray(decode(parsed).data, mask.data, "decoded mask");
      expectSameArray(rle.counts, naiveEncode(mask), "counts");
    });
  }

  test("ops: per-mask RLEs, union of all, intersection of 0 and 1, IoU with iscrowd", async () => {
    const ops = cases.ops;
    const rles: Rle[] = [];
    for (let i = 0; i < ops.pngs.length; i++) {
      const r = encode(await loadPng(path.join(fixtureDir, ops.pngs[i])));
      expect(toCocoRle(r)).toEqual(ops.rles[i]);
      rles.push(r);
    }
    expect(toCocoRle(merge(rles))).toEqual(ops.union_all);
    expect(toCocoRle(merge([rles[0]!, rles[1]!], true))).toEqual(ops.intersection_0_1);
    const crowd = ops.iscrowd.map((v: number) => v === 1);
    const m = iou(rles, rles, crowd);
    expect(m.map((r) => Array.from(r))).toEqual(ops.iou);
    // From the strings too.
    const parsed = ops.rles.map((o: unknown, i: number) => fromCocoRle(o, `ops rle ${i}`));
    expect(iou(parsed, parsed, crowd).map((r) => Array.from(r))).toEqual(ops.iou);
  });

  test("ops: every polygon through frPyObjects", () => {
    expect(cases.ops.polygons.length).toBeGreaterThan(0);
    for (const p of cases.ops.polygons) {
      const r = fromPolygon(p.polygon, p.height, p.width);
      expect(toCocoRle(r)).toEqual(p.rle);
      expect(area(r)).toBe(p.area);
      expect(toCocoRle(fromPolygons([p.polygon], p.height, p.width))).toEqual(p.rle);
    }
  });
});

describe("reference outputs in gear-seg-samples", () => {
  const answers = path.join(samples, "outputs/reasonseg_task/ReasonSeg_val/answers/json");
  const names = readdirSync(answers).filter((f) => f.endsWith(".json"));
  test("there are samples", () => expect(names.length).toBeGreaterThan(0));
  for (const f of names) {
    const name = f.replace(/\.json$/, "");
    test(`${name}: counts round-trip, decode→encode, and the union of the chosen SAM masks`, async () => {
      const answer = JSON.parse(readFileSync(path.join(answers, f), "utf8"));
      const meta = await sharp(path.join(samples, "dataset/ReasonSeg_val/images", `${name}.jpg`)).metadata();
      const counts: string = answer.shapes[0].counts;
      const rle = rleFromString(counts, meta.height, meta.width);
      expect(rleToString(rle)).toBe(counts);
      const mask = decode(rle);
      expect(rleEquals(encode(mask), rle)).toBe(true);
      expect(maskArea(mask)).toBe(area(rle));
      const ids: number[] = answer.answer_mask_id;
      const chosen: Rle[] = [];
      for (const id of ids) {
        chosen.push(encode(await loadPng(path.join(samples, "outputs/reasonseg_task/ReasonSeg_val/sam/masks", name, `mask_${id}.png`))));
      }
      expect(rleToString(merge(chosen))).toBe(counts);
    });
  }
});

describe("encode / decode against per-pixel reference", () => {
  test("random masks of odd and even sizes, 0/1 and 0/255 data", () => {
    const rand = seededRandom(7);
    const sizes: [number, number][] = [[1, 1], [1, 13], [13, 1], [1, 40], [40, 1], [7, 9], [16, 16], [31, 33], [50, 64], [3, 4], [5, 8], [6, 8], [101, 64], [9, 128]];
    for (const [h, w] of sizes) {
      for (let kind = 0; kind < 3; kind++) {
        const m = randomMask(rand, h, w, kind);
        const r = encode(m);
        expect(Array.from(r.counts)).toEqual(naiveEncode(m));
        const back = decode(r);
        expect(Array.from(back.data)).toEqual(Array.from(m.data, (v) => (v ? 1 : 0)));
        expect(rleEquals(rleFromString(rleToString(r), h, w), r)).toBe(true);
        expect(area(r)).toBe(maskArea(m));
      }
    }
  });

  test("empty, full, 0-pixel and subarray-backed masks", () => {
    const e = encode({ height: 4, width: 6, data: new Uint8Array(24) });
    expect(Array.from(e.counts)).toEqual([24]);
    expect(rleEquals(e, emptyRle(4, 6))).toBe(true);
    expect(toBbox(e)).toEqual([0, 0, 0, 0]);
    const f = encode({ height: 4, width: 6, data: new Uint8Array(24).fill(1) });
    expect(Array.from(f.counts)).toEqual([0, 24]);
    expect(toBbox(f)).toEqual([0, 0, 6, 4]);
    expect(Array.from(encode({ height: 0, width: 5, data: new Uint8Array(0) }).counts)).toEqual([0]);
    // A view at an odd byte offset takes the unaligned path and must agree.
    const buf = new Uint8Array(1 + 8 * 8);
    buf[1 + 3 * 8 + 2] = 1;
    const view = { height: 8, width: 8, data: buf.subarray(1) };
    expect(Array.from(encode(view).counts)).toEqual(naiveEncode(view));
  });

  test("bad shapes are rejected", () => {
    expect(() => encode({ height: 2, width: 2, data: new Uint8Array(3) })).toThrow(GearSegError);
    expect(() => decode({ height: 2, width: 2, counts: Uint32Array.of(1, 2) })).toThrow(/sum to 3/);
    expect(() => binaryMaskFrom([1, 0, 1], 2, 2)).toThrow(GearSegError);
  });
});

describe("compressed strings", () => {
  test("hand-made strings and deltas", () => {
    // 1×N and N×1
    const row = rleFromString("0176LJN10O0021NO50", 1, 40);
    expect(area(row)).toBe(17);
    const col = rleFromString("0111000O040N042M1MM", 40, 1);
    expect(area(col)).toBe(26);
    // Large counts need several 5-bit groups; negative deltas sign-extend.
    const big: Rle = { height: 1000, width: 1000, counts: Uint32Array.of(123456, 5, 800000, 70000, 6539) };
    const s = rleToString(big);
    expect(rleEquals(rleFromString(s, 1000, 1000), big)).toBe(true);
  });

  test("malformed strings are rejected with a GearSegError", () => {
    expect(() => rleFromString("S1", 5, 8)).toThrow(/sum to 35/); // wrong size
    expect(() => rleFromString("S1 ", 5, 7)).toThrow(/character/); // space
    expect(() => rleFromString("S1p", 5, 7)).toThrow(/character/); // 'p' > 'o'
    expect(() => rleFromString("0S", 5, 7)).toThrow(/middle of a count/); // 'S' has the continue bit
    expect(() => rleFromString("", 5, 7)).toThrow(GearSegError);
    expect(() => rleFromString("O", 5, 7)).toThrow(/outside/); // -1
    expect(() => rleFromString("ooooooooo0", 5, 7)).toThrow(/too long/);
    expect(rleFromString("", 0, 0).counts.length).toBe(0);
    expect(() => rleFromString("0S1\u00e9", 5, 7)).toThrow(/character "\u00e9" at 3/); // not ASCII
  });

  test("counts of one to seven 5-bit groups round-trip, on an image just below 2^31 pixels", () => {
    const h = 46341;
    const w = 46340; // 2,147,441,940 pixels
    const counts = [0, 7, 15, 16, 300, 1 << 20, (1 << 29) - 3, 1 << 29, 1_000_000_000, 17, 3];
    const sum = counts.reduce((a, b) => a + b, 0);
    counts.push(h * w - sum);
    const r: Rle = { height: h, width: w, counts: Uint32Array.from(counts) };
    const s = rleToString(r);
    expect(s.length).toBeGreaterThan(counts.length); // several multi-group counts
    expect(Array.from(rleFromString(s, h, w).counts)).toEqual(counts);
  });

  test("fromCocoRle: compressed, uncompressed and invalid", () => {
    const r = fromCocoRle({ size: [5, 7], counts: "0S1" });
    expect(Array.from(r.counts)).toEqual([0, 35]);
    expect(Array.from(fromCocoRle({ size: [2, 3], counts: [1, 2, 3] }).counts)).toEqual([1, 2, 3]);
    expect(() => fromCocoRle({ size: [2, 3], counts: [1, 2] }, "gt 4")).toThrow(/^gt 4: counts sum to 3/);
    expect(() => fromCocoRle({ size: [2, 3], counts: [1, -2, 7] }, "gt 4")).toThrow(/counts\[1\]/);
    expect(() => fromCocoRle({ size: [2], counts: "0" }, "x")).toThrow(/size/);
    expect(() => fromCocoRle(null, "seg")).toThrow(/^seg:/);
    expect(() => fromCocoRle({ size: [2, 3], counts: 5 }, "seg")).toThrow(/counts must be/);
    expect(() => fromCocoRle({ size: [5, 7], counts: "0S1!" }, "ann 3")).toThrow(/^ann 3: character/);
  });
});

describe("merge / iou / bbox quirks", () => {
  const mk = (h: number, w: number, pix: [number, number][]) => {
    const d = new Uint8Array(h * w);
    for (const [x, y] of pix) d[y * w + x] = 1;
    return encode({ height: h, width: w, data: d });
  };

  test("merge and iou of empty masks", () => {
    const e = emptyRle(4, 4);
    const a = mk(4, 4, [[1, 1]]);
    expect(rleEquals(merge([e, e]), e)).toBe(true);
    expect(rleEquals(merge([e, a]), a)).toBe(true);
    expect(rleEquals(merge([e, a], true), e)).toBe(true);
    const m = iou([e, a], [e, a], [false, false]);
    expect(Array.from(m[0]!)).toEqual([0, 0]);
    expect(Array.from(m[1]!)).toEqual([0, 1]);
    expect(() => merge([])).toThrow(GearSegError);
    expect(() => merge([e, emptyRle(4, 5)])).toThrow(/4x5/);
    expect(() => iou([a], [a], [])).toThrow(/iscrowd/);
  });

  test("merge and iou against pixel counting on random masks; non-canonical inputs fold left to right", () => {
    const rand = seededRandom(11);
    const h = 37;
    const w = 29;
    const masks = Array.from({ length: 9 }, (_, i) => randomMask(rand, h, w, i % 3 === 0 ? 0 : 1));
    const rles = masks.map(encode);
    const or = new Uint8Array(h * w);
    const and = new Uint8Array(h * w).fill(1);
    for (const m of masks) for (let i = 0; i < or.length; i++) {
      or[i]! |= m.data[i] ? 1 : 0;
      and[i]! &= m.data[i] ? 1 : 0;
    }
    expect(rleEquals(merge(rles), encode({ height: h, width: w, data: or }))).toBe(true);
    expect(rleEquals(merge(rles, true), encode({ height: h, width: w, data: and }))).toBe(true);
    const crowd = rles.map((_, i) => i % 4 === 1);
    const m = iou(rles, rles, crowd);
    for (let d = 0; d < masks.length; d++) {
      for (let g = 0; g < masks.length; g++) {
        let i = 0;
        let u = 0;
        let ad = 0;
        for (let p = 0; p < h * w; p++) {
          const a = masks[d]!.data[p] ? 1 : 0;
          const b = masks[g]!.data[p] ? 1 : 0;
          i += a & b;
          u += a | b;
          ad += a;
        }
        expect(m[d]![g]).toBe(i === 0 ? 0 : i / (crowd[g] ? ad : u));
      }
    }
    // Non-canonical: an empty inner run. pycocotools' rleMerge loop, traced by hand on these inputs, emits
    // [0, 2, 0, 1, 1] (it keeps an empty run), not the canonical [0, 3, 1]; we must do the same.
    const odd: Rle = { height: 2, width: 2, counts: Uint32Array.of(1, 1, 0, 1, 1) };
    const other = mk(2, 2, [[0, 0]]);
    expect(Array.from(merge([other, odd]).counts)).toEqual([0, 2, 0, 1, 1]);
    expect(area(merge([other, odd]))).toBe(3);
  });

  test("union of many masks equals the per-pixel OR: touching runs, full and empty masks, first run empty", () => {
    const rand = seededRandom(23);
    for (let trial = 0; trial < 60; trial++) {
      const h = 1 + Math.floor(rand() * 24);
      const w = 1 + Math.floor(rand() * 24);
      const k = 2 + Math.floor(rand() * (trial % 3 === 0 ? 60 : 8));
      const masks: BinaryMask[] = [];
      for (let i = 0; i < k; i++) {
        const d = new Uint8Array(h * w);
        const kind = Math.floor(rand() * 6);
        if (kind === 0) d.fill(1); // full
        else if (kind === 1) { /* empty */ }
        else if (kind === 2) {
          // one column-major stretch, often ending exactly where another begins
          const n = h * w;
          const a = Math.floor(rand() * n);
          const b = Math.min(n, a + 1 + Math.floor(rand() * n * 0.3));
          for (let p = a; p < b; p++) d[(p % h) * w + Math.floor(p / h)] = 1;
        } else if (kind === 3) d[0] = 1; // first run empty
        else Object.assign(d, randomMask(rand, h, w, rand() < 0.5 ? 0 : 1).data);
        masks.push({ height: h, width: w, data: d });
      }
      const or = new Uint8Array(h * w);
      for (const m of masks) for (let i = 0; i < or.length; i++) or[i]! |= m.data[i] ? 1 : 0;
      const want = encode({ height: h, width: w, data: or });
      const rles = masks.map(encode);
      expect(Array.from(merge(rles).counts)).toEqual(Array.from(want.counts));
      // pycocotools folds left to right; any order must give the same counts
      expect(Array.from(merge([...rles].reverse()).counts)).toEqual(Array.from(want.counts));
    }
  });

  test("merge checks every input's counts and names a bad one; empty runs anywhere fold as the reference", () => {
    const ok: Rle = { height: 2, width: 3, counts: Uint32Array.of(1, 2, 3) };
    for (const [bad, sum] of [[Uint32Array.of(1, 2, 2), 5], [Uint32Array.of(1, 2, 3, 1), 7], [Uint32Array.of(5), 5], [Uint32Array.of(0, 7), 7], [new Uint32Array(0), 0]] as const) {
      const rle: Rle = { height: 2, width: 3, counts: bad };
      for (const intersect of [false, true]) {
        expect(() => merge([ok, ok, rle, ok], intersect)).toThrow(new RegExp(`^merge: mask 2: RLE counts sum to ${sum} but its size 2x3 has 6 pixels$`));
      }
    }
    // an empty first foreground run, an empty last background run: rleMerge's own fold, not the canonical union
    for (const counts of [Uint32Array.of(1, 0, 1, 1, 3), Uint32Array.of(2, 4, 0), Uint32Array.of(0, 0, 6)]) {
      const odd: Rle = { height: 2, width: 3, counts };
      expect(Array.from(merge([ok, odd]).counts)).toEqual(rleMergePair(Array.from(ok.counts), Array.from(counts)));
    }
    // random inputs with empty runs inserted anywhere, among canonical ones: the reference's left fold, count for count
    const rand = seededRandom(5);
    for (let trial = 0; trial < 300; trial++) {
      const [h, w] = [1 + Math.floor(rand() * 5), 1 + Math.floor(rand() * 5)];
      const lists: number[][] = [];
      for (let k = 2 + Math.floor(rand() * 4); k > 0; k--) {
        const counts = naiveEncode(randomMask(rand, h, w, Math.floor(rand() * 3)));
        if (rand() < 0.5) counts.splice(Math.floor(rand() * (counts.length + 1)), 0, 0, 0);
        if (rand() < 0.3) counts.push(0);
        lists.push(counts);
      }
      let want: number[] | null = lists[0]!;
      for (const c of lists.slice(1)) want = want && rleMergePair(want, c);
      // where rleMerge goes wrong: the union of the pixels, canonical
      want ??= naiveEncode({ height: h, width: w, data: orOfCounts(lists, h, w) });
      expect(Array.from(merge(lists.map((c) => ({ height: h, width: w, counts: Uint32Array.from(c) }))).counts)).toEqual(want);
    }
  });

  test("a union of thousands of intervals (the work list grows) equals the per-pixel OR", () => {
    const h = 64;
    const w = 700;
    const masks: BinaryMask[] = [];
    for (let k = 0; k < 7; k++) {
      const d = new Uint8Array(h * w);
      // every column: a few short vertical runs at k-dependent rows, so the masks interleave column by column
      for (let x = 0; x < w; x++) for (let y = (k * 9 + x) % 8; y < h; y += 9) d[y * w + x] = 1;
      masks.push({ height: h, width: w, data: d });
    }
    const or = new Uint8Array(h * w);
    for (const m of masks) for (let i = 0; i < or.length; i++) or[i]! |= m.data[i]!;
    const rles = masks.map(encode);
    const want = encode({ height: h, width: w, data: or });
    expect(want.counts.length).toBeGreaterThan(8192);
    expect(Array.from(merge(rles).counts)).toEqual(Array.from(want.counts));
    expect(Array.from(merge([...rles].reverse()).counts)).toEqual(Array.from(want.counts));
  });

  test("adjacent runs from different masks coalesce into one run", () => {
    const a: Rle = { height: 4, width: 2, counts: Uint32Array.of(1, 2, 5) }; // positions 1..2
    const b: Rle = { height: 4, width: 2, counts: Uint32Array.of(3, 3, 2) }; // positions 3..5
    const c: Rle = { height: 4, width: 2, counts: Uint32Array.of(6, 2) }; // positions 6..7, to the end
    expect(Array.from(merge([a, b, c]).counts)).toEqual([1, 7]);
    expect(Array.from(merge([c, a]).counts)).toEqual([1, 2, 3, 2]);
  });

  test("iou: different sizes give -1 when the boxes overlap, 0 when they do not", () => {
    const a = mk(4, 4, [[0, 0]]);
    const b = mk(5, 5, [[0, 0]]);
    const c = mk(5, 5, [[4, 4]]);
    expect(Array.from(iou([a], [b, c], [false, false])[0]!)).toEqual([-1, 0]);
  });

  test("toBbox quirk: a run crossing columns takes the full height", () => {
    // Pixels (x=0, y=3) and (x=1, y=0) in a 4×2 image are one column-major run.
    const r = mk(4, 2, [[0, 3], [1, 0]]);
    expect(Array.from(r.counts)).toEqual([3, 2, 3]);
    expect(toBbox(r)).toEqual([0, 0, 2, 4]);
  });

  test("bboxIou (bbIou) with crowd", () => {
    const m = bboxIou([[0, 0, 10, 10], [5, 5, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10]], [false, true]);
    expect(Array.from(m[0]!)).toEqual([1, 0.5]);
    expect(m[1]![0]).toBeCloseTo(25 / 175, 15);
    expect(m[1]![1]).toBe(0.5);
  });

  test("fromBbox and fromPolygons (union; 4-number entries are boxes, as frPyObjects)", () => {
    const r = fromBbox([1, 1, 2, 3], 6, 5);
    const mask = decode(r);
    const want = new Uint8Array(30);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 3; x++) want[y * 5 + x] = 1;
    expect(mask.data).toEqual(want);
    expect(rleEquals(fromPolygons([[1, 1, 2, 3]], 6, 5), r)).toBe(true);
    const p1 = [0, 0, 2, 0, 2, 2, 0, 2];
    const p2 = [3, 3, 5, 3, 5, 6, 3, 6];
    const u = fromPolygons([p1, p2], 6, 5);
    expect(rleEquals(u, merge([fromPolygon(p1, 6, 5), fromPolygon(p2, 6, 5)]))).toBe(true);
    expect(area(u)).toBe(4 + 6);
    expect(rleEquals(fromPolygons([], 6, 5), emptyRle(6, 5))).toBe(true);
    expect(() => fromPolygons([[1, 2]], 6, 5)).toThrow(GearSegError);
    expect(() => fromPolygon([1, Number.NaN, 3, 4, 5, 6], 6, 5)).toThrow(/coordinate 1/);
  });
});
