/**
 * `gear-seg worker`: takes jobs from the queues, runs the stages with this machine's own backends (its SAM 2
 * files, DAM replicas, LLM endpoint, concurrency) and hands the results back through Redis; the collecting
 * process writes them. Workers join and leave at any time. A worker killed mid-job loses nothing: its lock
 * expires after the stall timeout and BullMQ gives the job to another worker.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { extname, join } from "node:path";
import { Worker, type Job } from "bullmq";
import type { GearSeg } from "../../pipeline/agent.js";
import type { Detector } from "../../pipeline/types.js";
import { resultToJson } from "../../pipeline/result.js";
import { describeError } from "../../util/errors.js";
import { failureOf, stage, StageFailure } from "../failures.js";
import type { ImageEntry } from "../images.js";
import type { JsonChat } from "../llm.js";
import type { Preparer } from "../local.js";
import { runTask, type TaskBackends } from "../tasks.js";
import { connectRedis, type QueueAddress } from "./connection.js";
import { DATASET_QUEUE, EVAL_QUEUE, type DatasetJobData, type DatasetJobResult, type EvalJobData, type EvalJobResult, type ImageRef } from "./jobs.js";

export interface WorkerBackends {
  /** Dataset jobs: the preparer and the LLM (and the detector, for labelling by detector). Without an LLM the
   * worker takes no dataset jobs. */
  prepare: Preparer;
  llm?: JsonChat;
  detector?: Detector;
  segmenter: string;
  describer: string | null;
  /** Evaluation jobs: the full agent (with its reasoner) and the fingerprint of its configuration. */
  agent?: () => Promise<{ agent: GearSeg; fingerprint: string }>;
}

export interface WorkerOptions {
  address: QueueAddress;
  backends: WorkerBackends;
  /** Jobs in flight per queue (default 2). */
  concurrency?: number;
  /** How long a job may go without its worker's heartbeat before another worker takes it (default 30 s). */
  stallTimeoutMs?: number;
  /** A name in `queue status` (default host:pid). */
  name?: string;
  onEvent?: (line: string) => void;
}

export interface RunningWorker {
  name: string;
  /** Finishes the jobs in flight, then disconnects. */
  close(): Promise<void>;
  /** Jobs done and failed so far. */
  counts: { completed: number; failed: number };
}

/** The image of a job as a local file: inline bytes are written to a scratch folder; a path must be readable
 * here (shared storage) and hold the same content. */
async function localImage(ref: ImageRef, scratch: string): Promise<string> {
  let bytes: Buffer;
  if (ref.bytes !== undefined) {
    bytes = Buffer.from(ref.bytes, "base64");
    const file = join(scratch, `${ref.sha256}${extname(ref.rel).toLowerCase()}`);
    await writeFile(file, bytes);
    return file;
  }
  try {
    bytes = await readFile(ref.path);
  } catch (err) {
    throw new StageFailure("read", new Error(`image "${ref.path}" is not readable on ${hostname()} (${(err as NodeJS.ErrnoException).code ?? describeError(err)}): workers need shared storage at the same path, or images small enough to travel inside jobs`));
  }
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== ref.sha256) throw new StageFailure("read", new Error(`image "${ref.path}" on ${hostname()} is not the file that was queued (content differs)`));
  return ref.path;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const event = options.onEvent ?? (() => {});
  const scratch = await mkdtemp(join(tmpdir(), "gear-seg-worker-"));
  const stall = options.stallTimeoutMs ?? 30_000;
  const counts = { completed: 0, failed: 0 };
  const backends: TaskBackends = { segmenter: options.backends.segmenter, describer: options.backends.describer, llm: options.backends.llm?.spec ?? "none" };
  const workerOptions = {
    concurrency: options.concurrency ?? 2,
    name,
    // A killed worker's job goes back to the queue once its lock expires; it may stall many times (workers
    // come and go) without being failed for it.
    lockDuration: stall,
    stalledInterval: Math.max(500, Math.floor(stall / 2)),
    maxStalledCount: 1000,
    // Jobs per minute, kept for a day: what `queue status` reports as the rate.
    metrics: { maxDataPoints: 1440 },
  };

  /** Runs `fn` on the job's image as a local file; a failure becomes "<stage>: <reason>" (what the collector
   * records); an inline image's scratch copy is removed afterwards. */
  const withImage = async <T>(image: ImageRef, fn: (path: string) => Promise<T>): Promise<T> => {
    try {
      return await fn(await localImage(image, scratch));
    } catch (err) {
      const f = failureOf(err);
      throw new Error(`${f.stage}: ${f.error}`);
    } finally {
      if (image.bytes !== undefined) await rm(join(scratch, `${image.sha256}${extname(image.rel).toLowerCase()}`), { force: true });
    }
  };

  const processDataset = (job: Job<DatasetJobData, DatasetJobResult>): Promise<DatasetJobResult> => {
    const { task, image, identity } = job.data;
    return withImage(image, async (path) => {
      const entry: ImageEntry = { id: identity.image_id, rel: image.rel, abs: path, root: identity.root };
      const controller = new AbortController();
      const prepared = await stage("prepare", () => options.backends.prepare(entry, controller.signal));
      const record = await runTask(task, prepared, options.backends.llm ?? null, identity, backends, controller.signal, options.backends.detector);
      return { record, backends, worker: name };
    });
  };

  let agentPromise: ReturnType<NonNullable<WorkerBackends["agent"]>> | undefined;
  const processEval = (job: Job<EvalJobData, EvalJobResult>): Promise<EvalJobResult> => {
    const { image, queries, mode } = job.data;
    return withImage(image, async (path) => {
      agentPromise ??= options.backends.agent!();
      const { agent, fingerprint } = await agentPromise;
      const prepared = await stage("prepare", () => agent.prepare(path));
      const results: EvalJobResult["results"] = [];
      for (const q of queries) {
        try {
          results.push({ id: q.id, result: resultToJson(await agent.ask(prepared, q.query, { mode })) });
        } catch (err) {
          results.push({ id: q.id, error: describeError(err) });
        }
      }
      return { results, fingerprint, worker: name };
    });
  };

  const workers: Worker[] = [];
  const connections: ReturnType<typeof connectRedis>[] = [];
  const listen = (queueName: string, processor: (job: Job) => Promise<unknown>) => {
    const connection = connectRedis(options.address, (m) => event(m));
    connections.push(connection);
    const w = new Worker(queueName, processor, { ...workerOptions, connection });
    w.on("completed", (job) => {
      counts.completed++;
      event(`done ${job.id}`);
    });
    w.on("failed", (job, err) => {
      counts.failed++;
      event(`failed ${job?.id}: ${err.message}`);
    });
    w.on("error", (err) => event(`worker: ${err.message}`));
    workers.push(w);
  };
  // Dataset jobs need the LLM (generate, label); labelling by detector also runs on such a worker, with its
  // detector. A worker without an LLM would fail generate jobs, so it takes none.
  if (options.backends.llm) listen(DATASET_QUEUE, processDataset as (job: Job) => Promise<unknown>);
  if (options.backends.agent) listen(EVAL_QUEUE, processEval as (job: Job) => Promise<unknown>);
  return {
    name,
    counts,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      for (const c of connections) c.disconnect();
      if (agentPromise) await (await agentPromise).agent.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
