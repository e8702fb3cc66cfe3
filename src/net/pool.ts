/**
 * A pool of equivalent endpoints (say, several DAM replicas) with a limit on requests in flight per endpoint.
 * `acquire` hands out the least-busy endpoint that has a free slot (ties: the one used least recently, so load
 * rotates), or waits, first come first served, until one frees up.
 */
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
  private readonly waiting: { resolve: (lease: Lease) => void; reject: (err: unknown) => void; signal?: AbortSignal }[] = [];
  /**
   * One abort listener per signal, however many waiters share it: a listener each went over Node's limit of ten
   * per signal (a MaxListenersExceededWarning on stderr) once a run queued more calls than the endpoints take.
   */
  private readonly watched = new Map<AbortSignal, { waiters: number; listener: () => void }>();
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
      this.waiting.push({ resolve, reject, signal });
      if (signal) this.watch(signal);
    });
  }

  private watch(signal: AbortSignal): void {
    const entry = this.watched.get(signal);
    if (entry) {
      entry.waiters++;
      return;
    }
    const listener = () => {
      this.watched.delete(signal);
      // every waiter of this signal fails; the others keep their places
      for (let i = this.waiting.length - 1; i >= 0; i--) {
        const waiter = this.waiting[i]!;
        if (waiter.signal !== signal) continue;
        this.waiting.splice(i, 1);
        waiter.reject(signal.reason);
      }
    };
    this.watched.set(signal, { waiters: 1, listener });
    signal.addEventListener("abort", listener, { once: true });
  }

  private unwatch(signal: AbortSignal): void {
    const entry = this.watched.get(signal);
    if (!entry || --entry.waiters > 0) return;
    signal.removeEventListener("abort", entry.listener);
    this.watched.delete(signal);
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
      if (waiter.signal) this.unwatch(waiter.signal);
      waiter.resolve(this.lease(slot));
    }
  }
}
