/**
 * Writing a dataset folder safely (the format is in src/datasets/gear-seg.ts): one writer at a time (a lock
 * file), records written durably (fsync before rename, then the folder), failures counted per image and
 * parked after a bounded number of attempts, temporary files of dead writers removed, damaged records moved
 * aside, version 1 folders migrated to version 2 ids without moving any image to another split.
 */
import { hostname } from "node:os";
import { mkdir, open, readdir, readFile, rm, stat, unlink } from "node:fs/promises";
import { pathExists } from "../util/fs.js";
import { join, resolve } from "node:path";
import {
  DATASET_FORMAT,
  DATASET_VERSION,
  eachRecord,
  failurePath,
  moveAside,
  readManifest,
  recordNames,
  recordPath,
  type DamagedRecord,
  type DatasetKind,
  type FailureRecord,
  type GenerationInfo,
  type ImageRecord,
  type Manifest,
  type SplitFractions,
  imageIdFor,
} from "../datasets/gear-seg.js";
import { writeJsonDurable } from "../util/durable.js";
import { GearSegError, UsageError } from "../util/errors.js";
import type { ImageEntry } from "./images.js";
import { formatSplitFractions } from "./splits.js";

export async function writeRecord(dir: string, record: ImageRecord): Promise<void> {
  await writeJsonDurable(recordPath(dir, record.image_id), record);
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes `.name.<pid>.<hex>.tmp` files whose writer is no longer running (left by a crash). */
export async function removeStaleTemporaries(dir: string): Promise<number> {
  let removed = 0;
  for (const sub of ["", "records", "failures"]) {
    const folder = join(dir, sub);
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
      if (!m || pidAlive(Number(m[1]))) continue;
      await rm(join(folder, name), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Records of zero length (what a power cut leaves after an unsynced rename) are moved aside at once. */
async function quarantineEmptyRecords(dir: string): Promise<DamagedRecord[]> {
  const damaged: DamagedRecord[] = [];
  for (const name of await recordNames(dir)) {
    const file = join(dir, "records", name);
    const info = await stat(file).catch(() => null);
    if (info && info.size === 0) damaged.push({ file, movedTo: await moveAside(dir, file, name), reason: "empty file (a write cut short, e.g. by a power cut)" });
  }
  return damaged;
}

export interface WriterLock {
  release(): Promise<void>;
}

/** One process writes a dataset at a time: a second writer is refused while the first is alive. */
export async function lockDataset(dir: string): Promise<WriterLock> {
  const path = join(dir, "writer.lock");
  await mkdir(dir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx");
      await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n");
      await fh.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(await readFile(path, "utf8")) as typeof holder;
      } catch {
        // unreadable lock: treated as stale
      }
      if (holder.pid && holder.host === hostname() && pidAlive(holder.pid)) {
        throw new GearSegError(`dataset "${dir}" is being written by another gear-seg process (pid ${holder.pid}); wait for it or stop it`);
      }
      if (holder.pid && holder.host && holder.host !== hostname()) {
        throw new GearSegError(`dataset "${dir}" is locked by a gear-seg process on ${holder.host} (pid ${holder.pid}); if that process is gone, remove ${path}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new GearSegError(`cannot lock dataset "${dir}"`);
}

export interface OpenDatasetOptions {
  kind: DatasetKind;
  /** The images folder of this run: added to the manifest's roots when it is new. */
  imagesRoot: string;
  seed: string;
  fractions: SplitFractions;
  generation: GenerationInfo;
  labels?: Manifest["labels"];
  onDamaged?: (d: DamagedRecord) => void;
}

export interface OpenedDataset {
  manifest: Manifest;
  /** Index of this run's images folder in `manifest.images_roots`. */
  root: number;
}

const sameFractions = (a: SplitFractions, b: SplitFractions) =>
  Math.abs(a.train - b.train) < 1e-9 && Math.abs(a.val - b.val) < 1e-9 && Math.abs(a.test - b.test) < 1e-9;

/** Creates the manifest of a new dataset, or checks a rerun against it (same kind, seed and fractions, same
 * keyword), migrating a version 1 folder first. Cleans what crashes leave. */
export async function openDataset(dir: string, o: OpenDatasetOptions): Promise<OpenedDataset> {
  const path = join(dir, "manifest.json");
  const now = new Date().toISOString();
  const imagesRoot = resolve(o.imagesRoot);
  await removeStaleTemporaries(dir);
  const exists = await pathExists(path);
  if (!exists) {
    const manifest: Manifest = {
      format: DATASET_FORMAT,
      version: DATASET_VERSION,
      kind: o.kind,
      images_roots: [imagesRoot],
      created: now,
      updated: now,
      generation: o.generation,
      splits: { seed: o.seed, fractions: o.fractions, key: "content" },
      ...(o.labels && { labels: o.labels }),
      files: {},
      counts: { images: 0, failed: 0, pending: 0, items: 0 },
    };
    await writeJsonDurable(path, manifest);
    return { manifest, root: 0 };
  }
  let existing = await readManifest(dir);
  if (existing.kind !== o.kind) throw new UsageError(`"${dir}" holds a ${existing.kind} dataset; use another folder for ${o.kind} data`);
  if (existing.splits.seed !== o.seed || !sameFractions(existing.splits.fractions, o.fractions)) {
    throw new UsageError(`"${dir}" was generated with seed ${existing.splits.seed} and splits ${formatSplitFractions(existing.splits.fractions)}; resume with the same seed and splits, or use a new folder`);
  }
  if (o.labels && existing.labels && existing.labels.keyword !== o.labels.keyword) {
    throw new UsageError(`"${dir}" was labelled for "${existing.labels.keyword}", not "${o.labels.keyword}"; use a new folder`);
  }
  if (existing.version === 1) existing = await migrateVersion1(dir, existing);
  for (const d of await quarantineEmptyRecords(dir)) o.onDamaged?.(d);
  let root = existing.images_roots.indexOf(imagesRoot);
  const roots = [...existing.images_roots];
  if (root < 0) {
    root = roots.length;
    roots.push(imagesRoot);
  }
  // Given classes extend the list; a class already listed keeps its position (its id in every export).
  let labels = existing.labels ?? o.labels;
  if (labels && o.labels && !o.labels.discovered) {
    labels = { ...labels, classes: [...labels.classes, ...o.labels.classes.filter((c) => !labels!.classes.includes(c))] };
  }
  const manifest: Manifest = {
    ...existing,
    images_roots: roots,
    updated: now,
    generation: { ...o.generation, models: existing.generation.models },
    ...(labels && { labels }),
  };
  await writeJsonDurable(path, manifest);
  return { manifest, root };
}

/**
 * Version 1 → 2: records renamed to version 2 ids (item ids follow); each keeps its split, so no finished image
 * moves between train, val and test. Failure notes of version 1 are dropped (their images are simply retried).
 * Each record is written under its new name before the old file goes: a crash midway leaves both, and the
 * rerun finishes the job.
 */
async function migrateVersion1(dir: string, v1: Manifest): Promise<Manifest> {
  for await (const record of eachRecord(dir, { onDamaged: () => {} })) {
    const oldId = record.image_id;
    const newId = imageIdFor(record.image, 0);
    if (oldId === newId) continue;
    const renamed: ImageRecord =
      record.kind === "reasoning"
        ? { ...record, image_id: newId, root: 0, items: record.items.map((it, k) => ({ ...it, id: `${newId}#${k}`, image_id: newId })) }
        : { ...record, image_id: newId, root: 0, instances: record.instances.map((inst) => ({ ...inst, id: `${newId}#${inst.region_id >= 0 ? inst.region_id : inst.id.split("#")[1]}` })) };
    await writeRecord(dir, renamed);
    await rm(recordPath(dir, oldId), { force: true });
  }
  await rm(join(dir, "failures"), { recursive: true, force: true });
  const manifest: Manifest = { ...v1, version: DATASET_VERSION, splits: { ...v1.splits, key: "content" } };
  await writeJsonDurable(join(dir, "manifest.json"), manifest);
  return manifest;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

export async function readFailure(dir: string, imageId: string): Promise<FailureRecord | undefined> {
  try {
    return JSON.parse(await readFile(failurePath(dir, imageId), "utf8")) as FailureRecord;
  } catch {
    return undefined;
  }
}

/** Counts one more failed attempt; parks the image once `maxAttempts` is reached. */
export async function recordFailure(dir: string, entry: Pick<ImageEntry, "id" | "rel" | "root">, stage: string, error: string, maxAttempts = DEFAULT_MAX_ATTEMPTS): Promise<FailureRecord> {
  const previous = await readFailure(dir, entry.id);
  const attempts = (previous?.attempts ?? (previous ? 1 : 0)) + 1;
  const failure: FailureRecord = { image_id: entry.id, image: entry.rel, root: entry.root, stage, error, at: new Date().toISOString(), attempts, ...(attempts >= maxAttempts && { parked: true }) };
  await writeJsonDurable(failurePath(dir, entry.id), failure);
  return failure;
}

export async function clearFailure(dir: string, imageId: string): Promise<void> {
  await rm(failurePath(dir, imageId), { force: true });
}

/** Brings parked images back: their attempt counts start again. Returns how many were parked. */
export async function unparkFailures(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(join(dir, "failures")).catch(() => [] as string[])) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const f = await readFailure(dir, name.slice(0, -5));
    if (!f?.parked) continue;
    await writeJsonDurable(failurePath(dir, f.image_id), { ...f, parked: undefined, attempts: 0 });
    n++;
  }
  return n;
}

export interface WorkList {
  todo: ImageEntry[];
  /** Finished before this run. */
  done: number;
  /** Failed too often: skipped until their failures are retried. */
  parked: FailureRecord[];
}

/** Which images still need work: no record yet, and not parked. */
export async function pendingImages(dir: string, images: readonly ImageEntry[]): Promise<WorkList> {
  const finished = new Set((await recordNames(dir)).map((n) => n.slice(0, -5)));
  const todo: ImageEntry[] = [];
  const parked: FailureRecord[] = [];
  let done = 0;
  for (const e of images) {
    if (finished.has(e.id)) {
      done++;
      continue;
    }
    const f = await readFailure(dir, e.id);
    if (f?.parked) parked.push(f);
    else todo.push(e);
  }
  return { todo, done, parked };
}
