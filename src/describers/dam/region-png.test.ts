import { describe, expect, it } from "vitest";
import zlib from "node:zlib";
import sharp from "sharp";
import { encode } from "../../masks/index.js";
import { adler32, adler32Combine, compressBlocks, encodeRegionPng, pngHead, prepareRegionPng, prepareRegionPngAsync, regionPngParts, BLOCK_ROWS } from "./region-png.js";
import { base64Ascii, bodyPieces, bodyPrefix, regionRequestBody, regionText, sharedText } from "./region-body.js";

/** A PNG read by hand, checking everything a strict decoder checks: signature, every chunk's CRC, the zlib stream. */
function readPng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array; idatChunks: number; chunkLengths: number[] } {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  expect([...buf.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  let at = 8;
  let width = 0, height = 0, idatChunks = 0;
  const idat: Buffer[] = [];
  const chunkLengths: number[] = [];
  let ended = false;
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString("latin1", at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    chunkLengths.push(12 + len);
    expect(buf.readUInt32BE(at + 8 + len), `CRC of ${type}`).toBe(zlib.crc32(data, zlib.crc32(buf.subarray(at + 4, at + 8))));
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    } else if (type === "IDAT") {
      idat.push(data);
      idatChunks++;
    } else if (type === "IEND") ended = true;
    at += 12 + len;
  }
  expect(ended).toBe(true);
  // inflateSync checks the zlib header and the Adler-32 of the whole stream
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = 1 + 4 * width;
  expect(raw.length).toBe(height * stride);
  const rgba = new Uint8Array(width * height * 4);
  const row = 4 * width;
  for (let y = 0; y < height; y++) {
    const f = raw[y * stride]!;
    expect(f, "filter Paeth").toBe(4);
    for (let i = 0; i < row; i++) {
      // the PNG specification's Paeth predictor, as written there
      const a = i >= 4 ? rgba[y * row + i - 4]! : 0;
      const b = y > 0 ? rgba[(y - 1) * row + i]! : 0;
      const c = i >= 4 && y > 0 ? rgba[(y - 1) * row + i - 4]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      rgba[y * row + i] = (raw[y * stride + 1 + i]! + pred) & 255;
    }
  }
  return { width, height, rgba, idatChunks, chunkLengths };
}

function photo(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 3 * (y * width + x);
      rgb[p] = (x * 7 + y * 3) & 255;
      rgb[p + 1] = (x * y) & 255;
      rgb[p + 2] = (200 - x + ((x ^ y) & 15)) & 255;
    }
  }
  return rgb;
}

describe("region PNG (shared row blocks, the region's blocks rewritten)", () => {
  // 53 rows: the last block is partial; 37 columns
  const W = 37, H = 53;
  const rgb = photo(W, H);
  const base = prepareRegionPng(rgb, W, H, 1);
  const cases: [string, (x: number, y: number) => boolean][] = [
    ["one pixel in the first row", (x, y) => x === 5 && y === 0],
    ["a disc across block boundaries", (x, y) => (x - 18) ** 2 + (y - 25) ** 2 <= 100],
    ["the last (partial) block only", (x, y) => y >= 50 && x > 30],
    ["everything", () => true],
    ["two separate parts", (x, y) => (y < 3 && x < 4) || (y > 40 && y < 44)],
    // the row under the region (the first of the next block) reads the region's last row
    ["rows 10 to 31, ending where a block ends", (x, y) => y >= 10 && y < 32 && x > 2 && x < 20],
    ["the last row only", (x, y) => y === H - 1 && x % 3 === 0],
  ];
  for (const [name, inside] of cases) {
    it(`${name}: every chunk's CRC, the Adler-32 and the pixels are right`, async () => {
      const mask = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = inside(x, y) ? 1 : 0;
      const rle = encode({ height: H, width: W, data: mask });
      const png = encodeRegionPng(base, rle);
      const got = readPng(png);
      expect([got.width, got.height]).toEqual([W, H]);
      // zlib header, one per shared block, one for the region's blocks, the end
      const { b0, b1 } = regionPngParts(base, rle);
      expect(b1).toBeGreaterThan(b0);
      expect(got.idatChunks).toBe(1 + Math.ceil(H / BLOCK_ROWS) - (b1 - b0) + 1 + 1);
      // the signature with IHDR, and every chunk after it, a multiple of 3 bytes (so each has a base64 of its own)
      expect(8 + got.chunkLengths[0]! + got.chunkLengths[1]!).toBe(pngHead(W, H).length);
      expect(pngHead(W, H).length % 3).toBe(0);
      for (const length of got.chunkLengths.slice(1, -2)) expect(length % 3).toBe(0);
      expect((got.chunkLengths.at(-2)! + got.chunkLengths.at(-1)!) % 3).toBe(0); // the last IDAT and IEND
      const want = new Uint8Array(W * H * 4);
      for (let i = 0; i < W * H; i++) {
        want.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
        want[4 * i + 3] = mask[i] ? 255 : 0;
      }
      expect(Buffer.from(got.rgba).equals(Buffer.from(want))).toBe(true);
      // and a real decoder agrees (libspng through sharp)
      const { data, info } = await sharp(Buffer.from(png)).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(4);
      expect(Buffer.from(data).equals(Buffer.from(want))).toBe(true);
    });
  }

  it("the request body, shared text made once and the region's own pieces, is byte for byte the JSON around the PNG's base64", () => {
    const shared = sharedText(base);
    const head = '{"url":"data:image/png;base64,';
    const prefix = bodyPrefix(head, W, H);
    const suffix = Buffer.from('"}');
    for (const [name, inside] of [...cases, ["nothing", () => false] as const]) {
      const mask = new Uint8Array(W * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = inside(x, y) ? 1 : 0;
      const rle = encode({ height: H, width: W, data: mask });
      const want = Buffer.from(`${head}${Buffer.from(encodeRegionPng(base, rle)).toString("base64")}"}`);
      const own = regionText(base, rle);
      const pieces = bodyPieces(prefix, shared, own, suffix);
      expect(Buffer.concat(pieces).equals(want), name).toBe(true);
      // the shared pieces are views of the one text (all of it but the region's blocks), not copies
      const viewed = pieces.filter((p) => p.buffer === shared.text.buffer).reduce((n, p) => n + p.length, 0);
      expect(viewed, name).toBe(shared.text.length - (shared.start[own.b1]! - shared.start[own.b0]!));
      expect(Buffer.from(regionRequestBody(base, rle, head, '"}')).equals(want), name).toBe(true);
    }
  });

  it("the shared blocks compressed on libuv's threads are the same bytes; at any level, a body decodes to the same pixels", async () => {
    const async = await prepareRegionPngAsync(rgb, W, H, 1);
    expect(Buffer.from(async.chunks).equals(Buffer.from(base.chunks))).toBe(true);
    expect([...async.chunkStart]).toEqual([...base.chunkStart]);
    expect([...async.adler]).toEqual([...base.adler]);
    // each block's Adler-32, summed while its rows were filtered, is that of its filtered bytes
    const stride = 1 + 4 * W;
    for (let b = 0; b < async.adler.length; b++) {
      const rows = async.filtered.subarray(b * BLOCK_ROWS * stride, Math.min(H, (b + 1) * BLOCK_ROWS) * stride);
      expect(async.adler[b], `block ${b}`).toBe(adler32(rows));
    }
    expect(Buffer.from(async.filtered).equals(Buffer.from(base.filtered))).toBe(true);
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mask[y * W + x] = (x - 10) ** 2 + (y - 30) ** 2 <= 40 ? 1 : 0;
    const rle = encode({ height: H, width: W, data: mask });
    const decoded = await Promise.all(
      [0, 1, 2, 4, 9].map(async (level) => {
        const png = Buffer.from(encodeRegionPng(level === 1 ? async : prepareRegionPng(rgb, W, H, level), rle));
        readPng(png); // CRCs, Adler-32
        return (await sharp(png).raw().toBuffer()) as Buffer;
      }),
    );
    for (const rgba of decoded.slice(1)) expect(rgba.equals(decoded[0]!)).toBe(true);
  });

  it("a region's Adler-32 (the shared blocks' plus its alpha bytes) is right on a larger image and a region over all of it", async () => {
    const w = 640, h = 410;
    const big = photo(w, h);
    const prepared = prepareRegionPng(big, w, h, 1);
    const boxes = [
      () => true,
      (x: number, y: number) => (x - 300) ** 2 + (y - 200) ** 2 <= 150 ** 2,
      // boxes at the right and left edges, and one narrower than the bytes between two checkpoints
      (x: number, y: number) => x > 600 && y > 20 && y < 90,
      (x: number, y: number) => x < 5 && y > 300,
      (x: number, y: number) => x === 333 && y > 100 && y < 104,
    ];
    for (const inside of boxes) {
      const mask = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = inside(x, y) ? 1 : 0;
      const png = Buffer.from(encodeRegionPng(prepared, encode({ height: h, width: w, data: mask })));
      const got = readPng(png); // inflateSync checks the stream's Adler-32
      const want = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) {
        want.set(big.subarray(3 * i, 3 * i + 3), 4 * i);
        want[4 * i + 3] = mask[i] ? 255 : 0;
      }
      expect(Buffer.from(got.rgba).equals(Buffer.from(want))).toBe(true);
    }
  });

  it("pads every block's chunk to a multiple of 3 bytes whatever its deflate data's length, and the padding inflates to nothing", () => {
    // deflate data of each length mod 3: padded with 0, 1 or 2 empty stored blocks
    const filtered = new Uint8Array(BLOCK_ROWS * (1 + 4 * W) * 12);
    const seen = new Set<number>();
    for (let seed = 0; seen.size < 3 && seed < 200; seed++) {
      for (let i = 0; i < filtered.length; i++) filtered[i] = (i * (seed + 3) + ((i * i) >> (seed % 7))) & 255;
      const { chunks, starts } = compressBlocks(filtered, W, 12 * BLOCK_ROWS, 1, 0, 12, BLOCK_ROWS);
      for (let b = 0; b < 12; b++) {
        const chunk = Buffer.from(chunks.subarray(starts[b]!, starts[b + 1]!));
        expect(chunk.length % 3).toBe(0);
        const len = chunk.readUInt32BE(0);
        const data = chunk.subarray(8, 8 + len);
        expect(chunk.readUInt32BE(8 + len)).toBe(zlib.crc32(data, zlib.crc32(Buffer.from("IDAT"))));
        const stride = 1 + 4 * W;
        const rows = Buffer.from(filtered.subarray(b * BLOCK_ROWS * stride, (b + 1) * BLOCK_ROWS * stride));
        // the block's deflate data as zlib makes it, then (its length mod 3) empty stored blocks
        const z = zlib.deflateRawSync(rows, { level: 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
        const pads = z.length % 3;
        expect(data.equals(Buffer.concat([z, ...Array.from({ length: pads }, () => Buffer.of(0, 0, 0, 0xff, 0xff))]))).toBe(true);
        expect(zlib.inflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(rows)).toBe(true);
        seen.add(pads);
      }
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it("base64Ascii is Buffer's base64, whatever the length", () => {
    const bytes = new Uint8Array(1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 167 + (i >> 3)) & 255;
    for (const n of [0, 1, 2, 3, 4, 5, 6, 299, 1000]) {
      expect(Buffer.from(base64Ascii(bytes.subarray(0, n))).toString("latin1")).toBe(Buffer.from(bytes.subarray(0, n)).toString("base64"));
    }
  });

  it("a piece's base64 is the slice of the whole PNG's base64 at the same place (4 characters per 3 bytes)", () => {
    const mask = new Uint8Array(W * H);
    mask[20 * W + 7] = 1;
    const rle = encode({ height: H, width: W, data: mask });
    const png = encodeRegionPng(base, rle);
    const whole = Buffer.from(png).toString("base64");
    const head = pngHead(W, H);
    expect(Buffer.from(base64Ascii(head)).toString("latin1")).toBe(whole.slice(0, (4 * head.length) / 3));
    expect(whole.endsWith("=")).toBe(false);
  });

  it("the request body is the JSON around the PNG's base64, UTF-8 (a prompt need not be ASCII)", () => {
    const mask = new Uint8Array(W * H).fill(1);
    const rle = encode({ height: H, width: W, data: mask });
    const head = '{"prompt":"Décris la région","url":"data:image/png;base64,';
    const tail = '"}';
    const body = Buffer.from(regionRequestBody(base, rle, head, tail)).toString("utf8");
    const parsed = JSON.parse(body) as { prompt: string; url: string };
    expect(parsed.prompt).toBe("Décris la région");
    expect(Buffer.from(parsed.url.slice(parsed.url.indexOf(",") + 1), "base64").equals(Buffer.from(encodeRegionPng(base, rle)))).toBe(true);
  });
});

describe("Adler-32", () => {
  it("equals zlib's (the trailer of a zlib stream), in pieces combined as adler32_combine does", () => {
    const data = new Uint8Array(20_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 7)) & 255;
    const z = zlib.deflateSync(data);
    const want = z.readUInt32BE(z.length - 4);
    expect(adler32(data)).toBe(want);
    for (const cut of [0, 1, 5552, 6000, 19_999]) {
      expect(adler32Combine(adler32(data.subarray(0, cut)), adler32(data.subarray(cut)), data.length - cut)).toBe(want);
    }
  });
});
