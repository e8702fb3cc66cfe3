/** Placing a dataset's source images in an export: JPEG bytes copied as they are (LISA globs `*.jpg`), other
 * formats re-encoded when the target needs JPEG, or copied with their own extension. */
import { copyFile, writeFile } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { encodeJpeg, loadImage } from "../image/index.js";
import { GearSegError } from "../util/errors.js";
import { makeDir } from "../util/fs.js";

const isJpeg = (file: string) => [".jpg", ".jpeg"].includes(extname(file).toLowerCase());

export async function placeImage(source: string, target: string, options: { jpeg?: boolean } = {}): Promise<void> {
  await makeDir(dirname(target));
  try {
    if (options.jpeg && !isJpeg(source)) {
      await writeFile(target, await encodeJpeg(await loadImage(source), 95));
      return;
    }
    await copyFile(source, target);
  } catch (err) {
    if (err instanceof GearSegError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new GearSegError(`cannot copy image "${source}" to "${target}": ${code === "ENOENT" ? "file not found (was the images folder moved? the dataset manifest's images_roots say where it was)" : (err as Error).message}`);
  }
}
