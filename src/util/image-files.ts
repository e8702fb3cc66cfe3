/**
 * The images a command was given as files, folders and glob patterns (quoted, so the shell left them alone):
 * each exactly once, in a stable order, with an id that is unique, readable and usable as a relative folder
 * name (its path from the common folder without the extension: `cam1/0001`, `cam2/0001`).
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { UsageError } from "./errors.js";
import { fsErrorReason } from "./fs.js";

export const IMAGE_FILE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".avif", ".gif", ".bmp", ".heic", ".heif"];

export interface ImageFile {
  /** Relative folder name for its outputs, "/"-separated. */
  id: string;
  path: string;
}

const GLOB = /[*?[]/;

export const isImageFileName = (name: string) => IMAGE_FILE_EXTENSIONS.includes(extname(name).toLowerCase());

/** True when an argument names more than one image: a folder, or a glob pattern that is not a file's name. */
export async function namesManyImages(input: string): Promise<boolean> {
  const info = await stat(input).catch(() => null);
  return info ? info.isDirectory() : GLOB.test(input);
}

/** True when `text` names images: a file, a folder, or a glob pattern that matches at least one image. A query
 * such as "what is this?" matches nothing and stays a query. */
export async function namesImages(text: string): Promise<boolean> {
  if (await stat(text).catch(() => null)) return true;
  return GLOB.test(text) && (await expandGlob(text).catch(() => [])).length > 0;
}

export interface ListImageOptions {
  /** Folders not to enter while walking a folder or a glob (e.g. earlier runs' outputs). */
  skipFolder?: (dir: string) => boolean;
}

export async function listImageFiles(inputs: readonly string[], options: ListImageOptions = {}): Promise<ImageFile[]> {
  const skip = options.skipFolder ?? (() => false);
  const found = new Map<string, string>(); // real path → path as found
  const add = async (path: string) => {
    const real = await realpath(path).catch(() => resolve(path));
    if (!found.has(real)) found.set(real, resolve(path));
  };
  for (const input of inputs) {
    const info = await stat(input).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? null : Promise.reject(err)));
    if (info?.isDirectory()) for (const p of await walk(resolve(input), () => true, (_rel, dir) => !skip(dir))) await add(p);
    else if (info) await add(input);
    else if (GLOB.test(input)) {
      const matches = await expandGlob(input, skip);
      if (matches.length === 0) throw new UsageError(`"${input}" matches no image`);
      for (const p of matches) await add(p);
    } else throw new UsageError(`"${input}": no such file or folder`);
  }
  const paths = [...found.values()].sort();
  if (paths.length === 0) throw new UsageError(`no images in ${inputs.map((i) => `"${i}"`).join(", ")}`);
  return withIds(paths);
}

/** Ids relative to the deepest folder holding every image; two files with one stem keep their extensions. */
function withIds(paths: string[]): ImageFile[] {
  let base = dirname(paths[0]!);
  for (const p of paths) while (relative(base, p).startsWith("..")) base = dirname(base);
  const stems = paths.map((p) => relative(base, p).split(sep).join("/").slice(0, -extname(p).length || undefined));
  const count = new Map<string, number>();
  for (const s of stems) count.set(s, (count.get(s) ?? 0) + 1);
  return paths.map((path, i) => {
    const stem = stems[i]!;
    const id = count.get(stem)! > 1 ? `${stem}${extname(path).replace(".", "_")}` : stem;
    return { id, path };
  });
}

/**
 * Image files under `dir`, recursively; hidden entries are skipped. Linked files are followed, linked folders
 * are not (a link back up the tree would list the same photos forever).
 */
async function walk(
  dir: string,
  keep: (rel: string[]) => boolean,
  descend: (rel: string[], dir: string) => boolean = () => true,
  rel: string[] = [],
): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new UsageError(`cannot list folder "${dir}": ${fsErrorReason(err)}`);
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    const r = [...rel, e.name];
    if (e.isDirectory()) {
      if (descend(r, p)) out.push(...(await walk(p, keep, descend, r)));
    }
    else if (isImageFileName(e.name) && keep(r) && (e.isFile() || (await stat(p).catch(() => null))?.isFile())) out.push(p);
  }
  return out;
}

/** `*`, `?` and `[…]` within a name, `**` for any number of folders. */
async function expandGlob(pattern: string, skip: (dir: string) => boolean = () => false): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(pattern);
  const parts = abs.split(sep);
  const firstGlob = parts.findIndex((p) => GLOB.test(p));
  const root = parts.slice(0, firstGlob).join(sep) || sep;
  const rest = parts.slice(firstGlob).map((p) => (p === "**" ? null : partRegex(p)));
  const matches = (rel: string[], i = 0, j = 0): boolean => {
    if (i === rest.length) return j === rel.length;
    const part = rest[i];
    if (part === null) return matches(rel, i + 1, j) || (j < rel.length && matches(rel, i, j + 1));
    return j < rel.length && part!.test(rel[j]!) && matches(rel, i + 1, j + 1);
  };
  // Without "**", only folders that match the pattern's leading parts can hold a match.
  const descend = (rel: string[], dir: string) =>
    !skip(dir) && (rest.includes(null) || (rel.length < rest.length && rel.every((name, k) => rest[k]!.test(name))));
  if (!(await stat(root).catch(() => null))?.isDirectory()) return [];
  return walk(root, (rel) => matches(rel), descend);
}

function partRegex(part: string): RegExp {
  let re = "";
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = part.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = part.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
