/**
 * The crash-safe, resumable batch loop shared by `engine generate` and `label`: each image's record is
 * written atomically once the image is finished, so a rerun skips it; a failure is written beside it and the
 * run goes on (the next run retries it); an abort (Ctrl-C) stops taking new images, lets nothing half-written
 * reach the folder, and returns so the caller can rewrite the summary files from what is finished.
 */
import { access, rm } from "node:fs/promises";
import { describeError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { failurePath, recordPath, type FailureRecord, type ImageEntry, type ImageRecord } from "./dataset.js";

/** A failure in a named stage of one image ("prepare", "llm", ...). */
export class StageFailure extends Error {
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`${stage}: ${describeError(cause)}`);
    this.name = "StageFailure";
  }
}

/** Runs `fn` and tags what it throws with the stage name. */
export async function stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StageFailure) throw err;
    throw new StageFailure(name, err);
  }
}

export interface BatchProgress {
  /** Images finished or failed in this run, plus those skipped as already finished. */
  done: number;
  total: number;
  finished: number;
  failed: number;
  skipped: number;
  /** The image just handled and what happened to it. */
  last?: { image: string; outcome: "finished" | "failed"; error?: string };
}

export interface BatchOptions {
  outDir: string;
  images: readonly ImageEntry[];
  /** Images in flight at once (default 2). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  /** Handle one image; throw (ideally a StageFailure) when it cannot be done. */
  process(entry: ImageEntry, signal: AbortSignal): Promise<ImageRecord>;
}

export interface BatchSummary {
  total: number;
  skipped: number;
  finished: number;
  failed: number;
  interrupted: boolean;
  /** Images neither finished before nor in this run (failed, or not reached after an interrupt). */
  pending: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const { outDir, images } = options;
  const controller = new AbortController();
  const outer = options.signal;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onAbort, { once: true });
  const signal = controller.signal;

  const todo: ImageEntry[] = [];
  let skipped = 0;
  for (const e of images) {
    if (await exists(recordPath(outDir, e.id))) skipped++;
    else todo.push(e);
  }
  const progress: BatchProgress = { done: skipped, total: images.length, finished: 0, failed: 0, skipped };
  options.onProgress?.({ ...progress });

  let next = 0;
  const worker = async () => {
    while (!signal.aborted && next < todo.length) {
      const entry = todo[next++]!;
      try {
        const record = await options.process(entry, signal);
        // A record that completed is complete even if Ctrl-C came meanwhile: keep it (written atomically).
        await writeJsonAtomic(recordPath(outDir, entry.id), record);
        await rm(failurePath(outDir, entry.id), { force: true });
        progress.finished++;
        progress.last = { image: entry.rel, outcome: "finished" };
      } catch (err) {
        if (signal.aborted) break; // an abort is not the image's fault: it stays pending
        const stageName = err instanceof StageFailure ? err.stage : "process";
        const cause = err instanceof StageFailure ? err.cause : err;
        const failure: FailureRecord = { image_id: entry.id, image: entry.rel, stage: stageName, error: describeError(cause), at: new Date().toISOString() };
        await writeJsonAtomic(failurePath(outDir, entry.id), failure);
        progress.failed++;
        progress.last = { image: entry.rel, outcome: "failed", error: `${stageName}: ${failure.error}` };
      }
      progress.done++;
      options.onProgress?.({ ...progress });
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 2, todo.length || 1));
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    outer?.removeEventListener("abort", onAbort);
  }
  const interrupted = signal.aborted;
  return {
    total: images.length,
    skipped,
    finished: progress.finished,
    failed: progress.failed,
    interrupted,
    pending: images.length - skipped - progress.finished,
  };
}
