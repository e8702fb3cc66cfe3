import { createBackend } from "../../stack/registry.js";
import { describe, expect, it } from "vitest";
import { encode } from "../../masks/index.js";
import type { Region } from "../../pipeline/types.js";
import type { RgbImage } from "../../image/types.js";
import { UsageError } from "../../util/errors.js";
import { regionAttributes } from "./index.js";
import { nearestColour, COLOUR_NAMES } from "../../vocabulary/colour-names.js";
import { conformance, squaresScene } from "../../../test/helpers/conformance.js";

const W = 120;
const H = 90;

/** A synthetic scene: grey background, a red block on the left, a blue square top right, a green disc inside the red block, a striped bar at the bottom. */
function scene(): { image: RgbImage; regions: Region[] } {
  const data = new Uint8Array(W * H * 3).fill(128);
  const masks = [new Uint8Array(W * H), new Uint8Array(W * H), new Uint8Array(W * H), new Uint8Array(W * H)];
  const paint = (x: number, y: number, rgb: [number, number, number], m: number) => {
    data.set(rgb, (y * W + x) * 3);
    masks[m]![y * W + x] = 1;
  };
  for (let y = 10; y < 70; y++) for (let x = 5; x < 45; x++) paint(x, y, [200, 25, 30], 0);
  for (let y = 5; y < 25; y++) for (let x = 90; x < 110; x++) paint(x, y, [35, 80, 210], 1);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) if ((x - 25) ** 2 + (y - 40) ** 2 <= 64) {
      paint(x, y, [40, 160, 50], 2);
      masks[0]![y * W + x] = 1; // the disc lies on the block: the block's mask covers it
    }
  for (let y = 78; y < 86; y++) for (let x = 0; x < W; x++) paint(x, y, x % 4 < 2 ? [250, 240, 60] : [20, 20, 20], 3);
  const regions = masks.map((m, id): Region => {
    const rle = encode({ height: H, width: W, data: m });
    let x0 = W, y0 = H, x1 = -1, y1 = -1, area = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (m[y * W + x]) {
      area++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    return { id, rle, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1], area };
  });
  return { image: { width: W, height: H, data }, regions };
}

describe("colour names", () => {
  it("names basic colours by their CIELAB neighbours", () => {
    const name = (r: number, g: number, b: number) => COLOUR_NAMES[nearestColour(r, g, b)];
    expect(name(220, 20, 30)).toBe("red");
    expect(name(30, 60, 220)).toBe("blue");
    expect(name(30, 150, 40)).toBe("green");
    expect(name(250, 250, 250)).toBe("white");
    expect(name(10, 10, 10)).toBe("black");
    expect(name(120, 120, 120)).toBe("grey");
    expect(name(245, 140, 20)).toBe("orange");
    expect(name(110, 70, 35)).toBe("brown");
  });
});

describe("attributes describer", () => {
  it("describes colour, position, shape, texture and relations of known regions", async () => {
    const { image, regions } = scene();
    const d = await createBackend("describer", "attributes", {});
    const text = await d.describe(image, regions);
    expect(text).toHaveLength(4);
    const { attributes } = regionAttributes(image, regions);
    const [block, square, disc, bar] = attributes as [NonNullable<(typeof attributes)[0]>, NonNullable<(typeof attributes)[0]>, NonNullable<(typeof attributes)[0]>, NonNullable<(typeof attributes)[0]>];
    expect(block.colours[0]!.name).toBe("red");
    expect(block.colours.map((c) => c.name)).toContain("green");
    expect(block.horizontal).toBe("left");
    expect(block.superlatives).toContain("largest");
    expect(block.superlatives).toContain("leftmost");
    expect(block.contains).toEqual([2]);
    expect(square.colours[0]!.name).toBe("blue");
    expect([square.horizontal, square.vertical]).toEqual(["right", "top"]);
    expect(square.shape).toContain("rectangular");
    expect(square.superlatives).toContain("topmost");
    expect(disc.colours[0]!.name).toBe("green");
    expect(disc.shape).toContain("round");
    expect(disc.insideOf).toBe(0);
    expect(disc.superlatives).toContain("smallest");
    expect(bar.spans).toEqual(["width"]);
    expect(bar.shape).toContain("long and thin");
    expect(bar.shape).toContain("horizontal");
    expect(bar.texture).toBe("textured");
    expect(square.texture).toBe("smooth");
    expect(bar.vertical).toBe("bottom");
    expect(text[1]).toMatch(/blue/);
    expect(text[1]).toMatch(/top right/);
    expect(text[2]).toMatch(/Inside region 0/);
    expect(text[0]).toMatch(/Contains region 2/);
    expect(text[3]).toMatch(/spanning the width/);
    // Deterministic.
    expect(await d.describe(image, regions)).toEqual(text);
  });

  it("captions the whole image from the same measurements", async () => {
    const { image, regions } = scene();
    const d = await createBackend("captioner", "attributes", {});
    const caption = await d.caption(image, regions);
    expect(caption).toMatch(/grey \(\d+%\)/);
    expect(caption).toMatch(/4 regions/);
    expect(caption).toMatch(/red region at the middle left/);
    // After `describe`, the caption reads its measurements instead of the pixels: the same text.
    await (await createBackend("describer", "attributes", {})).describe(image, regions);
    expect(await d.caption(image, regions)).toBe(caption);
    // And with other regions (masks it has not measured) it measures again.
    expect(await d.caption(image, regions.slice(1))).toBe(await d.caption({ ...image }, regions.slice(1)));
  });

  it("rejects unknown options and masks of another size", async () => {
    await expect(createBackend("describer", "attributes", { colours: 2 })).rejects.toThrow(/unknown option "colours"/);
    await expect(createBackend("describer", "attributes", { maxColours: 9 })).rejects.toBeInstanceOf(UsageError);
    const { image, regions } = scene();
    const d = await createBackend("describer", "attributes", {});
    const small: RgbImage = { width: 10, height: 10, data: new Uint8Array(300) };
    await expect(d.describe(small, regions)).rejects.toThrow(/region 0 mask is 120x90, image is 10x10/);
    expect(image.width).toBe(W);
  });
});

conformance("attributes", { kind: "describer", spec: "attributes", variant: { maxColours: 2 }, input: squaresScene });
conformance("attributes", { kind: "captioner", spec: "attributes", variant: { maxColours: 2 }, input: squaresScene });
