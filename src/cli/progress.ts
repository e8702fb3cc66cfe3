/**
 * Progress on stderr for long steps: one redrawn line with a bar, counts, elapsed time and ETA. Silent when
 * stderr is not a terminal or with --quiet, so logs and pipes stay clean. A run over many items keeps an
 * overall bar (items, ETA) and shows the current item's stage after it.
 */
interface Bar {
  label: string;
  done: number;
  total: number;
  started: number;
  /** Items that took no time (resumed): left out of the rate. */
  skipped: number;
  /** Items per second measured by the caller (e.g. over the last minute, across queue workers). */
  rate?: number;
}

export class Progress {
  private stage?: Bar;
  private overall?: Bar;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    readonly enabled: boolean,
  ) {}

  static forStderr(quiet: boolean): Progress {
    return new Progress(process.stderr, !quiet && process.stderr.isTTY === true);
  }

  /** The current step: `done` of `total` units. */
  update(label: string, done: number, total: number): void {
    if (!this.enabled) return;
    this.stage = advance(this.stage, label, done, total, 0);
    this.draw(done >= total);
  }

  /** The whole run: `done` of `total` items, of which `skipped` took no time; `rate` (items per second, when
   * the caller measures it) is shown and gives the ETA. */
  updateOverall(label: string, done: number, total: number, skipped = 0, rate?: number): void {
    if (!this.enabled) return;
    this.overall = { ...advance(this.overall, label, done, total, skipped), rate };
    this.stage = undefined;
    this.draw(true);
  }

  /** Clear the line (before printing anything else). */
  clear(): void {
    if (this.enabled && this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
    if (!this.overall) this.stage = undefined;
  }

  /** Forget the overall bar (the run is over). */
  finish(): void {
    this.clear();
    this.overall = undefined;
    this.stage = undefined;
  }

  private draw(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const parts: string[] = [];
    if (this.overall) parts.push(formatBar(this.overall, now));
    if (this.stage) parts.push(this.overall ? `${this.stage.label} ${this.stage.done}/${this.stage.total}` : formatBar(this.stage, now));
    if (parts.length === 0) return;
    this.stream.write(`\r${parts.join(" · ").slice(0, (this.stream.columns || 100) - 1)}\x1b[K`);
    this.drawn = true;
  }
}

function advance(bar: Bar | undefined, label: string, done: number, total: number, skipped: number): Bar {
  if (!bar || bar.label !== label) return { label, done, total, started: performance.now(), skipped };
  return { ...bar, done, total, skipped };
}

function formatBar(bar: Bar, now: number): string {
  const width = 24;
  const frac = bar.total > 0 ? Math.min(1, bar.done / bar.total) : 0;
  const filled = Math.round(frac * width);
  const elapsed = (now - bar.started) / 1000;
  const worked = bar.done - bar.skipped;
  const left = bar.total - bar.done;
  let eta = worked > 0 && left > 0 ? ` ETA ${formatSeconds((elapsed / worked) * left)}` : "";
  if (bar.rate !== undefined) eta = `${bar.rate > 0 ? ` ${bar.rate < 1 ? `${(bar.rate * 60).toFixed(1)}/min` : `${bar.rate.toFixed(1)}/s`}` : ""}${bar.rate > 0 && left > 0 ? ` ETA ${formatSeconds(left / bar.rate)}` : ""}`;
  return `${bar.label.padEnd(10)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${bar.done}/${bar.total} ${formatSeconds(elapsed)}${eta}`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
