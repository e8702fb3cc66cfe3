/**
 * A bounded work queue for the server's heavy work (preparing images, asking, prompting SAM 2): at most
 * `concurrency` jobs run, at most `maxQueued` wait; past that a job is refused at once with a `QueueFullError`
 * that says when to try again (the server's 429 + Retry-After). A job whose signal aborts while it waits leaves
 * the queue without running; a running job gets the abort through its own signal.
 */
export interface QueueLimits {
  /** Jobs that run at once. */
  concurrency: number;
  /** Jobs that may wait for a free slot; one more is refused. */
  maxQueued: number;
}

export interface QueueStats extends QueueLimits {
  running: number;
  queued: number;
  /** Jobs finished (done or failed) and refused since the start. */
  finished: number;
  refused: number;
}

/** The queue is full: try again in `retryAfterSeconds`. */
export class QueueFullError extends Error {
  constructor(
    readonly queue: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`the ${queue} queue is full; try again in ${retryAfterSeconds} s`);
    this.name = "QueueFullError";
  }
}

interface Waiting {
  start: () => void;
  abandon: (reason: unknown) => void;
}

/** How many recent durations the Retry-After estimate averages. */
const RECENT = 16;

export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private readonly controllers = new Set<AbortController>();
  private readonly recentMs: number[] = [];
  private finished = 0;
  private refused = 0;
  private closed = false;

  constructor(
    readonly name: string,
    readonly limits: QueueLimits,
  ) {
    if (!Number.isInteger(limits.concurrency) || limits.concurrency < 1) throw new RangeError(`${name} queue: concurrency must be an integer ≥ 1`);
    if (!Number.isInteger(limits.maxQueued) || limits.maxQueued < 0) throw new RangeError(`${name} queue: maxQueued must be an integer ≥ 0`);
  }

  /** True when a job submitted now would be refused. */
  get full(): boolean {
    return this.closed || (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.maxQueued);
  }

  /**
   * Runs `job` when a slot is free. Throws `QueueFullError` synchronously when the queue is full, so a caller
   * can refuse a request before it accepts any work. `signal` cancels the job: while it waits it is removed,
   * while it runs the job's own signal aborts.
   */
  submit<T>(job: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.assertRoom();
    signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal!.reason);
      const run = () => {
        this.running++;
        this.controllers.add(controller);
        const started = performance.now();
        Promise.resolve()
          .then(() => {
            controller.signal.throwIfAborted();
            return job(controller.signal);
          })
          .then(resolve, reject)
          .finally(() => {
            signal?.removeEventListener("abort", onAbort);
            this.running--;
            this.controllers.delete(controller);
            this.finished++;
            this.recentMs.push(performance.now() - started);
            if (this.recentMs.length > RECENT) this.recentMs.shift();
            this.next();
          });
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (this.running < this.limits.concurrency) {
        run();
        return;
      }
      const entry: Waiting = {
        start: run,
        abandon: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      this.waiting.push(entry);
      controller.signal.addEventListener(
        "abort",
        () => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) {
            this.waiting.splice(i, 1);
            entry.abandon(controller.signal.reason);
          }
        },
        { once: true },
      );
    });
  }

  /** Throws `QueueFullError` when a job submitted now would be refused (and counts the refusal). */
  assertRoom(): void {
    if (!this.full) return;
    this.refused++;
    throw new QueueFullError(this.name, this.retryAfterSeconds());
  }

  /** Seconds until a slot is likely free: the mean recent job time × the jobs ahead ÷ the slots (at least 1). */
  retryAfterSeconds(): number {
    const mean = this.recentMs.length ? this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length : 1000;
    const ahead = this.waiting.length + 1;
    return Math.max(1, Math.ceil((mean * ahead) / this.limits.concurrency / 1000));
  }

  stats(): QueueStats {
    return { ...this.limits, running: this.running, queued: this.waiting.length, finished: this.finished, refused: this.refused };
  }

  /** Refuses new jobs, drops the waiting ones and aborts the running ones; resolves when none runs. */
  async close(reason: unknown = new DOMException("the server is shutting down", "AbortError")): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.abandon(reason);
    for (const c of this.controllers) c.abort(reason);
    while (this.running > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private next(): void {
    while (this.running < this.limits.concurrency && this.waiting.length > 0) this.waiting.shift()!.start();
  }
}
