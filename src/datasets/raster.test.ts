import { describe, expect, it } from "vitest";
import { clipLine, drawLine, fillPoly, polylines, truncatePoints } from "./raster.js";
import { IGNORE_VALUE, rasterizeReasonSeg } from "./reasonseg.js";

const img = (w: number, h: number) => ({ width: w, height: h, data: new Uint8Array(w * h) });
const rows = (m: { width: number; height: number; data: Uint8Array }) =>
  Array.from({ length: m.height }, (_, y) => Array.from(m.data.subarray(y * m.width, (y + 1) * m.width)).join(""));

describe("OpenCV line (LINE_8, left to right)", () => {
  it("draws a shallow line with the Bresenham steps OpenCV takes", () => {
    const m = img(5, 3);
    drawLine(m, 0, 0, 4, 2, 1);
    expect(rows(m)).toEqual(["11000", "00110", "00001"]);
  });
  it("draws the same pixels whichever end comes first", () => {
    const a = img(7, 5);
    const b = img(7, 5);
    drawLine(a, 1, 4, 6, 0, 1);
    drawLine(b, 6, 0, 1, 4, 1);
    expect(rows(a)).toEqual(rows(b));
    expect(a.data.reduce((s, v) => s + v, 0)).toBe(6); // dx + 1 pixels
  });
  it("draws steep lines along y", () => {
    const m = img(3, 5);
    drawLine(m, 0, 0, 2, 4, 1);
    // err starts at dx - 2dy = 0 with y as the major axis: x steps on the 2nd and 4th moves
    expect(rows(m)).toEqual(["100", "100", "010", "010", "001"]);
  });
  it("clips to the image like cv::clipLine", () => {
    const p1 = { x: 2, y: -2 };
    const p2 = { x: 2, y: 2 };
    expect(clipLine(4, 4, p1, p2)).toBe(true);
    expect([p1, p2]).toEqual([{ x: 2, y: 0 }, { x: 2, y: 2 }]);
    expect(clipLine(4, 4, { x: -2, y: 2 }, { x: -2, y: -2 })).toBe(false);
    const q1 = { x: -4, y: 0 };
    const q2 = { x: 4, y: 4 };
    expect(clipLine(4, 4, q1, q2)).toBe(true);
    // p2 first moves to the bottom edge: x2 += trunc((3-4)*8/4) = -2 → (2, 3); then p1 to the left edge:
    // y1 += trunc((0+4)*(3-0)/(2+4)) = 2 → (0, 2)
    expect([q1, q2]).toEqual([{ x: 0, y: 2 }, { x: 2, y: 3 }]);
  });
});

describe("OpenCV fillPoly / polylines (integer points)", () => {
  it("fills a square including its outline", () => {
    const m = img(5, 5);
    fillPoly(m, Int32Array.from([1, 1, 3, 1, 3, 3, 1, 3]), 1);
    expect(rows(m)).toEqual(["00000", "01110", "01110", "01110", "00000"]);
  });
  it("fills a right triangle: 5+4+3+2+1 pixels", () => {
    const m = img(6, 6);
    fillPoly(m, Int32Array.from([0, 0, 4, 0, 0, 4]), 1);
    expect(rows(m)).toEqual(["111110", "111100", "111000", "110000", "100000", "000000"]);
  });
  it("clips a polygon that leaves the image", () => {
    const m = img(4, 4);
    fillPoly(m, Int32Array.from([-2, -2, 2, -2, 2, 2, -2, 2]), 1);
    expect(rows(m)).toEqual(["1110", "1110", "1110", "0000"]);
  });
  it("fills a concave polygon by even-odd spans", () => {
    // a U shape: the notch (cols 2..3, rows 0..2) stays empty apart from its outline
    const m = img(7, 6);
    fillPoly(m, Int32Array.from([0, 0, 2, 0, 2, 3, 4, 3, 4, 0, 6, 0, 6, 5, 0, 5]), 1);
    expect(rows(m)).toEqual(["1110111", "1110111", "1110111", "1111111", "1111111", "1111111"]);
  });
  it("draws a closed polyline including the closing segment", () => {
    const m = img(5, 5);
    polylines(m, Int32Array.from([0, 0, 4, 0, 4, 4]), true, 7);
    // closing segment (4,4)→(0,0) is the main diagonal
    expect(rows(m)).toEqual(["77777", "07007", "00707", "00077", "00007"]);
    const open = img(5, 5);
    polylines(open, Int32Array.from([0, 0, 4, 0, 4, 4]), false, 1);
    expect(open.data.reduce((s, v) => s + v, 0)).toBe(9);
  });
  it("truncates coordinates toward zero as np.int32 does", () => {
    expect(Array.from(truncatePoints([[1.9, -0.7], [-1.2, 3.99]]))).toEqual([1, 0, -1, 3]);
  });
});

describe("LISA ground truth rasterisation", () => {
  it("paints largest first, ignore = 255 wins where it lies on top, flag skipped", () => {
    const shapes = [
      { label: "ignore", points: [[2, 2], [3, 2], [3, 3], [2, 3]] as [number, number][] },
      { label: "target", points: [[0, 0], [5, 0], [5, 5], [0, 5]] as [number, number][] },
      { label: "flag", points: [[0, 0], [5, 0], [5, 5]] as [number, number][] },
    ];
    const m = rasterizeReasonSeg(shapes, 6, 6);
    expect(m.data[2 * 6 + 2]).toBe(IGNORE_VALUE);
    expect(m.data[0]).toBe(1);
    expect(m.data.filter((v) => v === 1).length).toBe(36 - 4);
  });
  it("a smaller target painted over a larger ignore region stays a target", () => {
    const shapes = [
      { label: "target", points: [[2, 2], [3, 2], [3, 3], [2, 3]] as [number, number][] },
      { label: "Ignore region", points: [[0, 0], [5, 0], [5, 5], [0, 5]] as [number, number][] },
    ];
    const m = rasterizeReasonSeg(shapes, 6, 6);
    expect(m.data[2 * 6 + 2]).toBe(1);
    expect(m.data.filter((v) => v === 1).length).toBe(4);
    expect(m.data.filter((v) => v === 255).length).toBe(32);
  });
});
