import { describe, expect, test } from "vitest";
import { decode, encode } from "../masks/rle.js";
import { focalCropBox, rgbToRgbaBase, setAlphaFromRle } from "./focal.js";

describe("region pixels for describers", () => {
  test("the alpha channel is exactly the mask; colours are the image's", () => {
    const W = 23, H = 17;
    const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
    const data = Uint8Array.from({ length: W * H }, (_, i) => ((i * 7919) % 13 < 5 || (i > 40 && i < 90) ? 1 : 0));
    const rle = encode({ width: W, height: H, data });
    const rgba = rgbToRgbaBase(rgb, W, H);
    setAlphaFromRle(rgba, rle);
    const mask = decode(rle).data;
    for (let i = 0; i < W * H; i++) {
      expect(rgba[i * 4 + 3]).toBe(mask[i] ? 255 : 0);
      expect([rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]]).toEqual([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]);
    }
  });

  test("focal crop: the box grown to 48 px, one box of context each side, clipped to the image", () => {
    // A 10×20 box at (100, 50): grown to 48×48 about its centre (105, 60) → x0 = 81, y0 = 36; crop 144×144 from (33, -12), clipped at the top.
    expect(focalCropBox([100, 50, 10, 20], 640, 480)).toEqual([33, 0, 144, 132]);
    // A large box keeps its size; the crop is clipped at the right and bottom edges.
    expect(focalCropBox([500, 300, 100, 150], 640, 480)).toEqual([400, 150, 240, 330]);
  });
});
