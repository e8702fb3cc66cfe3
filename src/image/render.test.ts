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
import { encodePng } from "./encode.js";
import { captionScale } from "./caption.js";
import { measureText } from "./font.js";
import { expectNoOverlaps } from "../../test/helpers/pictures.js";
import { regionColour } from "./palette.js";
import { farthestInteriorPoint, interiorAnchors, labelBorders, maskLabelPoint, maskOutline } from "./raster.js";
import { interiorAnchorsPlain } from "../../test/oracles/interior-anchors.js";
import {
  maskGrey,
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
  const big = maskFrom(W, H, (x, y) => x >= 10 && x < 110 && y >= 10 && y < 110); // 100×100 square, 42% of the image
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
    expect(out.labels.every((l) => l.leader === undefined)).toBe(true);
  });

  it("tints every mask in its id's colour, smaller regions on top, large ones lightly", () => {
    const tint = (id: number, opacity: number) => regionColour(id).map((c) => (128 * (256 - opacity) + c * opacity) >> 8);
    // A region over a fifth of the image keeps 0.35 of the tint's opacity: round(256 × 0.45 × 0.35) = 40.
    expect(px(out, 15, 100)).toEqual(tint(0, 40));
    // Smaller ones are tinted more strongly (the small square over the big one, the disc).
    const strength = (x: number, y: number, id: number) => Math.abs(px(out, x, y)[0]! - 128) / Math.abs(regionColour(id)[0] - 128);
    expect(strength(45, 65, 1)).toBeGreaterThan(strength(15, 100, 0) + 0.1);
    expect(strength(150, 75, 2)).toBeGreaterThan(strength(15, 100, 0));
    expect(regionColour(0)).not.toEqual(regionColour(1));
  });

  it("draws soft borders on the mask side of each edge", () => {
    // A straight edge: the pixel inside has 3 neighbours outside, the full border weight (230/256).
    const inner = px(out, 15, 100);
    const edge = px(out, 10, 90);
    const dark = regionColour(0).map((c) => (c * 180) >> 8);
    edge.forEach((v, i) => expect(v).toBe((inner[i]! * 26 + dark[i]! * 230) >> 8));
    expect(px(out, 9, 90)).toEqual([128, 128, 128]);
  });

  it("numbers each region once, inside the region where it fits", () => {
    expect(out.labels.map((l) => l.request.text).sort()).toEqual(["0", "1", "2"]);
    const box = (id: string) => out.labels.find((l) => l.request.text === id)!.box;
    const inside = (b: { x: number; y: number; w: number; h: number }, m: BinaryMask) =>
      [b.x, b.x + b.w - 1].every((x) => [b.y, b.y + b.h - 1].every((y) => m.data[y * W + x] === 1));
    expect(inside(box("1"), small)).toBe(true);
    expect(inside(box("2"), apart)).toBe(true);
    // The big square's visible part is a frame around the small square: its label sits in the frame.
    expect(inside(box("0"), big)).toBe(true);
    const b0 = box("0");
    expect(b0.x + b0.w <= 40 || b0.x >= 70 || b0.y + b0.h <= 40 || b0.y >= 70).toBe(true);
  });

  it("numbers a tiny region beside it, with a leader line, and no two numbers overlap", () => {
    const specks = Array.from({ length: 12 }, (_, k) => region(10 + k, maskFrom(W, H, (x, y) => x >= 120 + 5 * k && x < 122 + 5 * k && y >= 100 && y < 102)));
    const crowded = renderCandidatesRgb(image, [...regions, ...specks], { labelScale: 1 });
    expect(crowded.labels).toHaveLength(15);
    expectNoOverlaps(crowded.labels);
    for (const l of crowded.labels.filter((l) => Number(l.request.text) >= 10)) {
      expect(l.leader).toBeDefined();
      const speck = specks[Number(l.request.text) - 10]!;
      expect(speck.rle).toBeDefined();
      const { x1, y1 } = l.leader!;
      expect(x1).toBeGreaterThanOrEqual(120);
      expect(y1).toBeGreaterThanOrEqual(100);
      expect(y1).toBeLessThan(102);
    }
  });

  it("returns a PNG or a JPEG of the image's size and checks mask sizes", async () => {
    const png = await renderCandidates(image, regions);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", W, H]);
    const jpg = await renderCandidates(image, regions, { format: "jpg" });
    expect((await sharp(jpg).metadata()).format).toBe("jpeg");
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

  /** A photo-like image: every pixel different, so that "unchanged" means something. */
  function texture(width: number, height: number): RgbImage {
    const data = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) {
      data[p * 3] = (p * 7) % 256;
      data[p * 3 + 1] = (p * 13 + 50) % 256;
      data[p * 3 + 2] = (p * 29 + 100) % 256;
    }
    return { width, height, data };
  }

  it("keeps the chosen regions' own pixels, dims and greys the rest, and adds a caption band", () => {
    const image = texture(W, H);
    const out = renderOverlayRgb(image, [a, b], { caption: "boxes", captionTail: "masks 3, 8" });
    const band = out.height - H;
    expect(out.width).toBe(W);
    expect(band).toBe(measureText("x", captionScale(W)).height + 8 * captionScale(W));
    const at = (x: number, y: number) => px(out, x, y + band);
    const photo = (x: number, y: number) => px(image, x, y);
    // Inside a chosen region nothing is painted over the photo (labels sit outside, see below).
    for (const r of [a, b]) {
      const [x0, y0, w, h] = r.bbox;
      for (let y = y0; y < y0 + h; y++) {
        const row = Buffer.from(out.data.subarray(((y + band) * W + x0) * 3, ((y + band) * W + x0 + w) * 3));
        expect(row.equals(Buffer.from(image.data.subarray((y * W + x0) * 3, (y * W + x0 + w) * 3))), `row ${y}`).toBe(true);
      }
    }
    // Far outside: half greyed, then kept at half brightness.
    const [r, g, bl] = photo(80, 95);
    const y = (77 * r! + 150 * g! + 29 * bl!) >> 8;
    expect(at(80, 95)).toEqual([r, g, bl].map((c) => (((c! + y) >> 1) * 128) >> 8));
    // Caption text is light on the dark band.
    let light = 0;
    for (let yy = 0; yy < band; yy++) for (let x = 0; x < W; x++) if (px(out, x, yy)[0]! > 200) light++;
    expect(light).toBeGreaterThan(50);
  });

  it("outlines each region outside its edge in its colour, with a dark rim beyond", () => {
    const image = greyImage(W, H, 200);
    const out = renderOverlayRgb(image, [a], { outlineWidth: 2 });
    expect(px(out, 20, 50)).toEqual([200, 200, 200]); // the region's own edge pixel
    expect(px(out, 19, 50)).toEqual([...regionColour(3)]); // 1 px out: the outline
    expect(px(out, 18, 50)).toEqual([...regionColour(3)]); // 2 px out
    expect(px(out, 17, 50)[0]).toBeLessThan(100); // the rim (dark)
    expect(px(out, 12, 50)).toEqual([100, 100, 100]); // beyond: dimmed only
  });

  it("draws smooth outlines: as wide on a diagonal as along an axis, with partial pixels at the rim", () => {
    const image = greyImage(200, 200, 200);
    const disc = region(0, maskFrom(200, 200, (x, y) => (x - 100) ** 2 + (y - 100) ** 2 < 60 ** 2));
    const out = renderOverlayRgb(image, [disc], { outlineWidth: 3, labelScale: 1 });
    const colour = regionColour(0);
    const isColour = (x: number, y: number) => px(out, x, y).every((v, i) => v === colour[i]);
    // Along the axis and along the diagonal (Euclidean length), the band of full colour is ~3 px wide.
    let axis = 0;
    for (let x = 100; x < 200; x++) if (isColour(x, 100)) axis++;
    let diagonal = 0;
    for (let t = 0; t < 100; t++) if (isColour(100 + t, 100 + t)) diagonal++;
    expect(axis).toBeGreaterThanOrEqual(2);
    expect(axis).toBeLessThanOrEqual(4);
    expect(Math.abs(diagonal * Math.SQRT2 - axis)).toBeLessThanOrEqual(2);
    // Anti-aliasing: some rim pixels are blends (neither the colour nor the dark rim nor the dimmed grey).
    let blends = 0;
    for (let yy = 0; yy < 200; yy++) {
      for (let x = 0; x < 200; x++) {
        const [r] = px(out, x, yy);
        if (r! !== colour[0] && r! !== 100 && r! !== 200 && r! > 30) blends++;
      }
    }
    expect(blends).toBeGreaterThan(100);
  });

  it("numbers the chosen regions beside them, off the answer", () => {
    const out = renderOverlayRgb(greyImage(W, H, 200), [a, b]);
    expect(out.labels.map((l) => l.request.text).sort()).toEqual(["3", "8"]);
    expectNoOverlaps(out.labels);
    for (const { box } of out.labels) {
      for (let y = box.y; y < box.y + box.h; y++) for (let x = box.x; x < box.x + box.w; x++) expect(a.rle && (isIn(a, x, y) || isIn(b, x, y))).toBe(false);
    }
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
    expect(px(out, 150, 5)).toEqual([100, 100, 100]);
  });

  it("takes the union decoded (maskGrey, as mask.png is written from) with the same picture as from its RLE", () => {
    const image = greyImage(W, H, 200);
    for (const m of [maskFrom(W, H, (x) => x < 80), maskFrom(W, H, (x, y) => x > 20 && y > 10 && x < 40)]) {
      const union = encode(m);
      const grey = maskGrey(union);
      expect(Array.from(grey.data)).toEqual(Array.from(m.data, (v) => v * 255));
      const fromRle = renderOverlayRgb(image, [a, b], { union, caption: "q", captionTail: "masks 1, 2" });
      const fromGrey = renderOverlayRgb(image, [a, b], { union: grey, caption: "q", captionTail: "masks 1, 2" });
      expect(Buffer.from(fromGrey.data).equals(Buffer.from(fromRle.data))).toBe(true);
      expect(fromGrey.labels).toEqual(fromRle.labels);
    }
    expect(() => renderOverlayRgb(image, [a], { union: maskGrey(encode(maskFrom(W - 1, H, () => true))) })).toThrow(/union mask/);
  });

  it("writes a 0/255 mask PNG from an RLE or a binary mask", async () => {
    const mask = maskFrom(7, 5, (x, y) => x > y);
    for (const input of [encode(mask), mask] as (Rle | BinaryMask)[]) {
      const png = await renderMaskPng(input);
      const raw = await sharp(png).extractChannel(0).raw().toBuffer();
      expect(Array.from(raw)).toEqual(Array.from(mask.data, (v) => v * 255));
    }
  });

  it("encodes the overlay as PNG or JPEG", async () => {
    const png = await renderOverlay(greyImage(W, H), [a, b], { caption: "q" });
    expect((await decodeImage(png, "overlay.png")).width).toBe(W);
    const jpg = await renderOverlay(greyImage(W, H), [a, b], { caption: "q", format: "jpg" });
    expect([...jpg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    await expect(renderOverlay(greyImage(W, H), [a], { format: "gif" as "png" })).rejects.toThrow(/picture format must be "png" or "jpg"/);
  });
});

function isIn(r: CandidateRegion, x: number, y: number): boolean {
  return x >= r.bbox[0] && x < r.bbox[0] + r.bbox[2] && y >= r.bbox[1] && y < r.bbox[1] + r.bbox[3];
}

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
    const cand = renderCandidatesRgb(image, regions);
    expect(cand.labels).toHaveLength(103);
    expectNoOverlaps(cand.labels);
    await writeFile(join(outDir, "candidates.png"), await encodePng(cand));
    const overlay = renderOverlayRgb(image, [regions[3]!, regions[8]!], { caption: "something that the persons use to cross the water", captionTail: "masks 3, 8" });
    expect(overlay.labels.map((l) => l.request.text).sort()).toEqual(["3", "8"]);
    await writeFile(join(outDir, "overlay.png"), await encodePng(overlay));
    expect([cand.width, cand.height]).toEqual([image.width, image.height]);

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

describe("interiorAnchors", () => {
  it("gives the plain implementation's anchors, in its order (ties by cell index), on shapes with many equal distances", () => {
    const W = 240, H = 180;
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), seed / 4294967296);
    for (let k = 0; k < 12; k++) {
      const labels = new Uint16Array(W * H);
      // a rectangle, a ring, an ellipse with a hole: plateaus of equal distance
      const x0 = Math.floor(rnd() * 60), y0 = Math.floor(rnd() * 40), w = 40 + Math.floor(rnd() * 170), h = 30 + Math.floor(rnd() * 130);
      for (let y = y0; y < Math.min(H, y0 + h); y++) {
        for (let x = x0; x < Math.min(W, x0 + w); x++) {
          const u = (x - x0 - w / 2) / (w / 2), v = (y - y0 - h / 2) / (h / 2);
          const r = u * u + v * v;
          const inside = k % 3 === 0 ? true : k % 3 === 1 ? r <= 1 && r > 0.2 : r <= 1 && !(Math.abs(u) < 0.2 && Math.abs(v) < 0.5);
          if (inside) labels[y * W + x] = 5;
        }
      }
      const bbox: [number, number, number, number] = [x0, y0, w, h];
      for (const count of [1, 8, 40]) expect(interiorAnchors(labels, W, H, 5, bbox, count)).toEqual(interiorAnchorsPlain(labels, W, H, 5, bbox, count));
    }
  });
});

