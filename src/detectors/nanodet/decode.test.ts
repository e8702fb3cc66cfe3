// NanoDet's input and output conventions on synthetic data, where every expected value is computed by hand.
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../image/types.js";
import { classNms, decodeNanodet, type NanodetLevel } from "./decode.js";
import { letterboxOf, nanodetInput, toImageX, toImageY } from "./preprocess.js";

const norm = (value: number, c: number) => (value - [103.53, 116.28, 123.675][c]!) / [57.375, 57.12, 58.395][c]!;

describe("nanodet input", () => {
  it("centres a wide image in the square, pads with black, and stores B, G, R planes normalised", () => {
    // 64×32, left half pure red, right half pure blue: scaled by 0.5 into a 32×32 input, rows 8..23 hold it.
    const width = 64;
    const height = 32;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) data.set(x < 32 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
    const image: RgbImage = { width, height, data };
    const size = 32;
    const out = new Float32Array(3 * size * size);
    const lb = nanodetInput(image, size, out);
    expect(lb).toEqual({ size, ratio: 0.5, width, height });
    const at = (c: number, v: number, u: number) => out[c * size * size + v * size + u]!;
    // Padding rows (above and below the image) are black: 0 normalised per channel.
    for (const v of [0, 5, 26, 31]) for (let c = 0; c < 3; c++) expect(at(c, v, 10)).toBeCloseTo(norm(0, c), 5);
    // Inside: a red pixel has R (plane 2) = 255 and B (plane 0) = 0; a blue one the reverse.
    expect(at(2, 16, 4)).toBeCloseTo(norm(255, 2), 5);
    expect(at(0, 16, 4)).toBeCloseTo(norm(0, 0), 5);
    expect(at(0, 16, 28)).toBeCloseTo(norm(255, 0), 5);
    expect(at(2, 16, 28)).toBeCloseTo(norm(0, 2), 5);
    // Input (u, v) samples image (2u - 32 + 32, 2v - 32 + 16): u = 16 reads x = 32, the first blue column.
    expect(at(0, 16, 16)).toBeCloseTo(norm(255, 0), 5);
    // The first image row sits at v = 8 (y = 2·8 − 16 = 0); v = 7 reads y = −2: outside, black.
    expect(at(2, 8, 4)).toBeCloseTo(norm(255, 2), 5);
    expect(at(2, 7, 4)).toBeCloseTo(norm(0, 2), 5);
  });

  it("maps input coordinates back to image pixels with the inverse warp", () => {
    const lb = letterboxOf(1600, 1200, 416);
    expect(lb.ratio).toBeCloseTo(0.26, 10);
    expect(toImageX(lb, 0)).toBeCloseTo(0, 6);
    expect(toImageX(lb, 416)).toBeCloseTo(1600, 6);
    // Vertical padding of (416 − 312) / 2 = 52 input pixels.
    expect(toImageY(lb, 52)).toBeCloseTo(0, 6);
    expect(toImageY(lb, 364)).toBeCloseTo(1200, 6);
  });

  it("refuses a buffer of the wrong length", () => {
    expect(() => nanodetInput({ width: 2, height: 2, data: new Uint8Array(12) }, 8, new Float32Array(10))).toThrow(/192 needed/);
  });
});

/** A one-level output (stride 8 on a 32×32 input: 4×4 cells) with 3 classes and 4 bins per distance. */
function level(): NanodetLevel {
  const classes = 3;
  const bins = 4;
  const cells = 16;
  const scores = new Float32Array(cells * classes);
  const distances = new Float32Array(cells * 4 * bins).fill(-20);
  const setCell = (cell: number, cls: number, score: number, dist: [number, number, number, number]) => {
    scores[cell * classes + cls] = score;
    // A one-hot distribution: all weight on bin `dist[side]`.
    for (let side = 0; side < 4; side++) distances[cell * 4 * bins + side * bins + dist[side]!] = 20;
  };
  setCell(5, 1, 0.9, [1, 1, 2, 2]); // cell (row 1, col 1): centre (12, 12) → box 4,4 – 28,28
  setCell(6, 1, 0.8, [2, 1, 1, 2]); // cell (1, 2): centre (20, 12) → 4,4 – 28,28 again: suppressed by NMS
  scores[6 * classes + 2] = 0.7; // the same cell, another class: kept (NMS is per class)
  setCell(15, 0, 0.2, [0, 0, 0, 0]); // below the threshold
  return { stride: 8, scores, distances };
}

describe("nanodet decoding", () => {
  it("decodes integral distances from cell centres, runs NMS per class and maps boxes to the image", () => {
    const lb = letterboxOf(64, 32, 32); // ratio 0.5, vertical padding 8
    const dets = decodeNanodet([level()], lb, { scoreThreshold: 0.3, nmsIou: 0.6, maxDetections: 10, labels: ["a", "b", "c"] });
    expect(dets.map((d) => [d.label, d.score])).toEqual([
      ["b", expect.closeTo(0.9, 6)],
      ["c", expect.closeTo(0.7, 6)],
    ]);
    // Input box 4,4 – 28,28 → image x = (x − 16) / 0.5 + 32, y = (y − 16) / 0.5 + 16, clipped to 64×32.
    expect(dets[0]!.bbox.map((v) => Number(v.toFixed(4)))).toEqual([8, 0, 48, 32]);
    expect(dets[0]!.classId).toBe(1);
  });

  it("takes the softmax-weighted mean bin, not the most likely one", () => {
    const l = level();
    // Cell 5's left distance: equal logits on bins 0 and 3 → expected bin 1.5 → 12 input pixels.
    const bins = 4;
    const at = 5 * 4 * bins;
    l.distances.fill(-20, at, at + bins);
    l.distances[at] = 5;
    l.distances[at + 3] = 5;
    const square = letterboxOf(32, 32, 32);
    const dets = decodeNanodet([l], square, { scoreThreshold: 0.3, nmsIou: 0.6, maxDetections: 10, labels: ["a", "b", "c"] });
    expect(dets[0]!.bbox[0]).toBeCloseTo(0, 4); // 12 − 12 = 0
    // Box 0,4 – 28,28 (0.9) and 4,4 – 28,28 (0.8) overlap by IoU 576 / 672 = 0.857 > 0.6: one "b" is left.
    expect(dets.filter((d) => d.label === "b").map((d) => d.score)).toEqual([expect.closeTo(0.9, 6)]);
  });

  it("keeps at most maxDetections, best first", () => {
    const box = { x1: 0, y1: 0, x2: 1, y2: 1 };
    const cands = [0.5, 0.9, 0.7].map((score, i) => ({ ...box, x1: i * 10, x2: i * 10 + 5, classId: 0, score }));
    expect(classNms(cands, 0.5, 2).map((c) => c.score)).toEqual([0.9, 0.7]);
  });
});
