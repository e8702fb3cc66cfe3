/**
 * The collecting side of a queue run: enqueue the work (a bounded window at a time, so Redis holds only what
 * is in flight, never a 150,000-image backlog with its pictures), hear when jobs finish (BullMQ's event
 * stream, with a periodic sweep of the window's job states that also covers events missed while Redis was
 * restarting), hand each result to the pipeline (the one writer), then remove the job. Killing the collector
 * loses nothing: finished jobs wait in Redis for the next run, and a rerun re-adds nothing (job ids come
 * from content and configuration).
 */
import { readFile, stat } from "node:fs/promises";
import { Job, Queue, QueueEvents } from "bullmq";
import { connectRedis, type QueueAddress } from "./connection.js";
import { DATASET_QUEUE, datasetJobId, splitFailure, type DatasetJobData, type DatasetJobResult, type ImageRef } from "./jobs.js";
import type { Executor } from "../pipeline.js";
import { rebindRecord } from "../tasks.js";

export interface QueueItem<D, R> {
  jobId: string;
  data: D;
  onDone(result: R): Promise<void>;
  onFailed(reason: string): Promise<void>;
}

export interface CollectOptions {
  /** Jobs in the queue at once, waiting or running (default 128: with images inline, at most ~170 MB in Redis). */
  window?: number;
  signal?: AbortSignal;
  /** How often the window's job states are checked (default 1 s). */
  sweepMs?: number;
  onError?: (message: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs every item through the named queue; returns when all are settled, or soon after `signal` aborts. */
export async function collectThroughQueue<D, R>(address: QueueAddress, queueName: string, items: AsyncIterable<QueueItem<D, R>>, options: CollectOptions = {}): Promise<void> {
  const window = options.window ?? 128;
  const signal = options.signal;
  const connection = connectRedis(address, options.onError);
  const eventsConnection = connectRedis(address, options.onError);
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection: eventsConnection });
  // Connection trouble is reported once per outage by connectRedis; BullMQ's own copies of the news are dropped.
  queue.on("error", () => {});
  events.on("error", () => {});
  const inflight = new Map<string, QueueItem<D, R>[]>();
  const settling = new Set<string>();
  let wake: (() => void) | undefined;
  const poke = () => wake?.();

  const settle = async (jobId: string) => {
    if (settling.has(jobId) || !inflight.has(jobId)) return;
    settling.add(jobId);
    try {
      const job = await Job.fromId(queue, jobId);
      const state = job ? await job.getState() : "unknown";
      const waiting = inflight.get(jobId)!;
      if (job && state === "completed") {
        inflight.delete(jobId);
        for (const item of waiting) await item.onDone(job.returnvalue as R);
        await job.remove().catch(() => undefined);
      } else if (job && state === "failed") {
        inflight.delete(jobId);
        // The failed job stays in Redis (queue status shows it) until it is retried or ages out.
        for (const item of waiting) await item.onFailed(job.failedReason);
      } else if (state === "unknown") {
        await enqueue(waiting[0]!); // lost (Redis restarted without its data): add it again
      }
    } finally {
      settling.delete(jobId);
      poke();
    }
  };

  const enqueue = async (item: QueueItem<D, R>) => {
    await queue.add(queueName, item.data, { jobId: item.jobId, attempts: 1, removeOnComplete: false, removeOnFail: { age: 7 * 24 * 3600 } });
  };

  const add = async (item: QueueItem<D, R>) => {
    const same = inflight.get(item.jobId);
    if (same) {
      same.push(item); // another image with the same content: one job serves both
      return;
    }
    inflight.set(item.jobId, [item]);
    const state = await queue.getJobState(item.jobId);
    if (state === "unknown") await enqueue(item);
    else if (state === "failed") await (await Job.fromId(queue, item.jobId))?.retry("failed"); // an earlier run's failure: try again
    else if (state === "completed") await settle(item.jobId);
  };

  signal?.addEventListener("abort", poke, { once: true });
  events.on("completed", ({ jobId }) => void settle(jobId).catch((e: Error) => options.onError?.(e.message)));
  events.on("failed", ({ jobId }) => void settle(jobId).catch((e: Error) => options.onError?.(e.message)));

  const iterator = items[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    while (!signal?.aborted) {
      while (!exhausted && inflight.size < window && !signal?.aborted) {
        const next = await iterator.next();
        if (next.done) exhausted = true;
        else await add(next.value);
      }
      if (exhausted && inflight.size === 0) break;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, options.sweepMs ?? 1000);
      });
      clearTimeout(timer);
      for (const jobId of [...inflight.keys()]) {
        if (signal?.aborted) break;
        if (settling.has(jobId)) continue;
        const state = await queue.getJobState(jobId);
        if (state === "completed" || state === "failed" || state === "unknown") await settle(jobId);
      }
    }
    while (settling.size > 0) await sleep(20);
  } finally {
    signal?.removeEventListener("abort", poke);
    await iterator.return?.(undefined);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    connection.disconnect();
    eventsConnection.disconnect();
  }
}

/** Images up to this size travel inside the job; larger ones are read by workers from the same path. */
export const DEFAULT_INLINE_BYTES = 1_000_000;

export async function imageRef(path: string, rel: string, sha256: string, inlineMaxBytes = DEFAULT_INLINE_BYTES): Promise<ImageRef> {
  const size = (await stat(path)).size;
  return { path, rel, sha256, ...(size <= inlineMaxBytes && { bytes: (await readFile(path)).toString("base64") }) };
}

export interface QueueExecutorOptions extends Omit<CollectOptions, "signal"> {
  address: QueueAddress;
  inlineMaxBytes?: number;
}

/** The executor of `engine generate --queue` and `label --queue`: workers do the work, this process writes. */
export function queueExecutor(o: QueueExecutorOptions): Executor {
  return {
    backends: { segmenter: `queue workers (${o.address.shown})`, describer: null, llm: `queue workers (${o.address.shown})` },
    async run(task, jobs, handlers, signal) {
      async function* items(): AsyncGenerator<QueueItem<DatasetJobData, DatasetJobResult>> {
        for await (const job of jobs) {
          const image = await imageRef(job.entry.abs, job.entry.rel, job.identity.image_sha256, o.inlineMaxBytes);
          yield {
            jobId: datasetJobId(task, job.identity.image_sha256),
            data: { task, image, identity: job.identity },
            onDone: (result) => handlers.finished(job, rebindRecord(result.record, job.identity)),
            onFailed: (reason) => {
              const f = splitFailure(reason);
              return handlers.failed(job, f.stage, f.error);
            },
          };
        }
      }
      await collectThroughQueue(o.address, DATASET_QUEUE, items(), { ...o, signal });
    },
  };
}
