/**
 * Image input: any file sharp (libvips) can read, decoded to 8-bit RGB with EXIF orientation applied and
 * alpha flattened onto white. Every failure becomes one `GearSegError` line that names the file and the
 * reason, before any pixel is decoded when the header already says the input is unusable.
 */
import { readFile, stat } from "node:fs/promises";
import sharp from "./sharp.js";
import type { BinaryMask } from "../masks/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import type { RgbImage } from "./types.js";

/** Images larger than this many pixels are refused unless the caller raises the limit (50 megapixels). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (width × height, read from the header). */
  maxPixels?: number;
}

const describeFormat = (format: string | undefined): string => {
  if (!format) return "image";
  const names: Record<string, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP", tiff: "TIFF", gif: "GIF", heif: "HEIF", svg: "SVG", jp2k: "JPEG 2000", jxl: "JPEG XL" };
  return names[format] ?? format.toUpperCase();
};

const failure = (source: string, reason: string, cause?: unknown) =>
  new GearSegError(`cannot read image "${source}": ${reason}`, cause === undefined ? undefined : { cause });

function formatPixels(n: number, asMegapixels: boolean, digits: number): string {
  return asMegapixels ? `${(n / 1e6).toFixed(digits)} megapixels` : `${n} pixels`;
}

function checkMaxPixels(options: DecodeOptions | undefined): number {
  const max = options?.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isFinite(max) || max <= 0) throw new UsageError(`max pixels must be a positive number (got ${String(max)})`);
  return max;
}

/** Identifies the decoder: the same bytes decode to the same pixels under the same one (a cache key part). */
export const DECODER_ID = `sharp ${sharp.versions.sharp ?? ""} libvips ${sharp.versions.vips}`;

/** A file-system failure of stat or read as the one-line message. */
function fileFailure(path: string, err: unknown): GearSegError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return failure(path, "file not found", err);
  if (code === "EACCES" || code === "EPERM") return failure(path, "permission denied", err);
  return failure(path, (err as Error).message, err);
}

/**
 * What says a file is still the one read before, without reading it: device, inode, size and the modification
 * and change times to the nanosecond (as git's index tells a changed file from its stat data). `mtimeMs` lets a
 * caller see a file changed so recently that a change within the clock's resolution could still go unseen.
 */
export interface FileIdentity {
  readonly identity: string;
  readonly mtimeMs: number;
}

/** A file's identity, turning file-system failures into the one-line message; refuses folders and devices. */
export async function statImageFile(path: string): Promise<FileIdentity> {
  let info;
  try {
    info = await stat(path, { bigint: true });
  } catch (err) {
    throw fileFailure(path, err);
  }
  if (info.isDirectory()) throw failure(path, "is a directory, not a file");
  if (!info.isFile()) throw failure(path, "not a regular file");
  return { identity: `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`, mtimeMs: Number(info.mtimeMs) };
}

/** A file's bytes (after `statImageFile`), turning file-system failures into the one-line message. */
export async function readImageBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fileFailure(path, err);
  }
}

/** Reads a file's bytes, turning file-system failures into the one-line message. */
export async function readImageFile(path: string): Promise<Buffer> {
  await statImageFile(path);
  return readImageBytes(path);
}

/** libvips reports truncation and bad compressed data with decoder-specific wording. */
const CORRUPT_DATA = /premature end|truncat|read error|corrupt|invalid|bad |unexpected end|not enough|decode|crc|incorrect|huffman|marker|zlib|inflate/i;

/** The sharp constructor options every decode uses: fail on truncated or broken pixel data (warnings
 * such as extraneous bytes are tolerated, as image viewers do), and no sharp pixel limit: we check the
 * header ourselves so that the user sees our message, with the flag that raises the limit. */
const SHARP_INPUT = { failOn: "error", limitInputPixels: false } as const;

interface Header {
  width: number;
  height: number;
  format: string | undefined;
}

async function readHeader(data: Uint8Array, source: string, maxPixels: number): Promise<Header> {
  if (data.byteLength === 0) throw failure(source, "empty file (0 bytes)");
  let meta;
  try {
    meta = await sharp(data, SHARP_INPUT).metadata();
  } catch (err) {
    throw failure(source, "not an image (unsupported or corrupt data)", err);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw failure(source, "not an image (no width or height in the header)");
  const pixels = width * height;
  if (pixels > maxPixels) {
    const mega = maxPixels >= 100_000;
    throw failure(
      source,
      `${width}×${height} = ${formatPixels(pixels, mega, 1)} exceeds the limit of ${formatPixels(maxPixels, mega, maxPixels % 1e6 === 0 ? 0 : 1)} (raise it with option maxPixels)`,
    );
  }
  return { width, height, format: meta.format };
}

/**
 * The size an image will have once decoded (EXIF orientation applied) and its format, from the header only;
 * null when the bytes are not an image sharp can read. Lets a caller refuse large or foreign input before
 * decoding anything.
 */
export async function imageHeader(data: Uint8Array): Promise<{ width: number; height: number; format: string } | null> {
  if (data.byteLength === 0) return null;
  try {
    const meta = await sharp(data, SHARP_INPUT).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!(width && height && width > 0 && height > 0)) return null;
    return { width, height, format: meta.format ?? "image" };
  } catch {
    return null;
  }
}

function decodeFailure(source: string, header: Header, err: unknown): GearSegError {
  const message = err instanceof Error ? err.message : String(err);
  const format = describeFormat(header.format);
  if (CORRUPT_DATA.test(message)) return failure(source, `truncated or corrupt ${format} data`, err);
  return failure(source, `cannot decode ${format} data (${message.split("\n")[0]})`, err);
}

/** Checks the header (an image, within the pixel limit) without decoding the pixels; the same errors as
 * `decodeImage`. */
export async function checkImageHeader(data: Uint8Array, source: string, options?: DecodeOptions): Promise<{ width: number; height: number }> {
  const { width, height } = await readHeader(data, source, checkMaxPixels(options));
  return { width, height };
}

/**
 * Decodes encoded image bytes (JPEG, PNG, WebP, TIFF, GIF, AVIF/HEIF, ... whatever sharp reads; the first
 * page of multi-page files) to 8-bit RGB: EXIF orientation applied, alpha flattened onto white, grey and
 * 16-bit input converted. `source` names the input in error messages.
 */
export async function decodeImage(data: Uint8Array, source: string, options?: DecodeOptions): Promise<RgbImage> {
  const maxPixels = checkMaxPixels(options);
  const header = await readHeader(data, source, maxPixels);
  let out;
  try {
    out = await sharp(data, { ...SHARP_INPUT, autoOrient: true })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeFailure(source, header, err);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3 || out.data.length !== width * height * 3) {
    throw failure(source, `decoded to ${channels} channels, expected RGB`);
  }
  return { width, height, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length), source };
}

/** Reads and decodes an image file; see `decodeImage`. */
export async function loadImage(path: string, options?: DecodeOptions): Promise<RgbImage> {
  checkMaxPixels(options);
  return decodeImage(await readImageFile(path), path, options);
}

/**
 * Reads a mask image (typically a 0/255 PNG): any non-zero value in the first channel is inside. No EXIF
 * orientation is applied: a mask is a grid aligned with the pixels it was computed on.
 */
export async function loadMaskPng(path: string, options?: DecodeOptions): Promise<BinaryMask> {
  const maxPixels = checkMaxPixels(options);
  const data = await readImageFile(path);
  const header = await readHeader(data, path, maxPixels);
  let out;
  try {
    out = await sharp(data, SHARP_INPUT).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeFailure(path, header, err);
  }
  const { width, height } = out.info;
  const n = width * height;
  if (out.data.length !== n) throw failure(path, `decoded to ${out.info.channels} channels, expected one`);
  const mask = new Uint8Array(n);
  const src = out.data;
  for (let i = 0; i < n; i++) mask[i] = src[i] !== 0 ? 1 : 0;
  return { width, height, data: mask };
}
