/**
 * A pool of equivalent endpoints (say, several DAM replicas) with a limit on requests in flight per endpoint.
 * `acquire` hands out the least-busy endpoint that has a free slot (ties: the one used least recently, so load
 * rotates), or waits, first come first served, until one frees up.
 */
import { onAbort } from "../util/abort.js";
import { GearSegError } from "../util/errors.js";

export interface Lease {
  readonly url: string;
  release(): void;
}

interface Slot {
  url: string;
  busy: number;
  lastUsed: number;
  /** Requests served, for stats and tests. */
  served: number;
}

export class EndpointPool {
  private readonly slots: Slot[];
  private readonly waiting: { resolve: (lease: Lease) => void; reject: (err: unknown) => void; unsubscribe?: () => void }[] = [];
  private tick = 0;

  constructor(
    urls: readonly string[],
    /** Requests in flight per endpoint. */
    readonly concurrency: number,
  ) {
    if (urls.length === 0) throw new GearSegError("endpoint pool: no endpoint given");
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new GearSegError(`endpoint pool: concurrency must be a positive integer, got ${concurrency}`);
    }
    this.slots = urls.map((url) => ({ url, busy: 0, lastUsed: 0, served: 0 }));
  }

  get urls(): string[] {
    return this.slots.map((s) => s.url);
  }

  /** Requests in flight and served, per endpoint. */
  stats(): { url: string; busy: number; served: number }[] {
    return this.slots.map(({ url, busy, served }) => ({ url, busy, served }));
  }

  acquire(signal?: AbortSignal): Promise<Lease> {
    signal?.throwIfAborted();
    const slot = this.pick();
    if (slot) return Promise.resolve(this.lease(slot));
    return new Promise<Lease>((resolve, reject) => {
      const waiter: (typeof this.waiting)[number] = { resolve, reject };
      // one listener on a signal however many calls wait on it (util/abort.ts)
      if (signal) {
        waiter.unsubscribe = onAbort(signal, () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal.reason);
        });
      }
      this.waiting.push(waiter);
    });
  }

  private pick(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.busy >= this.concurrency) continue;
      if (!best || s.busy < best.busy || (s.busy === best.busy && s.lastUsed < best.lastUsed)) best = s;
    }
    return best;
  }

  private lease(slot: Slot): Lease {
    slot.busy++;
    slot.served++;
    slot.lastUsed = ++this.tick;
    let released = false;
    return {
      url: slot.url,
      release: () => {
        if (released) return;
        released = true;
        slot.busy--;
        this.wake();
      },
    };
  }

  private wake(): void {
    while (this.waiting.length > 0) {
      const slot = this.pick();
      if (!slot) return;
      const waiter = this.waiting.shift()!;
      waiter.unsubscribe?.();
      waiter.resolve(this.lease(slot));
    }
  }
}
