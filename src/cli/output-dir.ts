import { access, constants, mkdir } from "node:fs/promises";
import { GearSegError } from "../util/errors.js";

/** Fail before any work when the output folder cannot be created or written. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "ENOTDIR" || code === "EEXIST"
          ? "a file is in the way"
          : code === "EROFS"
            ? "read-only file system"
            : ((err as Error).message ?? String(err));
    throw new GearSegError(`cannot write to output folder "${dir}": ${reason}`);
  }
}
