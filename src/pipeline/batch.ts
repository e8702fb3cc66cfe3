/**
 * `segment` over many images: one folder per image under a run folder (`<run>/<image id>/`, laid out as a
 * single-image run: its files, or one sub-folder per query), resumable and failure-tolerant.
 *
 * - `run.json` names the configuration (a fingerprint of the agent, the queries, the mode and the output
 *   options). A run folder is resumed only by the same configuration.
 * - `<image id>/status.json` is written last, once every query of the image was tried: `done` when all were
 *   answered, `failed` otherwise (with the reasons). A rerun skips an image whose status is `done` for the
 *   same configuration and the same file (size and modification time); everything else is done again.
 * - One failure (an unreadable image, a server error on one query) is recorded and the run goes on.
 * The next images are prepared while the current one is answered and written (as many as the agent prepares
 * at once: its preparation workers, or one), so decoding and segmenting overlap with the reasoner's calls and
 * the PNG encoding, on every core.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { inOrderAhead } from "../util/concurrency.js";
import { GearSegError, describeError } from "../util/errors.js";
import { isFreeDir, makeDir, writeJsonAtomic } from "../util/fs.js";
import type { ImageFile } from "../util/image-files.js";
import { isRecord } from "../util/json.js";
import type { GearSeg, PreparedImage } from "./agent.js";
import { answerQueries } from "./answers.js";
import type { OutputOptions } from "./outputs.js";
import type { QueryMode } from "./types.js";

export const SEGMENT_RUN_FORMAT = "gear-seg segment run";
const SEGMENT_RUN_VERSION = 1;

/** `run.json`. */
export interface SegmentRunManifest {
  format: typeof SEGMENT_RUN_FORMAT;
  version: number;
  fingerprint: string;
  queries: string[];
  mode: QueryMode;
  backends: { segmenter: string; describer: string | null; reasoner: string | null };
}

/** `<image id>/status.json`. */
export interface SegmentImageStatus {
  status: "done" | "failed";
  id: string;
  image: string;
  /** The file as it was when run: a changed file is run again. */
  size: number;
  mtime: number;
  fingerprint: string;
  /** Per query: its folder relative to the run folder and the chosen ids, or why it failed. */
  queries: { query: string; folder?: string; masks?: number[]; error?: string }[];
  /** Why the image itself failed (unreadable, segmenter or describer error). */
  error?: string;
  finished: string;
}

export interface QueryTally {
  query: string;
  /** Answered with at least one region / with none / not answered. */
  answered: number;
  empty: number;
  failed: number;
}

export interface SegmentBatchSummary {
  dir: string;
  images: number;
  /** Images skipped because an earlier run finished them with this configuration. */
  resumed: number;
  failed: { id: string; image: string; message: string }[];
  queries: QueryTally[];
  elapsedMs: number;
}

export interface SegmentBatchOptions extends OutputOptions {
  agent: GearSeg;
  images: readonly ImageFile[];
  queries: readonly string[];
  mode?: QueryMode;
  /** The run folder, as chosen by `chooseRunFolder`. */
  dir: string;
  signal?: AbortSignal;
  /** After each image: `done` of `total` images; `resumed` when an earlier run had finished it. */
  onProgress?: (done: number, total: number, image: ImageFile, resumed: boolean) => void;
  /** A failure that was recorded: the image, and the query when only that query failed. */
  onFailure?: (image: ImageFile, message: string, query?: string) => void;
}

/** What makes two runs interchangeable: the agent's fingerprint, the queries, the mode and the outputs. */
export function segmentRunManifest(agent: GearSeg, queries: readonly string[], mode: QueryMode, outputs: OutputOptions = {}): SegmentRunManifest {
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ agent: agent.fingerprint, queries, mode, outputs }))
    .digest("hex");
  return {
    format: SEGMENT_RUN_FORMAT,
    version: SEGMENT_RUN_VERSION,
    fingerprint,
    queries: [...queries],
    mode,
    backends: { segmenter: agent.segmenter.spec, describer: agent.describer?.spec ?? null, reasoner: agent.reasoner?.spec ?? null },
  };
}

/**
 * The run folder for `manifest`: `base` when it is free or holds this very run (resumed); otherwise, with
 * `fresh`, the first of `base-2`, `base-3` … that is; without, `base` only if `overwrite`, else an error.
 */
export async function chooseRunFolder(
  base: string,
  manifest: SegmentRunManifest,
  { fresh, overwrite = false }: { fresh: boolean; overwrite?: boolean },
): Promise<{ dir: string; resumed: boolean }> {
  for (let n = 1; n < 100_000; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    const existing = await readRunManifest(dir).catch(() => undefined);
    if (existing?.fingerprint === manifest.fingerprint) return { dir, resumed: true };
    if (await isFreeDir(dir)) return { dir, resumed: false };
    if (!fresh) {
      if (overwrite) return { dir, resumed: false };
      throw new GearSegError(
        existing
          ? `"${dir}" holds a run with other queries, backends or options: give another output folder, or overwrite it`
          : `"${dir}" is not empty and holds no segment run: give another output folder, or overwrite it`,
      );
    }
  }
  throw new GearSegError(`no free folder name next to "${base}"`);
}

export async function runSegmentBatch(options: SegmentBatchOptions): Promise<SegmentBatchSummary> {
  const { agent, images, queries, mode = "reasoning", dir, signal, onProgress, onFailure, ...outputs } = options;
  const started = performance.now();
  const manifest = segmentRunManifest(agent, queries, mode, outputs);
  let manifestWritten = false;
  const imageFolder = async (image: ImageFile) => {
    if (!manifestWritten) {
      await writeJsonAtomic(join(dir, "run.json"), manifest);
      manifestWritten = true;
    }
    const folder = join(dir, image.id);
    await makeDir(folder);
    return folder;
  };

  const statuses: SegmentImageStatus[] = [];
  const todo: { image: ImageFile; size: number; mtime: number }[] = [];
  let done = 0;
  for (const image of images) {
    const info = await stat(image.path).catch(() => null);
    const previous = await readImageStatus(join(dir, image.id, "status.json"));
    if (
      info &&
      previous?.status === "done" &&
      previous.fingerprint === manifest.fingerprint &&
      previous.size === info.size &&
      previous.mtime === info.mtimeMs
    ) {
      statuses.push(previous);
      onProgress?.(++done, images.length, image, true);
    } else todo.push({ image, size: info?.size ?? -1, mtime: info?.mtimeMs ?? -1 });
  }
  const resumed = statuses.length;

  // As many images prepared ahead as the agent prepares at once (its workers; one in process), answered and
  // written in order; a failure is a value here, so that nothing rejects unobserved.
  const prepare = (i: number) =>
    agent.prepareLazily(todo[i]!.image.path, signal).then(
      (prepared): { prepared: PreparedImage; error?: undefined } => ({ prepared }),
      (error: unknown): { prepared?: undefined; error: unknown } => ({ error }),
    );
  const preparations = inOrderAhead(todo.length, agent.parallelism, prepare);
  for (let i = 0; i < todo.length; i++) {
    const { image, size, mtime } = todo[i]!;
    const current = (await preparations.next()).value!;
    signal?.throwIfAborted();
    const status: SegmentImageStatus = { status: "done", id: image.id, image: image.path, size, mtime, fingerprint: manifest.fingerprint, queries: [], finished: "" };
    if (!current.prepared) {
      status.status = "failed";
      status.error = describeError(current.error);
      status.queries = queries.map((query) => ({ query, error: status.error }));
      onFailure?.(image, status.error);
    } else {
      const outcomes = await answerQueries(agent, current.prepared, queries, { ...outputs, mode, signal, folder: () => imageFolder(image) });
      for (const o of outcomes) {
        if (o.result) status.queries.push({ query: o.query, folder: relativeFolder(dir, o.dir!), masks: o.result.maskIds });
        else {
          status.status = "failed";
          status.queries.push({ query: o.query, error: o.message });
          onFailure?.(image, o.message!, o.query);
        }
      }
    }
    status.finished = new Date().toISOString();
    await writeJsonAtomic(join(await imageFolder(image), "status.json"), status);
    statuses.push(status);
    onProgress?.(++done, images.length, image, false);
  }

  return {
    dir,
    images: images.length,
    resumed,
    failed: statuses
      .filter((s) => s.status === "failed")
      .map((s) => ({ id: s.id, image: s.image, message: s.error ?? s.queries.filter((q) => q.error).map((q) => `"${q.query}": ${q.error}`).join("; ") })),
    queries: queries.map((query, k) => tally(query, statuses.map((s) => s.queries[k]))),
    elapsedMs: performance.now() - started,
  };
}

/** The summary as `segment --json` prints it (snake_case, as result.json). */
export function segmentBatchSummaryToJson(s: SegmentBatchSummary) {
  return {
    dir: s.dir,
    images: s.images,
    resumed: s.resumed,
    failed: s.failed,
    queries: s.queries,
    elapsed_ms: Math.round(s.elapsedMs),
  };
}

function tally(query: string, outcomes: (SegmentImageStatus["queries"][number] | undefined)[]): QueryTally {
  const t: QueryTally = { query, answered: 0, empty: 0, failed: 0 };
  for (const o of outcomes) {
    if (!o || o.error !== undefined) t.failed++;
    else if (o.masks && o.masks.length > 0) t.answered++;
    else t.empty++;
  }
  return t;
}

const relativeFolder = (root: string, folder: string) => folder.slice(root.length + 1).split("\\").join("/");

/** A run folder's manifest and the status of every image it finished or failed (for readers such as export). */
export async function readSegmentRun(dir: string): Promise<{ manifest: SegmentRunManifest; images: SegmentImageStatus[] }> {
  const manifest = await readRunManifest(dir);
  if (!manifest) throw new GearSegError(`"${dir}" is not a segment run folder (no run.json)`);
  const images: SegmentImageStatus[] = [];
  const walk = async (folder: string): Promise<void> => {
    const status = await readImageStatus(join(folder, "status.json"));
    if (status) images.push(status);
    for (const e of await readdir(folder, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith(".")) await walk(join(folder, e.name));
  };
  await walk(dir);
  return { manifest, images: images.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

/** True when `dir` is a segment run folder (it holds a run.json). */
export function isSegmentRunFolder(dir: string): boolean {
  return existsSync(join(dir, "run.json"));
}

async function readRunManifest(dir: string): Promise<SegmentRunManifest | undefined> {
  const value = await readJson(join(dir, "run.json"));
  return isRecord(value) && value.format === SEGMENT_RUN_FORMAT && typeof value.fingerprint === "string" ? (value as unknown as SegmentRunManifest) : undefined;
}

async function readImageStatus(path: string): Promise<SegmentImageStatus | undefined> {
  const value = await readJson(path);
  return isRecord(value) && (value.status === "done" || value.status === "failed") && Array.isArray(value.queries) ? (value as unknown as SegmentImageStatus) : undefined;
}

/** Undefined when missing or unreadable: a damaged marker means "not finished". */
async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}
