/**
 * Progress of a batch run as numbers a person can act on: counts, the rate over the last minute and the time
 * left at that rate. Only work done in this run counts towards the rate: images finished before (resumed) do
 * not make a restarted run look fast.
 */
export interface BatchProgress {
  /** Images handled so far, including those finished before this run. */
  done: number;
  total: number;
  finished: number;
  failed: number;
  /** Finished before this run. */
  skipped: number;
  /** Failed too often in earlier runs: not tried. */
  parked: number;
  /** Images per second over the last minute of this run (0 until two images are done). */
  rate: number;
  /** Seconds left at that rate (undefined until there is a rate). */
  etaSeconds?: number;
  /** The image just handled and what happened to it. */
  last?: { image: string; outcome: "finished" | "failed"; error?: string };
}

const WINDOW_MS = 60_000;

export class RateMeter {
  private readonly stamps: number[] = [];
  private readonly started = performance.now();

  tick(now = performance.now()): void {
    this.stamps.push(now);
    while (now - this.stamps[0]! > WINDOW_MS) this.stamps.shift();
  }

  /** Events per second over the last minute (or since the start, when that is shorter). */
  rate(now = performance.now()): number {
    while (this.stamps.length && now - this.stamps[0]! > WINDOW_MS) this.stamps.shift();
    const span = now - Math.max(this.started, now - WINDOW_MS);
    return span > 0 ? (this.stamps.length * 1000) / span : 0;
  }
}

export class ProgressTracker {
  readonly meter = new RateMeter();
  readonly state: BatchProgress;

  constructor(total: number, skipped: number, parked: number) {
    this.state = { done: skipped + parked, total, finished: 0, failed: 0, skipped, parked, rate: 0 };
  }

  record(image: string, outcome: "finished" | "failed", error?: string): BatchProgress {
    this.meter.tick();
    if (outcome === "finished") this.state.finished++;
    else this.state.failed++;
    this.state.done++;
    this.state.last = { image, outcome, ...(error && { error }) };
    return this.snapshot();
  }

  snapshot(): BatchProgress {
    const left = this.state.total - this.state.done;
    const rate = this.meter.rate();
    return { ...this.state, rate, ...(left > 0 && rate > 0 && { etaSeconds: left / rate }) };
  }
}
