/**
 * Preparation on every core. The offline default's stages (the classic segmenter, the attributes describer)
 * are JavaScript on the thread that calls them: in one process they take turns on one
 * core, and a server's event loop stalls while they run. A pool of worker threads, each with a stack built from
 * the same specs and options as the main one, prepares whole images (decode, segment, describe, caption): the
 * agent's own `prepareLazily` runs in the worker, so the result is the in-process result.
 *
 * - The stage cache stays on the main thread: a worker's agent reaches it through messages (the StageCache port
 *   is asynchronous), so one process keeps one SQLite connection and a cache hit costs a worker no work.
 * - A worker takes one image at a time; images wait in order for the first free worker.
 * - Stage progress comes back as messages and is reported in the caller's async context (a server routes it to
 *   the image being prepared).
 * - A worker that dies (a crash, out of memory) fails the image it held with one line naming it, and is
 *   replaced; the other images go on. A worker that cannot start fails every image with its reason. There is
 *   no fallback to the main thread: a pool that was asked for has workers.
 */
import { AsyncResource } from "node:async_hooks";
import { Worker } from "node:worker_threads";
import { decodeImage, readImageFile } from "../image/decode.js";
import type { RgbImage } from "../image/types.js";
import type { AgentEvents, AgentStage, ImagePreparer, PreparedImage } from "../pipeline/agent.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import type { BackendKind } from "../pipeline/types.js";
import { onAbort } from "../util/abort.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { workerScript } from "../util/dist-files.js";
import type { BackendOptions, BackendSource } from "./registry.js";

/** The specs and options a worker builds its stack from (everything here crosses a thread: plain data). */
export interface WorkerStack {
  specs: { segmenter?: string; describer?: string; captioner?: string; detector?: string };
  backendOptions: Partial<Record<BackendKind, BackendOptions>>;
  sources: Partial<Record<BackendKind, BackendSource>>;
  maxPixels?: number;
  maxRegions?: number;
  maxMasks?: number;
  duplicateOverlap?: number;
  stageTimeoutMs?: number;
  /** Whether the agents use the (main thread's) stage cache. */
  cache: boolean;
  /** The main stack's stage fingerprints: a worker whose stack differs refuses to start. */
  fingerprints: StageFingerprints;
}

export interface StageFingerprints {
  segmenter: string;
  describer: string | null;
  captioner: string | null;
}

/** A thrown value as it crosses a thread: enough to throw the same one-line error again. */
export interface ErrorData {
  name: string;
  message: string;
  exitCode?: number;
}

/** What a worker sends back: the prepared image without its pixel loader. */
export type PreparedData = Omit<PreparedImage, "loadImage">;

export type ToWorker =
  | { type: "prepare"; id: number; input: string | RgbImage }
  | { type: "abort"; id: number }
  | { type: "cache-reply"; call: number; value?: unknown; error?: ErrorData };

export type FromWorker =
  | { type: "ready" }
  | { type: "start-failed"; error: ErrorData }
  | { type: "stage"; id: number; stage: AgentStage; done: number; total: number }
  | { type: "notice"; message: string }
  | { type: "cache"; call: number; method: CacheMethod; args: unknown[] }
  | { type: "prepared"; id: number; prepared: PreparedData }
  | { type: "failed"; id: number; error: ErrorData };

export const CACHE_METHODS = ["getImage", "putImage", "getRegions", "putRegions", "getDescriptions", "putDescriptions", "getCaption", "putCaption"] as const;
export type CacheMethod = (typeof CACHE_METHODS)[number];

export function errorData(err: unknown): ErrorData {
  if (err instanceof Error) {
    return { name: err.name, message: err.message.split("\n")[0] ?? "", ...(err instanceof GearSegError && { exitCode: err.exitCode }) };
  }
  return { name: "Error", message: String(err) };
}

export function errorFromData(e: ErrorData): Error {
  if (e.name === "UsageError") return new UsageError(e.message);
  if (e.name === "GearSegError" || e.exitCode !== undefined) return new GearSegError(e.message, { exitCode: e.exitCode });
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export interface PreparationPoolOptions {
  stack: WorkerStack;
  /** Worker threads (at least 1). */
  workers: number;
  /** The main thread's cache, which the workers' agents read and write through messages. */
  cache: StageCache | null;
  notice?: (message: string) => void;
  /** The compiled worker script (default: preparation-worker.js beside this module). */
  script?: string;
}

interface Job {
  id: number;
  input: string | RgbImage;
  /** The image as named in messages. */
  name: string;
  signal?: AbortSignal;
  onStage?: AgentEvents["onStage"];
  /** The caller's async context, for its progress callbacks. */
  scope: AsyncResource;
  resolve: (p: PreparedImage) => void;
  reject: (err: unknown) => void;
  /** Stops listening to `signal` (one listener per signal however many images share it: util/abort.ts). */
  unsubscribe?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  /** Images this worker prepared. */
  done: number;
  /** Why it failed, from its "error" event, for the "exit" that follows. */
  error?: Error;
}

export interface PoolStats {
  /** Per worker: its thread id, whether it has started, whether it is preparing, images prepared. */
  workers: { threadId: number; ready: boolean; busy: boolean; done: number }[];
  queued: number;
  /** Workers that died and were replaced. */
  replaced: number;
}

export class PreparationPool implements ImagePreparer {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly script: string;
  private nextId = 0;
  private replaced = 0;
  private closed = false;
  /** Set when a worker could not build its stack: every image fails with it. */
  private broken: Error | null = null;

  constructor(private readonly o: PreparationPoolOptions) {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new UsageError(`preparation workers must be a whole number ≥ 1, got ${o.workers}`);
    this.size = o.workers;
    this.script = o.script ?? workerScript("stack/preparation-worker.js");
    for (let i = 0; i < o.workers; i++) this.slots.push(this.spawn());
  }

  prepare(input: string | RgbImage, options: { signal?: AbortSignal; onStage?: AgentEvents["onStage"] } = {}): Promise<PreparedImage> {
    const name = typeof input === "string" ? input : (input.source ?? "(image)");
    return new Promise<PreparedImage>((resolve, reject) => {
      if (this.closed) return reject(new GearSegError(`cannot prepare "${name}": the preparation workers are closed`));
      if (this.broken) return reject(this.broken);
      if (options.signal?.aborted) return reject(options.signal.reason);
      const job: Job = { id: this.nextId++, input, name, signal: options.signal, onStage: options.onStage, scope: new AsyncResource("gear-seg.prepare"), resolve, reject };
      if (job.signal) job.unsubscribe = onAbort(job.signal, () => this.abort(job));
      this.queue.push(job);
      this.dispatch();
    });
  }

  stats(): PoolStats {
    return {
      workers: this.slots.map((s) => ({ threadId: s.worker.threadId, ready: s.ready, busy: s.job !== null, done: s.done })),
      queued: this.queue.length,
      replaced: this.replaced,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = new GearSegError("the preparation workers were closed");
    for (const job of this.queue.splice(0)) this.settle(job, reason);
    for (const slot of this.slots) if (slot.job) this.settle(slot.job, reason);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const { stack } = this.o;
    const worker = new Worker(this.script, { workerData: stack, stdout: false, stderr: false });
    // Referenced only while it prepares an image: an idle pool never keeps the process alive.
    worker.unref();
    const slot: Slot = { worker, ready: false, job: null, done: 0 };
    worker.on("message", (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on("error", (err) => {
      slot.error = err;
    });
    worker.on("exit", (code) => this.onExit(slot, code));
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case "ready":
        slot.ready = true;
        this.dispatch();
        return;
      case "start-failed":
        this.fail(errorFromData({ ...msg.error, message: `preparation worker: cannot build its stack: ${msg.error.message}` }));
        return;
      case "notice":
        this.o.notice?.(msg.message);
        return;
      case "cache":
        void this.serveCache(slot, msg.call, msg.method, msg.args);
        return;
      case "stage": {
        const job = slot.job;
        if (job?.id === msg.id && job.onStage) job.scope.runInAsyncScope(job.onStage, null, msg.stage, msg.done, msg.total);
        return;
      }
      case "prepared":
      case "failed": {
        const job = slot.job;
        if (job?.id !== msg.id) return;
        slot.job = null;
        slot.worker.unref();
        if (msg.type === "prepared") {
          slot.done++;
          this.settle(job, undefined, { ...msg.prepared, loadImage: this.loader(job.input) });
        } else {
          // Aborted by the caller: the caller's reason, as in-process.
          this.settle(job, job.signal?.aborted ? job.signal.reason : errorFromData(msg.error));
        }
        this.dispatch();
        return;
      }
    }
  }

  private async serveCache(slot: Slot, call: number, method: CacheMethod, args: unknown[]): Promise<void> {
    let reply: ToWorker;
    try {
      const cache = this.o.cache;
      if (!cache || !CACHE_METHODS.includes(method)) throw new GearSegError(`preparation worker: no cache method ${method}`);
      const value = await (cache[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      reply = { type: "cache-reply", call, value };
    } catch (err) {
      reply = { type: "cache-reply", call, error: errorData(err) };
    }
    // A worker that died meanwhile needs no answer.
    if (this.slots.includes(slot)) slot.worker.postMessage(reply);
  }

  private onExit(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    const reason = slot.error ? slot.error.message.split("\n")[0] : `exited with code ${code}`;
    const job = slot.job;
    if (!slot.ready) {
      // It never started: a replacement would fail the same way.
      if (!this.broken) this.fail(new GearSegError(`preparation worker could not start: ${reason}`));
      return;
    }
    this.replaced++;
    this.slots[i] = this.spawn();
    if (job) this.settle(job, new GearSegError(`"${job.name}": the preparation worker died while preparing it (${reason})`));
    this.dispatch();
  }

  /** Every waiting and future image fails with `err` (images on workers that did start finish). */
  private fail(err: Error): void {
    this.broken = err;
    for (const job of this.queue.splice(0)) this.settle(job, err);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      // A worker takes images once its stack is built: a death before that is a failure to start.
      if (slot.job || !slot.ready) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      const input = typeof job.input === "string" ? job.input : copyImage(job.input);
      const msg: ToWorker = { type: "prepare", id: job.id, input };
      slot.worker.postMessage(msg, typeof input === "string" ? [] : [input.data.buffer as ArrayBuffer]);
    }
  }

  private abort(job: Job): void {
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) {
      this.queue.splice(waiting, 1);
      this.settle(job, job.signal!.reason);
      return;
    }
    // Running: the worker's agent stops at its next check and answers "failed".
    const slot = this.slots.find((s) => s.job === job);
    slot?.worker.postMessage({ type: "abort", id: job.id } satisfies ToWorker);
  }

  private settle(job: Job, err: unknown, prepared?: PreparedImage): void {
    job.unsubscribe?.();
    job.scope.emitDestroy();
    if (prepared) job.resolve(prepared);
    else job.reject(err);
  }

  /** The pixels on demand, on this thread: the given image, or the file decoded once (as the agent does). */
  private loader(input: string | RgbImage): () => Promise<RgbImage> {
    if (typeof input !== "string") return async () => input;
    let decoded: Promise<RgbImage> | undefined;
    const maxPixels = this.o.stack.maxPixels;
    return () => (decoded ??= readImageFile(input).then((bytes) => decodeImage(bytes, input, { maxPixels })));
  }
}

/** The pixels in a buffer of their own, to be transferred (the caller keeps its image). */
function copyImage(image: RgbImage): RgbImage {
  return { width: image.width, height: image.height, data: new Uint8Array(image.data), ...(image.source !== undefined && { source: image.source }) };
}
