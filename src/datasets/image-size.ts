/**
 * Image dimensions from the file header, after EXIF orientation (as cv2.imread and our decoder see the
 * image), without decoding pixels: ground truth is rasterised at this size.
 */
import { GearSegError } from "../util/errors.js";

export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  // Loaded on first use: evaluation code that never reads an image header does not load libvips.
  const { default: sharp } = await import("sharp");
  let meta;
  try {
    meta = await sharp(path).metadata();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" || /missing|not exist/i.test(String((err as Error).message)) ? "file not found" : "not an image (unsupported or corrupt data)";
    throw new GearSegError(`cannot read image "${path}": ${reason}`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!(width && height && width > 0 && height > 0)) throw new GearSegError(`cannot read image "${path}": no width or height in the header`);
  return { width, height };
}
