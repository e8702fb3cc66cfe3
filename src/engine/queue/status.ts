/** `gear-seg queue status|retry-failed|drain`: what the queues hold, who works on them, what failed and why. */
import { Queue } from "bullmq";
import { connectRedis, type QueueAddress } from "./connection.js";
import { QUEUE_NAMES, splitFailure } from "./jobs.js";

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface QueueStatus {
  queue: string;
  counts: QueueCounts;
  /** Jobs finished per minute, averaged over the last five minutes (workers record it). */
  perMinute: number;
  workers: { name: string; address: string; idleSeconds: number }[];
  failures: { job: string; image: string; stage: string; error: string }[];
}

async function withQueues<T>(address: QueueAddress, fn: (queue: Queue) => Promise<T>, onError?: (m: string) => void): Promise<T[]> {
  const connection = connectRedis(address, onError);
  try {
    const out: T[] = [];
    for (const name of QUEUE_NAMES) {
      const queue = new Queue(name, { connection });
      try {
        out.push(await fn(queue));
      } finally {
        await queue.close();
      }
    }
    return out;
  } finally {
    connection.disconnect();
  }
}

export async function queueStatus(address: QueueAddress, options: { failures?: number; onError?: (m: string) => void } = {}): Promise<QueueStatus[]> {
  return withQueues(
    address,
    async (queue) => {
      const c = await queue.getJobCounts("waiting", "active", "delayed", "completed", "failed");
      const metrics = await queue.getMetrics("completed", 0, 4).catch(() => ({ data: [] as number[] }));
      const points = metrics.data.slice(0, 5);
      const workers = (await queue.getWorkers()).map((w) => ({ name: String(w.name ?? ""), address: String(w.addr ?? ""), idleSeconds: Number(w.idle ?? 0) }));
      const failed = await queue.getFailed(0, (options.failures ?? 20) - 1);
      return {
        queue: queue.name,
        counts: { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 },
        perMinute: points.length ? points.reduce((a, b) => a + b, 0) / points.length : 0,
        workers,
        failures: failed.map((j) => {
          const f = splitFailure(j.failedReason);
          const data = j.data as { image?: { rel?: string } };
          return { job: String(j.id), image: data.image?.rel ?? "", stage: f.stage, error: f.error };
        }),
      };
    },
    options.onError,
  );
}

/** Moves every failed job back to waiting; returns how many there were. */
export async function retryFailedJobs(address: QueueAddress): Promise<number> {
  const n = await withQueues(address, async (queue) => {
    const failed = await queue.getFailedCount();
    if (failed) await queue.retryJobs({ state: "failed" });
    return failed;
  });
  return n.reduce((a, b) => a + b, 0);
}

/** Removes every waiting and delayed job (running ones finish); returns how many were waiting. */
export async function drainQueues(address: QueueAddress): Promise<number> {
  const n = await withQueues(address, async (queue) => {
    const c = await queue.getJobCounts("waiting", "delayed", "prioritized");
    await queue.drain(true);
    return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  });
  return n.reduce((a, b) => a + b, 0);
}
