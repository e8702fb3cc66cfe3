import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { floodFillPolygons } from "../../test/oracles/contours-flood.js";
import { area, binaryMaskFrom, decode, emptyRle, encode, fromPolygons, iou, maskToPolygons, merge, rleEquals, rleToPolygons, type BinaryMask, type Rle } from "./index.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shared = path.resolve(repoRoot, "../shared");

/** Outer polygons minus holes, rasterised the pycocotools way. */
function rasterise(mask: BinaryMask, polys: ReturnType<typeof maskToPolygons>): Rle {
  const { height: h, width: w } = mask;
  if (polys.length === 0) return emptyRle(h, w);
  const parts = polys.map((p) => {
    const outer = fromPolygons([p.outer], h, w);
    if (p.holes.length === 0) return outer;
    const holes = merge(p.holes.map((hole) => fromPolygons([hole], h, w)));
    // outer AND NOT holes
    const inv = decode(holes);
    for (let i = 0; i < inv.data.length; i++) inv.data[i] = inv.data[i] ? 0 : 1;
    return merge([outer, encode(inv)], true);
  });
  return merge(parts);
}

function blobs(h: number, w: number, seed: number): BinaryMask {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const d = new Uint8Array(h * w);
  for (let e = 0; e < 6; e++) {
    const cx = rand() * w, cy = rand() * h, rx = 3 + rand() * w * 0.25, ry = 3 + rand() * h * 0.25;
    const val = e % 3 === 2 ? 0 : 1; // some ellipses cut holes
    const t = rand() * Math.PI;
    const c = Math.cos(t), sn = Math.sin(t);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const u = (x - cx) * c + (y - cy) * sn, v = -(x - cx) * sn + (y - cy) * c;
        if ((u / rx) ** 2 + (v / ry) ** 2 <= 1) d[y * w + x] = val;
      }
  }
  return { height: h, width: w, data: d };
}

const iouOf = (a: Rle, b: Rle) => iou([a], [b], [false])[0]![0]!;

describe("maskToPolygons", () => {
  test("a square with a hole and a separate island inside the hole", () => {
    const h = 12, w = 12;
    const d = new Uint8Array(h * w);
    for (let y = 1; y < 11; y++) for (let x = 1; x < 11; x++) d[y * w + x] = 1;
    for (let y = 3; y < 9; y++) for (let x = 3; x < 9; x++) d[y * w + x] = 0;
    d[5 * w + 5] = 1;
    const mask = { height: h, width: w, data: d };
    const polys = maskToPolygons(mask);
    expect(polys).toHaveLength(2);
    expect(polys[0]!.outer).toEqual([1, 1, 11, 1, 11, 11, 1, 11]);
    expect(polys[0]!.holes).toEqual([[3, 3, 9, 3, 9, 9, 3, 9]]);
    expect(polys[1]!.outer).toEqual([5, 5, 6, 5, 6, 6, 5, 6]);
    expect(rleEquals(rasterise(mask, polys), encode(mask))).toBe(true);
  });

  test("diagonal touches: 4-connected foreground, 8-connected holes", () => {
    // Two pixels touching at a corner are two components.
    const a = { height: 3, width: 3, data: Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 0]) };
    expect(maskToPolygons(a)).toHaveLength(2);
    // A ring whose hole leaks diagonally to the outside has no hole.
    const ring = Uint8Array.from([
      0, 0, 0, 0, 0,
      0, 1, 1, 0, 0,
      0, 1, 0, 1, 0,
      0, 1, 1, 1, 0,
      0, 0, 0, 0, 0,
    ]);
    const m = { height: 5, width: 5, data: ring };
    const p = maskToPolygons(m);
    expect(p).toHaveLength(1);
    expect(p[0]!.holes).toHaveLength(0);
    expect(rleEquals(rasterise(m, p), encode(m))).toBe(true);
  });

  test("random blobs with holes and several components re-rasterise exactly; simplify reduces points", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const mask = blobs(97, 131, seed);
      const want = encode(mask);
      const polys = maskToPolygons(mask);
      expect(rleEquals(rasterise(mask, polys), want)).toBe(true);
      const simple = maskToPolygons(mask, { simplify: 1 });
      // These blobs are small (a few hundred pixels each), so a 1-pixel tolerance costs a few percent.
      if (area(want) > 0) expect(iouOf(rasterise(mask, simple), want)).toBeGreaterThanOrEqual(0.9);
      const pts = (ps: typeof polys) => ps.reduce((n, p) => n + p.outer.length + p.holes.reduce((k, q) => k + q.length, 0), 0);
      expect(pts(simple)).toBeLessThanOrEqual(pts(polys));
    }
  });

  test("real masks: the pycocotools fixture blobs and SAM 2 masks", async () => {
    const files = [
      path.join(shared, "fixtures/coco-rle/blobs_large.png"),
      path.join(shared, "fixtures/coco-rle/blobs_300x400.png"),
      path.join(shared, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/sam/masks/4220420_7397afecdb_o/mask_0.png"),
      path.join(shared, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/sam/masks/4220420_7397afecdb_o/mask_5.png"),
    ];
    for (const f of files) {
      const { data, info } = await sharp(readFileSync(f)).raw().toBuffer({ resolveWithObject: true });
      const mask = binaryMaskFrom(data, info.height, info.width, info.channels);
      const want = encode(mask);
      expect(rleEquals(rasterise(mask, maskToPolygons(mask)), want)).toBe(true);
      expect(iouOf(rasterise(mask, maskToPolygons(mask, { simplify: 1.5 })), want)).toBeGreaterThanOrEqual(0.98);
    }
  });

  test("minPoints, empty masks and bad input", () => {
    expect(maskToPolygons({ height: 4, width: 4, data: new Uint8Array(16) })).toEqual([]);
    const one = { height: 3, width: 3, data: Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]) };
    expect(maskToPolygons(one)).toEqual([{ outer: [1, 1, 2, 1, 2, 2, 1, 2], holes: [] }]);
    expect(maskToPolygons(one, { minPoints: 5 })).toEqual([]);
    const full = { height: 2, width: 3, data: new Uint8Array(6).fill(1) };
    expect(maskToPolygons(full)[0]!.outer).toEqual([0, 0, 3, 0, 3, 2, 0, 2]);
    expect(() => maskToPolygons({ height: 2, width: 2, data: new Uint8Array(3) })).toThrow(/maskToPolygons/);
  });

  test("traced from the runs within the mask's box, the polygons equal the whole-image flood fill's", () => {
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    const cases: BinaryMask[] = [];
    // Noise of every density: many components, holes, diagonal touches, pixels on every edge and corner.
    for (let k = 0; k < 1500; k++) {
      const h = 1 + Math.floor(rand() * 24), w = 1 + Math.floor(rand() * 24), p = rand();
      const d = new Uint8Array(h * w);
      for (let i = 0; i < d.length; i++) d[i] = rand() < p ? 1 : 0;
      cases.push({ height: h, width: w, data: d });
    }
    // Blobs with holes cut into them, some running off the image; frames whose hole touches nothing but them.
    for (let k = 0; k < 60; k++) cases.push(blobs(20 + Math.floor(rand() * 60), 20 + Math.floor(rand() * 60), 1000 + k));
    for (const [h, w, t] of [[9, 7, 1], [12, 12, 2], [5, 5, 1]] as const) {
      const d = new Uint8Array(h * w).fill(1);
      for (let y = t; y < h - t; y++) for (let x = t; x < w - t; x++) d[y * w + x] = 0;
      d[Math.floor(h / 2) * w + Math.floor(w / 2)] = 1; // an island in the hole
      cases.push({ height: h, width: w, data: d });
    }
    cases.push({ height: 6, width: 4, data: new Uint8Array(24).fill(1) }, { height: 1, width: 9, data: Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1]) }, { height: 0, width: 5, data: new Uint8Array(0) });
    let holes = 0;
    let edge = 0;
    for (const m of cases) {
      const want = floodFillPolygons(m, 1);
      const rle = encode(m);
      expect(rleToPolygons(rle, { minPoints: 1 })).toEqual(want);
      expect(maskToPolygons(m)).toEqual(floodFillPolygons(m, 3));
      holes += want.reduce((n, p) => n + p.holes.length, 0);
      if (want.some((p) => p.outer.some((v, i) => v === 0 || v === (i & 1 ? m.height : m.width)))) edge++;
    }
    // The cases do hold what they are meant to: many holes and many polygons on the image's edges.
    expect(holes).toBeGreaterThan(500);
    expect(edge).toBeGreaterThan(500);
  });

  test("rleToPolygons: runs split by empty runs, simplify, bad input", () => {
    const one = { height: 4, width: 3, data: Uint8Array.from([0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0]) };
    const canonical = encode(one);
    // The same mask with a foreground run cut in two by an empty background run.
    const c = Array.from(canonical.counts);
    const split = [c[0]!, 1, 0, c[1]! - 1, ...c.slice(2)];
    expect(rleToPolygons({ height: 4, width: 3, counts: Uint32Array.from(split) })).toEqual(maskToPolygons(one));
    const mask = blobs(97, 131, 3);
    expect(rleToPolygons(encode(mask), { simplify: 1.5 })).toEqual(maskToPolygons(mask, { simplify: 1.5 }));
    expect(rleToPolygons(emptyRle(5, 5))).toEqual([]);
    expect(() => rleToPolygons({ height: 2, width: 2, counts: Uint32Array.of(1, 2) })).toThrow(/rleToPolygons: RLE counts sum to 3/);
    expect(() => rleToPolygons(canonical, { simplify: -1 })).toThrow(/rleToPolygons: simplify/);
  });
});
