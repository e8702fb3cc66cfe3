import { createHash, randomBytes, type Hash } from "node:crypto";
import { createReadStream, mkdirSync, statSync, type Stats } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, basename, resolve } from "node:path";
import { GearSegError } from "./errors.js";

/** A hidden sibling of `path` for writing it before a rename: `.name.<pid>.<hex>.tmp` (the engine's store
 * removes those whose writer died). */
export const temporarySibling = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);

/**
 * Write a file so that readers never see a partial one: write a temporary sibling, then rename over the
 * target (rename is atomic within a filesystem).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await makeDir(dirname(path));
  const tmp = temporarySibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Bytes read per call by `hashFileInto`. */
const HASH_CHUNK = 1 << 18;

/**
 * Feeds the bytes of `path` to `hash` through one buffer reused for every read. A read stream hands over a
 * fresh 64 KB buffer per chunk, and fresh memory is what costs here: hashing a 15 MB model took 110 ms of CPU
 * streamed and 20 ms through one buffer (sha256; the hash itself runs at about 1 GB/s).
 */
export async function hashFileInto(hash: Hash, path: string): Promise<Hash> {
  const fh = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafeSlow(HASH_CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, HASH_CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(bytesRead === HASH_CHUNK ? buffer : buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash;
}

/** The sha256 of a file's bytes, in hex. */
export async function sha256File(path: string): Promise<string> {
  return (await hashFileInto(createHash("sha256"), path)).digest("hex");
}

/** JSON with a trailing newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * `mkdir -p` that always ends and says why it failed. Node's `mkdir(…, { recursive: true })` loops forever
 * where mkdir reports ENOENT for a folder whose parent exists (anything under /proc), and reports ENOENT on a
 * read-only file system; this walks up once and creates each missing folder once. Synchronous: a few metadata
 * calls, also needed where a constructor opens a file.
 */
export function makeDirSync(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); ; ) {
    let info: Stats | undefined;
    try {
      info = statSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (info) {
      if (!info.isDirectory()) throw Object.assign(new Error(`not a folder: "${p}"`), { code: "ENOTDIR", path: p });
      break;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process made it in between: fine if it is a folder.
      if (code === "EEXIST" && statSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
      // mkdir says ENOENT although the parent exists: a pseudo file system that creates nothing (/proc).
      if (code === "ENOENT") {
        throw Object.assign(new Error(`cannot create folders in "${dirname(p)}"`), { code: "ENOCREATE", path: p });
      }
      throw err;
    }
  }
}

/** `makeDirSync` for async code paths. */
export async function makeDir(dir: string): Promise<void> {
  makeDirSync(dir);
}

/** The reason part of a file-system error, in words (no errno codes, no repeated path). */
export function fsErrorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOSPC":
      return "no space left on the device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "ENOTDIR":
    case "EEXIST":
      return "a file is in the way";
    case "EISDIR":
      return "is a folder";
    case "ENAMETOOLONG":
      return "name too long";
    case "ELOOP":
      return "too many symbolic links (a loop?)";
    case "EIO":
      return "input/output error";
    case "ENOCREATE":
      return "this file system does not allow creating folders";
    default:
      return err instanceof Error ? err.message.split("\n")[0]! : String(err);
  }
}

/** A GearSegError for a failed file-system step on `path`: `cannot <doing> "<path>": <reason>`. */
export function fsError(doing: string, path: string, err: unknown): GearSegError {
  if (err instanceof GearSegError) return err;
  return new GearSegError(`cannot ${doing} "${path}": ${fsErrorReason(err)}`, { cause: err });
}

/**
 * Fails before any work when files could not be written into `dir`, without creating it: the nearest existing
 * folder on the way must take a new folder (a probe made and removed at once).
 */
export async function checkWritableDir(dir: string, what = "output folder"): Promise<void> {
  let existing = resolve(dir);
  for (;;) {
    const info = await stat(existing).catch(() => null);
    if (info) {
      if (!info.isDirectory()) throw new GearSegError(`cannot write to ${what} "${dir}": a file is in the way ("${existing}")`);
      break;
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  try {
    await rmdir(await mkdtemp(join(existing, ".gear-seg-probe-")));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? fsErrorReason({ code: "ENOCREATE" }) : fsErrorReason(err);
    throw new GearSegError(`cannot write to ${what} "${dir}": ${reason}`, { cause: err });
  }
}

/** True when `dir` does not exist or is an empty folder. */
export async function isFreeDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/**
 * The first of `base`, `base-2`, `base-3` … that is free (missing or empty), created now so that a concurrent
 * run picks another one (as ultralytics names `runs/predict`, `runs/predict2` …).
 */
export async function claimFreshDir(base: string): Promise<string> {
  await makeDir(dirname(base));
  for (let n = 1; n < 100_000; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`;
    try {
      await mkdir(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw fsError("create folder", candidate, err);
      if (await isFreeDir(candidate)) return candidate;
    }
  }
  throw new GearSegError(`no free folder name next to "${base}"`);
}

/** Whether something exists at `path` (false also when it cannot be looked at). */
export const pathExists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** The lines of a UTF-8 text file, streamed, without their newlines (a last line without one included). */
export async function* textLines(path: string): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8" })) {
    rest += chunk as string;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) yield rest;
}
