/**
 * What travels through the queue. Two queues: dataset jobs (one image: prepare, one LLM call → its record)
 * and evaluation jobs (one image: prepare, then each query → its result). A worker without an LLM serves only
 * the second. A job id is derived from the image content and the configuration of the work, so enqueueing
 * the same work twice (a rerun, a second collector) never duplicates it.
 */
import { createHash } from "node:crypto";
import type { ImageRecord } from "../../datasets/gear-seg.js";
import type { ResultJson } from "../../pipeline/result.js";
import type { DatasetTask, ImageIdentity, TaskBackends } from "../tasks.js";
import { taskFingerprint } from "../tasks.js";

export const DATASET_QUEUE = "gear-seg-dataset";
export const EVAL_QUEUE = "gear-seg-eval";
export const QUEUE_NAMES = [DATASET_QUEUE, EVAL_QUEUE] as const;

/** An image as a job carries it: a path workers can read (shared storage), and its bytes when small. */
export interface ImageRef {
  /** Absolute path on the collector's machine (workers use it when no bytes are inline). */
  path: string;
  /** Relative path in its folder (per-image specs such as masks:<dir>/{stem} read the name from it). */
  rel: string;
  sha256: string;
  /** base64 of the file, when it was small enough to travel inside the job. */
  bytes?: string;
}

export interface DatasetJobData {
  task: DatasetTask;
  image: ImageRef;
  identity: ImageIdentity;
}

export interface DatasetJobResult {
  record: ImageRecord;
  backends: TaskBackends;
  worker: string;
}

export interface EvalQuery {
  id: string;
  query: string;
}

export interface EvalJobData {
  image: ImageRef;
  queries: EvalQuery[];
  mode: "reasoning" | "referring";
  /** The fingerprint the collector expects; a worker whose configuration differs refuses the job. */
  fingerprint?: string;
}

export interface EvalJobResult {
  results: ({ id: string; result: ResultJson } | { id: string; error: string })[];
  fingerprint: string;
  worker: string;
}

export function datasetJobId(task: DatasetTask, sha256: string): string {
  return `ds-${sha256.slice(0, 24)}-${taskFingerprint(task)}`;
}

export function evalJobId(sha256: string, queries: readonly EvalQuery[], mode: string): string {
  const q = createHash("sha256").update(JSON.stringify([mode, queries])).digest("hex").slice(0, 16);
  return `ev-${sha256.slice(0, 24)}-${q}`;
}

/** "<stage>: <reason>" → the two parts (the worker throws failures in that form). */
export function splitFailure(reason: string | undefined): { stage: string; error: string } {
  const m = /^(\w+): (.*)$/s.exec(reason ?? "");
  return m ? { stage: m[1]!, error: m[2]! } : { stage: "worker", error: reason || "failed without a reason" };
}
