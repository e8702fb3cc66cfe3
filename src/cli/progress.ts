/**
 * Progress on stderr for long steps: one redrawn line with a bar, counts, elapsed time and ETA. Silent when
 * stderr is not a terminal or with --quiet, so logs and pipes stay clean.
 */
export class Progress {
  private label = "";
  private started = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    readonly enabled: boolean,
  ) {}

  static forStderr(quiet: boolean): Progress {
    return new Progress(process.stderr, !quiet && process.stderr.isTTY === true);
  }

  /** `measured`: a rate and time left computed by the caller (e.g. over work done in this run only, or across
   * queue workers); without it the ETA is extrapolated from this bar's elapsed time. */
  update(label: string, done: number, total: number, measured?: { rate?: number; etaSeconds?: number }): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (label !== this.label) {
      this.label = label;
      this.started = now;
    } else if (done < total && now - this.lastDraw < 80) {
      return;
    }
    this.lastDraw = now;
    const width = 24;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.started) / 1000;
    let eta = done > 0 && done < total ? ` ETA ${formatSeconds((elapsed / done) * (total - done))}` : "";
    if (measured) eta = `${measured.rate ? ` ${measured.rate < 1 ? `${(measured.rate * 60).toFixed(1)}/min` : `${measured.rate.toFixed(1)}/s`}` : ""}${measured.etaSeconds !== undefined && done < total ? ` ETA ${formatSeconds(measured.etaSeconds)}` : ""}`;
    const line = `${label.padEnd(10)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${formatSeconds(elapsed)}${eta}`;
    this.stream.write(`\r${line.slice(0, (this.stream.columns || 100) - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Clear the line (before printing anything else). */
  clear(): void {
    if (this.enabled && this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
    this.label = "";
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}
