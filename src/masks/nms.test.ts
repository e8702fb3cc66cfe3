import { describe, expect, test } from "vitest";
import { batchedNms, nms } from "./index.js";

describe("nms (torchvision semantics)", () => {
  // Box 0 and 1 overlap with IoU 81/119 ≈ 0.68; box 2 is apart; box 3 is inside box 0 (IoU 0.25).
  const boxes = [0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 0, 0, 5, 5];
  test("keeps by descending score and suppresses IoU > threshold", () => {
    expect(nms(boxes, [0.9, 0.8, 0.7, 0.95], 0.5)).toEqual([3, 0, 2]);
    expect(nms(boxes, [0.8, 0.9, 0.7, 0.6], 0.5)).toEqual([1, 2, 3]);
    expect(nms(boxes, [0.8, 0.9, 0.7, 0.6], 0.7)).toEqual([1, 0, 2, 3]);
    // IoU exactly equal to the threshold is kept (strictly greater suppresses).
    expect(nms(boxes, [0.9, 0.1, 0.1, 0.8], 0.25)).toEqual([0, 3, 2]);
    expect(nms(boxes, [0.9, 0.1, 0.1, 0.8], 0.2)).toEqual([0, 2]);
    expect(nms([0, 0, 10, 10, 0, 0, 10, 5], [0.9, 0.8], 0.5)).toEqual([0, 1]);
    expect(nms([0, 0, 10, 10, 0, 0, 10, 5], [0.9, 0.8], 0.49)).toEqual([0]);
  });
  test("ties keep input order; empty input; bad lengths throw", () => {
    expect(nms(boxes, [0.5, 0.5, 0.5, 0.5], 0.5)).toEqual([0, 2, 3]);
    expect(nms([], [], 0.5)).toEqual([]);
    expect(() => nms([0, 0, 1], [1], 0.5)).toThrow(/nms/);
  });
  test("batchedNms only suppresses within a group", () => {
    expect(batchedNms(boxes, [0.9, 0.8, 0.7, 0.95], [0, 1, 0, 0], 0.5)).toEqual([3, 0, 1, 2]);
    expect(batchedNms(boxes, [0.9, 0.8, 0.7, 0.95], [0, 0, 0, 1], 0.5)).toEqual([3, 0, 2]);
    expect(() => batchedNms(boxes, [1, 1, 1, 1], [0], 0.5)).toThrow(/group/);
  });
});
