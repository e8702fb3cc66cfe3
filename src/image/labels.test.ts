import { describe, expect, it } from "vitest";
import { expectNoOverlaps, seededRandom } from "../../test/helpers/pictures.js";
import { labelBoxSize, placeLabels, type LabelRequest } from "./labels.js";

/** A label map of rectangles (value k + 1 for rectangle k, later ones on top), with their requests. */
function rectangles(width: number, height: number, rects: [number, number, number, number][]) {
  const labels = new Uint16Array(width * height);
  rects.forEach(([x, y, w, h], k) => {
    for (let yy = y; yy < y + h; yy++) labels.fill(k + 1, yy * width + x, yy * width + x + w);
  });
  const requests: LabelRequest[] = rects.map(([x, y, w, h], k) => ({
    value: k + 1,
    text: String(k),
    colour: [200, 50, 50],
    bbox: [x, y, w, h],
    fallback: [x, y],
  }));
  return { labels, requests };
}

describe("placeLabels", () => {
  it("puts a label inside a region that holds it, and beside a small one with a leader ending on it", () => {
    const W = 200;
    const H = 120;
    const { labels, requests } = rectangles(W, H, [
      [0, 0, 200, 120], // background
      [20, 20, 80, 60], // large: its label fits inside
      [150, 60, 4, 4], // tiny: beside
    ]);
    const { placed, omitted } = placeLabels(labels, W, H, requests.slice(1), { scale: 1, allowInside: true });
    expect(omitted).toEqual([]);
    const [large, tiny] = [placed.find((p) => p.request.text === "1")!, placed.find((p) => p.request.text === "2")!];
    expect(large.leader).toBeUndefined();
    expect(large.box.x).toBeGreaterThanOrEqual(20);
    expect(large.box.x + large.box.w).toBeLessThanOrEqual(100);
    expect(tiny.leader).toBeDefined();
    // The tiny region is not covered by its own label, and the leader ends on one of its pixels.
    const { x, y, w, h } = tiny.box;
    expect(x + w <= 150 || x >= 154 || y + h <= 60 || y >= 64).toBe(true);
    expect(labels[Math.round(tiny.leader!.y1) * W + Math.round(tiny.leader!.x1)]).toBe(3);
  });

  it("gives 200 crowded regions 200 labels, none overlapping another", () => {
    const W = 900;
    const H = 600;
    const rand = seededRandom(3);
    const rects: [number, number, number, number][] = [[0, 0, W, H]];
    for (let i = 0; i < 199; i++) {
      const w = 3 + Math.floor(rand() * 60 * rand());
      const h = 3 + Math.floor(rand() * 60 * rand());
      rects.push([Math.floor(rand() * (W - w)), Math.floor(rand() * (H - h)), w, h]);
    }
    const { labels, requests } = rectangles(W, H, rects);
    const { placed, omitted } = placeLabels(labels, W, H, requests.slice().reverse(), { scale: 2, allowInside: true });
    expect(omitted).toEqual([]);
    expect(placed).toHaveLength(200);
    expectNoOverlaps(placed);
    for (const p of placed) {
      expect(p.box.x).toBeGreaterThanOrEqual(0);
      expect(p.box.y).toBeGreaterThanOrEqual(0);
      expect(p.box.x + p.box.w).toBeLessThanOrEqual(W);
      expect(p.box.y + p.box.h).toBeLessThanOrEqual(H);
    }
  });

  it("keeps labels off the pixels to avoid when there is room", () => {
    const W = 160;
    const H = 100;
    const { labels, requests } = rectangles(W, H, [[40, 20, 80, 60]]);
    const avoid = new Uint8Array(W * H);
    for (let p = 0; p < avoid.length; p++) avoid[p] = labels[p] ? 1 : 0;
    const { placed } = placeLabels(labels, W, H, requests, { scale: 2, allowInside: false, avoid });
    expect(placed).toHaveLength(1);
    const { x, y, w, h } = placed[0]!.box;
    // Neither the box nor its 1-px rim covers the region…
    for (let yy = y - 1; yy < y + h + 1; yy++) for (let xx = x - 1; xx < x + w + 1; xx++) expect(avoid[yy * W + xx]).toBe(0);
    // …and it sits just beside it (the region is 40..119 × 20..79), close enough to need no leader.
    const gap = Math.max(40 - (x + w), x - 120, 20 - (y + h), y - 80);
    expect(gap).toBeGreaterThanOrEqual(1);
    expect(gap).toBeLessThanOrEqual(6);
    expect(placed[0]!.leader).toBeUndefined();
  });

  it("leaves out labels that cannot fit the picture rather than overlap them", () => {
    const W = 30;
    const H = 24;
    const { labels, requests } = rectangles(W, H, [[0, 0, 10, 24], [10, 0, 10, 24], [20, 0, 10, 24]]);
    const size = labelBoxSize("0", 2);
    expect(size.h + 2 <= H).toBe(true);
    const { placed, omitted } = placeLabels(labels, W, H, requests, { scale: 2, allowInside: true });
    expect(placed.length + omitted.length).toBe(3);
    expect(omitted.length).toBeGreaterThan(0);
    expectNoOverlaps(placed);
  });

  it("numbers a region under others near the point it is given, in place when that spot is free", () => {
    const W = 200;
    const H = 120;
    const { labels, requests } = rectangles(W, H, [[10, 10, 180, 100]]);
    const under: LabelRequest = { ...requests[0]!, value: 9, text: "9", bbox: [0, 0, 200, 120], fallback: [100, 60], underOthers: true };
    const { placed } = placeLabels(labels, W, H, [under], { scale: 2, allowInside: true });
    const { x, y, w, h } = placed[0]!.box;
    expect(x <= 100 && 100 < x + w && y <= 60 && 60 < y + h).toBe(true);
    expect(placed[0]!.leader).toBeUndefined();
  });
});
