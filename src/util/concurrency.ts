/** Map with at most `limit` calls in flight; results keep the input order; the first failure rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The results of `start(0)` … `start(count - 1)`, in order, with up to `ahead` items started beyond the one
 * being taken: the work on the next items overlaps the caller's work on the current one. `start` should not
 * reject (return failures as values), so that nothing rejects unobserved when the caller stops early.
 */
export async function* inOrderAhead<T>(count: number, ahead: number, start: (index: number) => Promise<T>): AsyncGenerator<T> {
  const started: (Promise<T> | undefined)[] = [];
  const startUpTo = (n: number) => {
    while (started.length < Math.min(n, count)) started.push(start(started.length));
  };
  startUpTo(Math.max(1, ahead));
  for (let i = 0; i < count; i++) {
    const value = await started[i]!;
    started[i] = undefined;
    startUpTo(i + 1 + Math.max(1, ahead));
    yield value;
  }
}

/**
 * Work made ahead for `count` items that are sent `inFlight` at a time (a request body per region, say): at first
 * for twice as many items as are in flight, then for one more each time an item has been handed over (`sent`),
 * so that the next items are ready or in the works while the receiver is busy, and no making competes for the
 * cores with a send. `make` returns null for an item with nothing to send.
 */
export class MadeAhead<P> {
  private readonly made: (Promise<P> | null | undefined)[] = [];

  constructor(
    private readonly count: number,
    private readonly inFlight: number,
    private readonly make: (index: number) => Promise<P> | null,
  ) {
    this.upTo(2 * inFlight);
  }

  /** Item `index`'s work (made now if it was not yet); the list lets it go. */
  take(index: number): Promise<P> | null {
    this.upTo(index + 1);
    const work = this.made[index] ?? null;
    this.made[index] = undefined;
    return work;
  }

  /** Item `index` has been handed over: start one more. */
  sent(index: number): void {
    this.upTo(index + 1 + this.inFlight);
  }

  private upTo(n: number): void {
    while (this.made.length < Math.min(n, this.count)) {
      const work = this.make(this.made.length);
      work?.catch(() => {}); // observed by its taker; work never taken (after an earlier failure) is dropped
      this.made.push(work);
    }
  }
}
