/**
 * Region PNGs off the main thread, on every core: one worker per core (shared by every DAM describer of the
 * process, started on first use) holds the image's filtered rows, the shared blocks and their base64 in shared
 * memory and turns each region into its complete request body. The main thread only schedules and sends, so
 * encoding the next regions overlaps the requests in flight. Without the compiled worker script (running from
 * TypeScript sources) or on one core, the same code runs on the main thread.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { GearSegError } from "../../util/errors.js";
import { BLOCK_ROWS, blockCount, prepareRegionPng, type RegionPngBase } from "./region-png.js";
import { regionRequestBody, sharedBase64 } from "./region-body.js";

export type WorkerRequest =
  | { type: "blocks"; id: number; rgb: SharedArrayBuffer; filtered: SharedArrayBuffer; width: number; height: number; level: number; blockRows: number; from: number; to: number }
  | { type: "base"; key: number; base: RegionPngBase; base64: Uint8Array[] }
  | { type: "encode"; id: number; key: number; width: number; height: number; counts: Uint32Array; head: string; tail: string }
  | { type: "release"; key: number };

export type WorkerReply =
  | { type: "blocks"; id: number; chunks: Uint8Array; starts: Float64Array; adler: Float64Array }
  | { type: "body"; id: number; body: Uint8Array }
  | { type: "error"; id: number; message: string };

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (err: Error) => void;
  worker: number;
}

class PngWorkers {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly dead: boolean[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(script: string, threads: number) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(script);
      w.unref(); // referenced only while it has work (see call), so an idle pool never keeps the process alive
      w.on("message", (reply: WorkerReply) => this.settle(reply));
      w.on("error", (err) => this.fail(i, err));
      w.on("exit", (code) => this.fail(i, new Error(`exited with code ${code}`)));
      this.workers.push(w);
      this.busy.push(0);
      this.dead.push(false);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends a request with an id to worker `i` (or the least busy) and resolves with its reply. */
  call(request: WorkerRequest & { id: number }, transfer: ArrayBuffer[] = [], i = this.leastBusy()): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      if (this.dead[i]) return reject(new GearSegError("region PNG worker: it has stopped"));
      this.pending.set(request.id, { resolve, reject, worker: i });
      if (this.busy[i]!++ === 0) this.workers[i]!.ref();
      this.workers[i]!.postMessage(request, transfer);
    });
  }

  broadcast(request: WorkerRequest): void {
    this.workers.forEach((w, i) => {
      if (!this.dead[i]) w.postMessage(request);
    });
  }

  id(): number {
    return this.nextId++;
  }

  private leastBusy(): number {
    let best = -1;
    for (let i = 0; i < this.busy.length; i++) if (!this.dead[i] && (best < 0 || this.busy[i]! < this.busy[best]!)) best = i;
    return best < 0 ? 0 : best;
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (--this.busy[p.worker]! === 0) this.workers[p.worker]!.unref();
    if (reply.type === "error") p.reject(new GearSegError(`region PNG worker: ${reply.message}`));
    else p.resolve(reply);
  }

  private fail(worker: number, err: Error): void {
    this.dead[worker] = true;
    if (this.dead.every(Boolean)) shared = undefined; // the next image starts a new pool
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new GearSegError(`region PNG worker: ${err.message}`));
    }
    this.busy[worker] = 0;
  }
}

let shared: PngWorkers | null | undefined;

/** The process's worker pool, or null when there is no compiled worker or a single core. */
function workers(): PngWorkers | null {
  if (shared === undefined) {
    const script = fileURLToPath(new URL("./png-worker.js", import.meta.url));
    const threads = availableParallelism();
    shared = existsSync(script) && threads > 1 ? new PngWorkers(script, threads) : null;
  }
  return shared;
}

let nextKey = 0;

/** Request bodies of the regions of one image; `close` frees what the workers hold for it. */
export class RegionBodyEncoder {
  private constructor(
    private readonly key: number,
    private readonly pool: PngWorkers | null,
    private readonly base: RegionPngBase | undefined,
    private readonly base64: Uint8Array[] | undefined,
  ) {}

  /** Prepares the image's shared blocks (split over the workers) for PNGs at zlib `level`. */
  static async open(image: RgbImage, level: number): Promise<RegionBodyEncoder> {
    const pool = workers();
    const key = nextKey++;
    if (!pool) {
      const base = prepareRegionPng(image.data, image.width, image.height, level);
      return new RegionBodyEncoder(key, null, base, sharedBase64(base.chunks));
    }
    const { width, height } = image;
    const rgb = new SharedArrayBuffer(image.data.length);
    new Uint8Array(rgb).set(image.data);
    // every row filtered once, by the workers in shares, into memory they all read
    const filtered = new SharedArrayBuffer(height * (1 + 4 * width));
    const blocks = blockCount(height);
    const shares = Math.min(pool.size, blocks);
    const parts = await Promise.all(
      Array.from({ length: shares }, (_, i) => {
        const from = Math.floor((i * blocks) / shares);
        const to = Math.floor(((i + 1) * blocks) / shares);
        return pool.call({ type: "blocks", id: pool.id(), rgb, filtered, width, height, level, blockRows: BLOCK_ROWS, from, to }, [], i);
      }),
    );
    // one shared table: every worker reads the same chunks
    let total = 0;
    for (const p of parts) if (p.type === "blocks") total += p.chunks.length;
    const chunks = new Uint8Array(new SharedArrayBuffer(total));
    const chunkStart = new Float64Array(new SharedArrayBuffer(8 * (blocks + 1)));
    const adler = new Float64Array(new SharedArrayBuffer(8 * blocks));
    let at = 0;
    let b = 0;
    for (const p of parts) {
      if (p.type !== "blocks") continue;
      chunks.set(p.chunks, at);
      for (let k = 0; k < p.adler.length; k++, b++) {
        chunkStart[b] = at + p.starts[k]!;
        adler[b] = p.adler[k]!;
      }
      at += p.chunks.length;
    }
    chunkStart[blocks] = at;
    const base: RegionPngBase = { width, height, level, blockRows: BLOCK_ROWS, chunks, chunkStart, adler, filtered: new Uint8Array(filtered) };
    const base64 = sharedBase64(chunks, (n) => new Uint8Array(new SharedArrayBuffer(n)));
    pool.broadcast({ type: "base", key, base, base64 });
    return new RegionBodyEncoder(key, pool, undefined, undefined);
  }

  /** Threads that encode: the worker pool's, or 1 (the main thread). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** The request body: `head`, the region's RGBA PNG as base64, `tail`. */
  async body(rle: Rle, head: string, tail: string): Promise<Uint8Array> {
    if (!this.pool) return regionRequestBody(this.base!, rle, head, tail, this.base64);
    const counts = rle.counts.slice();
    const reply = await this.pool.call(
      { type: "encode", id: this.pool.id(), key: this.key, width: rle.width, height: rle.height, counts, head, tail },
      [counts.buffer],
    );
    if (reply.type !== "body") throw new GearSegError("region PNG worker: unexpected reply");
    return reply.body;
  }

  close(): void {
    this.pool?.broadcast({ type: "release", key: this.key });
  }
}
