import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GearSegError } from "../util/errors.js";
import { decodeImage, DEFAULT_MAX_PIXELS, loadImage, loadMaskPng } from "./decode.js";
import { cropImage, encodeJpeg, encodeMaskPng, encodePng, resizeImage } from "./encode.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../..");
const photos = join(repoRoot, "../shared/data/photos");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gear-seg-image-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Expects `promise` to reject with a one-line GearSegError whose message is exactly `message`. */
async function rejectsWith(promise: Promise<unknown>, message: string | RegExp) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GearSegError);
  const text = (err as Error).message;
  expect(text).not.toContain("\n");
  if (typeof message === "string") expect(text).toBe(message);
  else expect(text).toMatch(message);
}

/** A PNG with a valid IHDR of the given size but pixel data for one row only (libvips wants an IDAT). */
function headerOnlyPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.alloc(1 + 3 * width))), chunk("IEND", Buffer.alloc(0))]);
}

/** A w×h RGB test pattern: red channel = x * 10, green = y * 10, blue = 50. */
function pattern(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) d.set([x * 10, y * 10, 50], (y * w + x) * 3);
  return d;
}

describe("loadImage: bad input", () => {
  it("rejects a missing file", async () => {
    const p = join(dir, "nope.jpg");
    await rejectsWith(loadImage(p), `cannot read image "${p}": file not found`);
  });

  it("rejects a directory", async () => {
    await rejectsWith(loadImage(dir), `cannot read image "${dir}": is a directory, not a file`);
  });

  it("rejects an empty file", async () => {
    const p = join(dir, "empty.png");
    await writeFile(p, new Uint8Array(0));
    await rejectsWith(loadImage(p), `cannot read image "${p}": empty file (0 bytes)`);
  });

  it("rejects a text file", async () => {
    const p = join(dir, "notes.jpg");
    await writeFile(p, "these are not pixels\n");
    await rejectsWith(loadImage(p), `cannot read image "${p}": not an image (unsupported or corrupt data)`);
  });

  it("rejects a truncated JPEG (cut real photo) instead of decoding half of it", async () => {
    const bytes = await readFile(join(photos, "truck.jpg"));
    for (const frac of [0.3, 0.97]) {
      const p = join(dir, `cut-${frac}.jpg`);
      await writeFile(p, bytes.subarray(0, Math.floor(bytes.length * frac)));
      await rejectsWith(loadImage(p), `cannot read image "${p}": truncated or corrupt JPEG data`);
    }
  });

  it("rejects a truncated PNG", async () => {
    const png = await sharp(join(photos, "groceries.jpg")).resize(300).png().toBuffer();
    const p = join(dir, "cut.png");
    await writeFile(p, png.subarray(0, Math.floor(png.length * 0.8)));
    await rejectsWith(loadImage(p), `cannot read image "${p}": truncated or corrupt PNG data`);
  });

  it("rejects an image over the pixel limit from its header, naming size and flag", async () => {
    const p = join(dir, "big.png");
    await writeFile(p, await encodePng({ width: 40, height: 30, data: pattern(40, 30) }));
    await rejectsWith(loadImage(p, { maxPixels: 1000 }), `cannot read image "${p}": 40×30 = 1200 pixels exceeds the limit of 1000 pixels (raise it with option maxPixels)`);
    expect((await loadImage(p, { maxPixels: 1200 })).width).toBe(40);
  });

  it("formats the default limit in megapixels, and our limit wins over sharp's own", async () => {
    expect(DEFAULT_MAX_PIXELS).toBe(50_000_000);
    // A header-only PNG claiming 20000×20000 (400 megapixels, above sharp's own default limit of 268).
    const big = headerOnlyPng(20000, 20000);
    await rejectsWith(decodeImage(big, "huge.png"), `cannot read image "huge.png": 20000×20000 = 400.0 megapixels exceeds the limit of 50 megapixels (raise it with option maxPixels)`);
    await rejectsWith(decodeImage(headerOnlyPng(12000, 9000), "x.png"), `cannot read image "x.png": 12000×9000 = 108.0 megapixels exceeds the limit of 50 megapixels (raise it with option maxPixels)`);
    await rejectsWith(decodeImage(headerOnlyPng(3000, 1000), "x.png", { maxPixels: 2_500_000 }), `cannot read image "x.png": 3000×1000 = 3.0 megapixels exceeds the limit of 2.5 megapixels (raise it with option maxPixels)`);
    // With the limit raised, sharp's limit does not step in: the missing pixel data is what fails.
    await rejectsWith(decodeImage(big, "huge.png", { maxPixels: 1e9 }), `cannot read image "huge.png": truncated or corrupt PNG data`);
  });

  it("rejects a bad limit as a usage error", async () => {
    await expect(loadImage(join(photos, "truck.jpg"), { maxPixels: 0 })).rejects.toThrow(/max pixels must be a positive number/);
  });
});

describe("loadImage: formats and conversions", () => {
  it("decodes the photos to RGB of the right size", async () => {
    for (const name of ["cars.jpg", "groceries.jpg", "truck.jpg"]) {
      const meta = await sharp(join(photos, name)).metadata();
      const img = await loadImage(join(photos, name));
      expect(img.width).toBe(meta.autoOrient.width);
      expect(img.height).toBe(meta.autoOrient.height);
      expect(img.data.length).toBe(img.width * img.height * 3);
      expect(img.source).toBe(join(photos, name));
    }
  });

  it("applies EXIF orientation 6 (rotate 90° clockwise): size swaps and pixels move", async () => {
    // 4×2 image, a white pixel at the top-left, everything else black.
    const src = new Uint8Array(4 * 2 * 3);
    src.set([255, 255, 255], 0);
    const jpg = await sharp(src, { raw: { width: 4, height: 2, channels: 3 } }).jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpg).metadata()).orientation).toBe(6);
    const img = await decodeImage(jpg, "rotated.jpg");
    expect([img.width, img.height]).toEqual([2, 4]);
    // Rotating 90° clockwise takes the top-left corner to the top-right.
    const at = (x: number, y: number) => img.data[(y * img.width + x) * 3]!;
    expect(at(1, 0)).toBeGreaterThan(100);
    expect(at(0, 0)).toBeLessThan(100);
    expect(at(1, 3)).toBeLessThan(100);
  });

  it("flattens alpha onto white", async () => {
    const rgba = new Uint8Array([255, 0, 0, 0, 0, 0, 255, 128, 0, 255, 0, 255, 0, 0, 0, 0]);
    const png = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } }).png().toBuffer();
    const img = await decodeImage(png, "alpha.png");
    expect(Array.from(img.data)).toEqual([255, 255, 255, 127, 127, 255, 0, 255, 0, 255, 255, 255]);
  });

  it("converts grey to RGB and 16-bit to 8-bit", async () => {
    const grey = await sharp(new Uint8Array([0, 77, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    expect(Array.from((await decodeImage(grey, "grey.png")).data)).toEqual([0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);

    const rgb = new Uint8Array([10, 20, 30, 200, 100, 50, 0, 0, 0, 255, 255, 255]);
    const png16 = await sharp(rgb, { raw: { width: 2, height: 2, channels: 3 } }).toColourspace("rgb16").png().toBuffer();
    expect(png16[24]).toBe(16); // IHDR bit depth: really a 16-bit PNG
    expect(Array.from((await decodeImage(png16, "deep.png")).data)).toEqual(Array.from(rgb));

    const grey16 = await sharp(new Uint8Array([0, 77, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace("grey16").png().toBuffer();
    expect(grey16[24]).toBe(16);
    expect(Array.from((await decodeImage(grey16, "deep-grey.png")).data)).toEqual([0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);
  });

  it("round-trips lossless WebP, TIFF and PNG exactly", async () => {
    const data = pattern(12, 7);
    const raw = () => sharp(data, { raw: { width: 12, height: 7, channels: 3 } });
    for (const [name, bytes] of [
      ["x.webp", await raw().webp({ lossless: true }).toBuffer()],
      ["x.tiff", await raw().tiff({ compression: "lzw" }).toBuffer()],
      ["x.png", await encodePng({ width: 12, height: 7, data })],
    ] as const) {
      const p = join(dir, name);
      await writeFile(p, bytes);
      const img = await loadImage(p);
      expect([img.width, img.height]).toEqual([12, 7]);
      expect(Buffer.from(img.data).equals(Buffer.from(data))).toBe(true);
    }
  });

  it("encodes JPEG that decodes close to the original", async () => {
    const data = pattern(16, 16);
    const img = await decodeImage(await encodeJpeg({ width: 16, height: 16, data }, 95), "q.jpg");
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(img.data[i]! - data[i]!));
    expect(maxDiff).toBeLessThan(16);
    await expect(encodeJpeg({ width: 16, height: 16, data }, 0)).rejects.toThrow(/quality/);
  });
});

describe("masks, resize, crop", () => {
  it("writes a 0/255 grey mask PNG and reads any non-zero first channel as inside", async () => {
    const mask = { width: 3, height: 2, data: new Uint8Array([0, 1, 0, 1, 1, 7]) };
    const png = await encodeMaskPng(mask);
    const meta = await sharp(png).metadata();
    expect([meta.channels, meta.depth]).toEqual([1, "uchar"]);
    expect([png[24], png[25]]).toEqual([8, 0]); // IHDR: 8-bit greyscale
    expect(Array.from(await sharp(png).raw().toBuffer())).toEqual(expect.arrayContaining([0, 255]));
    const p = join(dir, "mask.png");
    await writeFile(p, png);
    expect(Array.from((await loadMaskPng(p)).data)).toEqual([0, 1, 0, 1, 1, 1]);

    // An RGB mask with values 1 in red only is still inside there.
    const rgb = await sharp(new Uint8Array([0, 0, 0, 1, 0, 0]), { raw: { width: 2, height: 1, channels: 3 } }).png().toBuffer();
    await writeFile(join(dir, "rgb-mask.png"), rgb);
    expect(Array.from((await loadMaskPng(join(dir, "rgb-mask.png"))).data)).toEqual([0, 1]);
  });

  it("loadMaskPng reports bad files like loadImage", async () => {
    const p = join(dir, "missing-mask.png");
    await rejectsWith(loadMaskPng(p), `cannot read image "${p}": file not found`);
    const sub = join(dir, "sub");
    await mkdir(sub);
    await rejectsWith(loadMaskPng(sub), `cannot read image "${sub}": is a directory, not a file`);
  });

  it("resizes with sharp and crops by copying rows", async () => {
    const img = { width: 20, height: 10, data: pattern(20, 10) };
    const small = await resizeImage(img, 10, 5);
    expect([small.width, small.height, small.data.length]).toEqual([10, 5, 150]);
    const crop = cropImage(img, 3, 2, 4, 5);
    expect([crop.width, crop.height]).toEqual([4, 5]);
    expect(Array.from(crop.data.subarray(0, 3))).toEqual([30, 20, 50]);
    const clipped = cropImage(img, 18, 8, 10, 10);
    expect([clipped.width, clipped.height]).toEqual([2, 2]);
    expect(() => cropImage(img, 30, 0, 5, 5)).toThrow(GearSegError);
  });
});
