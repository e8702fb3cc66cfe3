// NanoDet's input, value for value, against a plain reading of upstream's recipe (warp by the letterbox matrix,
// bilinear taps with a zero border, float32 tap weights, round to 8 bits, BGR, normalise): the fast loop must give
// the same floats.
import { describe, expect, it } from "vitest";
import { letterboxOf, nanodetInput, toImageX, toImageY } from "./preprocess.js";

function reference(image: { width: number; height: number; data: Uint8Array }, size: number): Float32Array {
  const mean = [103.53, 116.28, 123.675];
  const std = [57.375, 57.12, 58.395];
  const lb = letterboxOf(image.width, image.height, size);
  const out = new Float32Array(3 * size * size);
  const px = (x: number, y: number, ch: number) => (x >= 0 && y >= 0 && x < image.width && y < image.height ? image.data[(y * image.width + x) * 3 + ch]! : undefined);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const sx = toImageX(lb, u);
      const sy = toImageY(lb, v);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      // The tap weights are kept as float32 (one table per axis).
      const wx = Math.fround(sx - x0);
      const wy = Math.fround(sy - y0);
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        const taps: [number, number, number][] = [
          [x0, y0, (1 - wx) * (1 - wy)],
          [x0 + 1, y0, wx * (1 - wy)],
          [x0, y0 + 1, (1 - wx) * wy],
          [x0 + 1, y0 + 1, wx * wy],
        ];
        for (const [x, y, w] of taps) {
          const value = px(x, y, 2 - k);
          if (value !== undefined) sum += value * w;
        }
        out[k * size * size + v * size + u] = (Math.min(255, Math.round(sum)) - mean[k]!) / std[k]!;
      }
    }
  }
  return out;
}

describe("nanodetInput", () => {
  it.each([
    [37, 23, 32],
    [23, 37, 32],
    [64, 64, 32],
    [5, 3, 16],
    [100, 40, 48],
  ])("equals the plain recipe for a %i×%i image at %i", (width, height, size) => {
    let seed = width * 31 + height;
    const data = Uint8Array.from({ length: width * height * 3 }, () => (seed = (seed * 1103515245 + 12345) % 2147483648) >> 23);
    const image = { width, height, data };
    const out = new Float32Array(3 * size * size);
    nanodetInput(image, size, out);
    expect(Buffer.from(out.buffer).equals(Buffer.from(reference(image, size).buffer))).toBe(true);
  });
});
