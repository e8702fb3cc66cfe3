import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { area, encode, toBbox } from "../masks/index.js";
import type { BinaryMask, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { decodeImage, loadImage, loadMaskPng } from "./decode.js";
import { GLYPH_HEIGHT, measureText } from "./font.js";
import { regionColour } from "./palette.js";
import { farthestInteriorPoint, labelBorders, maskLabelPoint, maskOutline } from "./raster.js";
import {
  captionScale,
  renderCandidates,
  renderCandidatesRgb,
  renderMaskPng,
  renderOverlay,
  renderOverlayRgb,
  type CandidateRegion,
} from "./render.js";
import type { RgbImage } from "./types.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");
const shared = join(repoRoot, "../shared");

function maskFrom(width: number, height: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

function region(id: number, mask: BinaryMask): CandidateRegion {
  const rle = encode(mask);
  return { id, rle, bbox: toBbox(rle), area: area(rle) };
}

function greyImage(width: number, height: number, value = 128): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(value) };
}

const px = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe("renderCandidates", () => {
  const W = 200;
  const H = 120;
  const big = maskFrom(W, H, (x, y) => x >= 10 && x < 110 && y >= 10 && y < 110); // 100×100 square
  const small = maskFrom(W, H, (x, y) => x >= 40 && x < 70 && y >= 40 && y < 70); // inside the big one
  const apart = maskFrom(W, H, (x, y) => (x - 160) ** 2 + (y - 60) ** 2 < 25 ** 2); // a disc
  const regions = [region(1, small), region(0, big), region(2, apart)];
  const image = greyImage(W, H);
  const out = renderCandidatesRgb(image, regions, { labelScale: 1 });

  it("leaves pixels outside every mask untouched (labels stay inside masks here)", () => {
    const anyMask = (p: number) => big.data[p] || small.data[p] || apart.data[p];
    let changedOutside = 0;
    for (let p = 0; p < W * H; p++) if (!anyMask(p) && px(out, p % W, Math.floor(p / W)).some((v) => v !== 128)) changedOutside++;
    expect(changedOutside).toBe(0);
  });

  it("tints every mask in its id's colour, smaller regions on top", () => {
    const tinted = (id: number) => regionColour(id).map((c) => Math.floor((128 * (256 - 115) + c * 115) / 256));
    expect(px(out, 15, 100)).toEqual(tinted(0)); // big square, away from labels and borders
    expect(px(out, 45, 65)).toEqual(tinted(1)); // small square drawn over the big one
    expect(px(out, 150, 75)).toEqual(tinted(2)); // disc
    expect(regionColour(0)).not.toEqual(regionColour(1));
  });

  it("draws borders on the mask side of each edge", () => {
    const border = regionColour(0).map((c) => (c * 180) >> 8);
    expect(px(out, 10, 90)).toEqual(border); // left edge of the big square
    expect(px(out, 9, 90)).toEqual([128, 128, 128]);
  });

  it("labels each region with its number inside the mask", () => {
    // Count pixels changed to the label box rim colour: each region has a box.
    const rimPixels = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(out, x, y).every((v) => v === 20)) n++;
      return n;
    };
    expect(rimPixels(40, 40, 70, 70)).toBeGreaterThan(10); // "1" in the small square
    expect(rimPixels(135, 35, 185, 85)).toBeGreaterThan(10); // "2" in the disc
    // The big square's visible part is a frame around the small square: its label sits in the frame.
    expect(rimPixels(10, 10, 110, 40) + rimPixels(10, 70, 110, 110) + rimPixels(10, 40, 40, 70) + rimPixels(70, 40, 110, 70)).toBeGreaterThan(10);
  });

  it("returns a PNG of the image's size and checks mask sizes", async () => {
    const png = await renderCandidates(image, regions);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", W, H]);
    const wrong = region(5, maskFrom(10, 10, () => true));
    expect(() => renderCandidatesRgb(image, [wrong])).toThrow(GearSegError);
    expect(() => renderCandidatesRgb(image, [wrong])).toThrow("renderCandidates: region 5: mask is 10×10 but the image is 200×120");
  });
});

describe("label placement and outlines", () => {
  it("puts the label of a U-shaped mask inside the mask, though its bbox centre is outside", () => {
    // A U: two 20-px legs and a 20-px bottom bar in a 100×100 box; the bbox centre (50, 50) is in the gap.
    const u = maskFrom(120, 120, (x, y) => x >= 10 && x < 110 && y >= 10 && y < 110 && (x < 30 || x >= 90 || y >= 90));
    expect(u.data[60 * 120 + 60]).toBe(0);
    const at = maskLabelPoint(u)!;
    expect(u.data[at[1] * 120 + at[0]]).toBe(1);
    // In a thick part: at least 8 px from the border in every axis direction.
    for (const [dx, dy] of [[8, 0], [-8, 0], [0, 8], [0, -8]]) expect(u.data[(at[1] + dy!) * 120 + at[0] + dx!]).toBe(1);
  });

  it("finds the thick part of a large mask on a downsampled grid", () => {
    // 2000×300: a thin 4-px line and a 200-px disc; the label must go in the disc.
    const m = maskFrom(2000, 300, (x, y) => (y >= 148 && y < 152) || (x - 1700) ** 2 + (y - 150) ** 2 < 100 ** 2);
    const at = farthestInteriorPoint(m.data, 2000, 300, 1, [0, 50, 2000, 200])!;
    expect(Math.hypot(at[0] - 1700, at[1] - 150)).toBeLessThan(30);
  });

  it("computes 1- and 2-px outlines of a mask", () => {
    const sq = maskFrom(10, 10, (x, y) => x >= 2 && x < 8 && y >= 2 && y < 8);
    const one = maskOutline(sq, 1);
    expect(one.data.reduce((a, b) => a + b, 0)).toBe(20); // 6×6 square minus 4×4 interior
    expect(one.data[2 * 10 + 2]).toBe(1);
    expect(one.data[4 * 10 + 4]).toBe(0);
    const two = maskOutline(sq, 2);
    expect(two.data.reduce((a, b) => a + b, 0)).toBe(32); // 6×6 minus 2×2
    // The image edge counts as outside only when asked.
    const full = maskFrom(5, 5, () => true);
    expect(maskOutline(full, 1).data.every((v) => v === 0)).toBe(true);
    expect(maskOutline(full, 1, true).data.reduce((a, b) => a + b, 0)).toBe(16);
  });

  it("marks borders between touching regions on both sides", () => {
    const labels = new Uint16Array([1, 1, 2, 2, 1, 1, 2, 2]);
    expect(Array.from(labelBorders(labels, 4, 2, 1))).toEqual([0, 1, 1, 0, 0, 1, 1, 0]);
  });
});

describe("renderOverlay and renderMaskPng", () => {
  const W = 160;
  const H = 100;
  const a = region(3, maskFrom(W, H, (x, y) => x >= 20 && x < 60 && y >= 20 && y < 80));
  const b = region(8, maskFrom(W, H, (x, y) => x >= 100 && x < 140 && y >= 30 && y < 70));

  it("adds a caption band above the image, dims outside the answer, outlines 2 px", () => {
    const image = greyImage(W, H, 200);
    const out = renderOverlayRgb(image, [a, b], { caption: "boxes → 3, 8" });
    const band = out.height - H;
    expect(out.width).toBe(W);
    expect(band).toBe(measureText("x", captionScale(W)).height + 8 * captionScale(W));
    expect(band).toBeGreaterThanOrEqual(GLYPH_HEIGHT);
    const at = (x: number, y: number) => px(out, x, y + band);
    expect(at(5, 5)).toEqual([120, 120, 120]); // outside: 200 × 0.6
    const rim = regionColour(3).map((c) => (c * 180) >> 8);
    expect(at(20, 50)).toEqual(rim);
    expect(at(21, 50)).toEqual(rim);
    expect(at(22, 50)).not.toEqual(rim);
    // Caption text is light on the dark band.
    let light = 0;
    for (let y = 0; y < band; y++) for (let x = 0; x < W; x++) if (px(out, x, y)[0]! > 200) light++;
    expect(light).toBeGreaterThan(50);
  });

  it("wraps a long caption onto more lines", () => {
    const image = greyImage(W, H);
    const short = renderOverlayRgb(image, [a], { caption: "cat" });
    const long = renderOverlayRgb(image, [a], { caption: "which object would you sit on to rest after a long walk through the park" });
    expect(long.height - H).toBeGreaterThan(2 * (short.height - H));
    expect(renderOverlayRgb(image, [a]).height).toBe(H);
  });

  it("leaves the photo as it is when nothing was chosen (caption only)", () => {
    const image = greyImage(W, H, 200);
    const out = renderOverlayRgb(image, [], { caption: "no answer" });
    const band = out.height - H;
    expect(band).toBeGreaterThan(0);
    expect(Buffer.from(out.data.subarray(band * W * 3)).equals(Buffer.from(image.data))).toBe(true);
  });

  it("uses the given union to decide what is dimmed", () => {
    const image = greyImage(W, H, 200);
    const union = encode(maskFrom(W, H, (x) => x < 80));
    const out = renderOverlayRgb(image, [a], { union });
    expect(px(out, 70, 5)).toEqual([200, 200, 200]); // in the union, outside the chosen region
    expect(px(out, 150, 5)).toEqual([120, 120, 120]);
  });

  it("writes a 0/255 mask PNG from an RLE or a binary mask", async () => {
    const mask = maskFrom(7, 5, (x, y) => x > y);
    for (const input of [encode(mask), mask] as (Rle | BinaryMask)[]) {
      const png = await renderMaskPng(input);
      const raw = await sharp(png).extractChannel(0).raw().toBuffer();
      expect(Array.from(raw)).toEqual(Array.from(mask.data, (v) => v * 255));
    }
  });

  it("encodes the overlay as PNG", async () => {
    const png = await renderOverlay(greyImage(W, H), [a, b], { caption: "q" });
    const img = await decodeImage(png, "overlay.png");
    expect(img.width).toBe(W);
  });
});

describe("smoke: real photos and SAM masks (pictures in the OS temp folder)", () => {
  it("renders candidates and overlay for a ReasonSeg sample with 103 SAM masks", async () => {
    const base = join(shared, "data/gear-seg-samples");
    const name = "4537339_3d8e488294_o";
    const image = await loadImage(join(base, "dataset/ReasonSeg_val/images", `${name}.jpg`));
    const regions: CandidateRegion[] = [];
    for (let i = 0; i < 103; i++) {
      const mask = await loadMaskPng(join(base, "outputs/reasonseg_task/ReasonSeg_val/sam/masks", name, `mask_${i}.png`));
      regions.push(region(i, mask));
    }
    const outDir = join(tmpdir(), "gear-seg-image-smoke");
    await mkdir(outDir, { recursive: true });
    const cand = await renderCandidates(image, regions);
    await writeFile(join(outDir, "candidates.png"), cand);
    const overlay = await renderOverlay(image, [regions[4]!, regions[9]!], { caption: "where would you put the groceries? → masks 4, 9" });
    await writeFile(join(outDir, "overlay.png"), overlay);
    const meta = await sharp(cand).metadata();
    expect([meta.width, meta.height]).toEqual([image.width, image.height]);

    for (const photo of ["cars.jpg", "groceries.jpg", "truck.jpg"]) {
      const img = await loadImage(join(shared, "data/photos", photo));
      const half = regionsOfGrid(img.width, img.height);
      await writeFile(join(outDir, `candidates-${photo}.png`), await renderCandidates(img, half));
    }
  });
});

/** A 4×3 grid of rectangular regions plus a ring, to exercise labels on real photos. */
function regionsOfGrid(W: number, H: number): CandidateRegion[] {
  const out: CandidateRegion[] = [];
  let id = 0;
  for (let gy = 0; gy < 3; gy++)
    for (let gx = 0; gx < 4; gx++) {
      const x0 = Math.floor((gx * W) / 4);
      const y0 = Math.floor((gy * H) / 3);
      out.push(region(id++, maskFrom(W, H, (x, y) => x >= x0 + 8 && x < x0 + W / 4 - 8 && y >= y0 + 8 && y < y0 + H / 3 - 8)));
    }
  const r = Math.min(W, H) / 4;
  out.push(region(id, maskFrom(W, H, (x, y) => Math.abs(Math.hypot(x - W / 2, y - H / 2) - r) < r / 5)));
  return out;
}
