// Output folders as the CLI names them: flags checked before any work, results never replaced silently.
import { constants, existsSync } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import type { PictureFormat } from "../image/index.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { fsErrorReason, makeDir } from "../util/fs.js";

/** An `--out` given as "" or blanks (an unset shell variable) is a usage error, never the working folder. */
export function outFlag(value: string | undefined, flag = "--out"): string | undefined {
  if (value === undefined) return undefined;
  if (!value.trim()) throw new UsageError(`${flag} is empty: give a folder (an unset shell variable?)`);
  return value;
}

/** `--image-format`: png, or jpg (also spelt jpeg). */
export function pictureFormatFlag(value: string | undefined): PictureFormat {
  const format = value === undefined ? "png" : value === "jpeg" ? "jpg" : value;
  if (format !== "png" && format !== "jpg") throw new UsageError(`--image-format must be "png" or "jpg", got "${value}"`);
  return format;
}

/** Refuses to write over results already in `dir` unless `--overwrite` was given. */
export function refuseToReplace(dir: string, files: readonly string[]): void {
  const present = files.filter((f) => existsSync(join(dir, f)));
  if (present.length === 0) return;
  const listed = present.slice(0, 3).join(", ") + (present.length > 3 ? ", …" : "");
  throw new GearSegError(`output folder "${dir}" already holds results (${listed}): pass --overwrite to replace them, or choose another --out`);
}

/** Creates `dir` (for commands that need it to exist before they start) and checks that it takes files. */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await makeDir(dir);
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new GearSegError(`cannot write to output folder "${dir}": ${fsErrorReason(err)}`, { cause: err });
  }
}
