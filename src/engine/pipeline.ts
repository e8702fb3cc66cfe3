/**
 * The one batch pipeline of `engine generate` and `label`: list the images, open (or resume) the dataset,
 * skip finished and parked images, hash each image (its split and its queue job id come from its content),
 * hand the work to an executor — this process (local.ts) or workers behind a queue (queue/collector.ts) —
 * write each finished record durably and count it in the dataset's summary, count each failure (parked after
 * the attempt limit), and bring the summary files up to date at the end (in time proportional to this run's
 * records: summary.ts). One writer: only this process writes the dataset, whoever did the work.
 *
 * Crash safety: a record is written once its image is finished, so a rerun skips it; an abort (Ctrl-C)
 * cancels the calls in flight (their images stay pending, nothing half-written reaches the folder), and the
 * summary is brought up to date with what is finished. A run killed before that leaves no saved totals: the
 * next summary reads every record.
 */
import type { DamagedRecord, GenerationInfo, ImageRecord, Manifest, Split, SplitFractions } from "../datasets/gear-seg.js";
import { DEFAULT_SPLITS, readManifest } from "../datasets/gear-seg.js";
import { UsageError } from "../util/errors.js";
import { listImages, type ImageEntry } from "./images.js";
import { sha256File } from "../util/fs.js";
import { ProgressTracker, type BatchProgress } from "./progress.js";
import { assignSplit } from "./splits.js";
import { clearFailure, DEFAULT_MAX_ATTEMPTS, lockDataset, openDataset, pendingImages, recordFailure, unparkFailures } from "./store.js";
import { SummaryUpdater } from "./summary.js";
import type { DatasetStats } from "./stats.js";
import { taskPromptVersion, type DatasetTask, type ImageIdentity } from "./tasks.js";

/** One image to do, with what its content decides. */
export interface ImageJob {
  entry: ImageEntry;
  identity: ImageIdentity;
}

export interface JobHandlers {
  /** The image is finished: the pipeline writes its record. */
  finished(job: ImageJob, record: ImageRecord): Promise<void>;
  /** The image failed in a named stage: the pipeline counts the attempt. */
  failed(job: ImageJob, stage: string, error: string): Promise<void>;
}

/** Who does the per-image work. */
export interface Executor {
  /** Spec strings for the manifest (a queue's workers report theirs per record). */
  readonly backends: { segmenter: string; describer: string | null; llm: string };
  /** Does every job (pulled lazily: hashing is part of the work), calling the handlers; returns when all are
   * done, or soon after `signal` aborts (work in flight is cancelled and stays pending). */
  run(task: DatasetTask, jobs: AsyncIterable<ImageJob>, handlers: JobHandlers, signal: AbortSignal): Promise<void>;
}

export interface DatasetRunOptions {
  imagesDir: string;
  outDir: string;
  task: DatasetTask;
  executor: Executor;
  seed?: string | number;
  splits?: SplitFractions;
  /** Only the first N images (sorted by path). */
  limit?: number;
  /** Failed attempts (across runs) after which an image is parked (default 3). */
  maxAttempts?: number;
  /** Bring parked images back before the run. */
  retryFailed?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  /** Notices worth a line on stderr: damaged records moved aside, folders skipped. */
  onNotice?: (line: string) => void;
}

export interface DatasetRunSummary {
  outDir: string;
  total: number;
  /** Finished before this run. */
  skipped: number;
  finished: number;
  failed: number;
  /** Not tried: failed too often before (see `engine status`; `retryFailed` brings them back). */
  parked: number;
  interrupted: boolean;
  /** Images neither finished before nor in this run. */
  pending: number;
  stats: DatasetStats;
  /** Instances datasets: the classes, in their export order. */
  classes?: string[];
}

async function* hashedJobs(todo: readonly ImageEntry[], seed: string, fractions: SplitFractions, onUnreadable: (e: ImageEntry, err: unknown) => Promise<void>, signal: AbortSignal): AsyncGenerator<ImageJob> {
  for (const entry of todo) {
    if (signal.aborted) return;
    let sha: string;
    try {
      sha = await sha256File(entry.abs);
    } catch (err) {
      await onUnreadable(entry, err);
      continue;
    }
    const split: Split = assignSplit(sha, seed, fractions);
    yield { entry, identity: { image_id: entry.id, image: entry.rel, root: entry.root, image_sha256: sha, split } };
  }
}

export async function runDatasetPipeline(options: DatasetRunOptions): Promise<DatasetRunSummary> {
  const { outDir, task, executor } = options;
  if (task.kind === "reasoning" && (!Number.isInteger(task.filters.maxItems) || task.filters.maxItems < 1 || task.filters.maxItems > 4)) {
    throw new UsageError(`items per image must be 1 to 4, got ${task.filters.maxItems}`);
  }
  if (task.kind === "instances" && !task.keyword) throw new UsageError("the labelling keyword is empty");
  const seed = String(options.seed ?? 0);
  const fractions = options.splits ?? DEFAULT_SPLITS;
  const notice = options.onNotice ?? (() => {});
  const onDamaged = (d: DamagedRecord) => notice(`damaged record ${d.file} (${d.reason}) moved to ${d.movedTo}; its image will be redone`);
  const generation: GenerationInfo = { ...executor.backends, models: [], prompt_version: taskPromptVersion(task) };
  const labels: Manifest["labels"] | undefined = task.kind === "instances" ? { keyword: task.keyword, classes: task.classes ?? [], discovered: !task.classes } : undefined;

  const lock = await lockDataset(outDir);
  try {
    const { root } = await openDataset(outDir, { kind: task.kind, imagesRoot: options.imagesDir, seed, fractions, generation, labels, onDamaged });
    let images = await listImages(options.imagesDir, { root, onSkip: (path, reason) => notice(`skipped ${path}: ${reason}`) });
    if (options.limit !== undefined) images = images.slice(0, options.limit);
    if (options.retryFailed) {
      const n = await unparkFailures(outDir);
      if (n) notice(`${n} parked image(s) brought back`);
    }
    const work = await pendingImages(outDir, images);
    const summaryUpdater = await SummaryUpdater.open(outDir);
    const tracker = new ProgressTracker(images.length, work.done, work.parked.length);
    options.onProgress?.(tracker.snapshot());
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;

    const controller = new AbortController();
    const outer = options.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener("abort", onAbort, { once: true });
    const signal = controller.signal;

    const fail = async (entry: ImageEntry, stage: string, error: string) => {
      await recordFailure(outDir, entry, stage, error, maxAttempts);
      const progress = tracker.record(entry.rel, "failed", `${stage}: ${error}`);
    options.onProgress?.(progress);
    };
    const handlers: JobHandlers = {
      finished: async (job, record) => {
        await summaryUpdater.put(record);
        await clearFailure(outDir, job.entry.id);
        const progress = tracker.record(job.entry.rel, "finished");
    options.onProgress?.(progress);
      },
      failed: (job, stage, error) => fail(job.entry, stage, error),
    };
    const jobs = hashedJobs(work.todo, seed, fractions, (e, err) => fail(e, "read", (err as Error).message?.split("\n")[0] ?? String(err)), signal);
    try {
      await executor.run(task, jobs, handlers, signal);
    } catch (err) {
      await summaryUpdater.abandon();
      throw err;
    } finally {
      outer?.removeEventListener("abort", onAbort);
    }
    const s = tracker.state;
    const pending = images.length - s.skipped - s.finished;
    // Not tried yet: images of the work list this run did not reach (an interrupt).
    const stats = await summaryUpdater.commit({ pending: work.todo.length - s.finished - s.failed, onDamaged });
    const summary: DatasetRunSummary = {
      outDir,
      total: images.length,
      skipped: s.skipped,
      finished: s.finished,
      failed: s.failed,
      parked: s.parked,
      interrupted: signal.aborted,
      pending,
      stats,
    };
    if (task.kind === "instances") {
      summary.classes = (await readManifest(outDir)).labels?.classes ?? [];
    }
    return summary;
  } finally {
    await lock.release();
  }
}
