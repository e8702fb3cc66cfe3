/** Finding the images of a folder (their ids: imageIdFor in the dataset format). */
import { readdir, realpath, stat } from "node:fs/promises";
import { extname, join, relative, resolve, sep } from "node:path";
import { imageIdFor } from "../datasets/gear-seg.js";
import { UsageError } from "../util/errors.js";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".avif", ".gif"];

export interface ImageEntry {
  /** Short unique id (see imageIdFor). */
  id: string;
  /** Path relative to its root, "/" separators. */
  rel: string;
  abs: string;
  /** Index of its images root in the dataset's manifest. */
  root: number;
}

export interface ListImagesOptions {
  root?: number;
  /** Something under the folder was skipped (an unreadable folder, a dangling link, a link loop). */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * Every image under `rootDir` (recursively; hidden entries skipped), sorted by relative path. Symbolic links
 * are followed (folders of linked photos are common) but every folder is walked once, by its real path, so a
 * link loop neither hangs the listing nor lists a photo many times.
 */
export async function listImages(rootDir: string, options: ListImagesOptions = {}): Promise<ImageEntry[]> {
  const abs = resolve(rootDir);
  const info = await stat(abs).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`images folder "${rootDir}" does not exist or is not a folder`);
  const root = options.root ?? 0;
  const skip = options.onSkip ?? (() => {});
  const found: string[] = [];
  const seenDirs = new Set<string>();
  const walk = async (dir: string) => {
    const real = await realpath(dir).catch(() => null);
    if (!real) return skip(dir, "cannot resolve the folder's real path");
    if (seenDirs.has(real)) return skip(dir, "a link to a folder already listed (link loop or second link)");
    seenDirs.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      return skip(dir, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      let kind: { isDirectory(): boolean; isFile(): boolean } | null = e;
      if (e.isSymbolicLink()) {
        kind = await stat(p).catch((err: NodeJS.ErrnoException) => {
          skip(p, err.code === "ELOOP" ? "symbolic link loop" : "dangling symbolic link");
          return null;
        });
      }
      if (!kind) continue;
      if (kind.isDirectory()) await walk(p);
      else if (kind.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) found.push(p);
    }
  };
  await walk(abs);
  const entries = found
    .map((p) => relative(abs, p).split(sep).join("/"))
    .sort()
    .map((rel) => ({ id: imageIdFor(rel, root), rel, abs: join(abs, rel), root }));
  const seen = new Map<string, string>();
  for (const e of entries) {
    const other = seen.get(e.id);
    // 40 bits of hash behind equal slugs: practically never; refused rather than merged if it happens.
    if (other) throw new UsageError(`images "${other}" and "${e.rel}" would share the id "${e.id}": rename one`);
    seen.set(e.id, e.rel);
  }
  return entries;
}

