/**
 * File writes of one export started without waiting for each, at most `limit` at once: an export of 150,000
 * items writes a few hundred thousand small files, and one at a time it spends most of its time waiting on
 * each call. The files are independent (each write makes its own file), so only the bound and the first
 * failure matter; the export's streamed files (COCO, LISA's list) stay in order because they are not written
 * here.
 */
export class WriteWindow {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit = 16) {}

  /** Starts `write`, waiting first while `limit` writes run; throws the first failure of an earlier write. */
  async add(write: () => Promise<unknown>): Promise<void> {
    this.throwFailure();
    while (this.running.size >= this.limit) {
      await Promise.race(this.running);
      this.throwFailure();
    }
    const done: Promise<void> = write()
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Waits for every write started; throws the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    this.throwFailure();
  }

  /** Waits for every write started, failed or not (before a failed export's folder is removed). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
