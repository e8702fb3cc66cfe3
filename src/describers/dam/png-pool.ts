/**
 * Region PNGs off the main thread, on every core: one worker per core (shared by every DAM describer of the
 * process, started on first use). The workers filter the image's rows into shared memory and compress and
 * base64 the shared blocks, each its share; then each region's own pieces (its rows recompressed, the PNG's
 * end) are made by one of them, as text. The main thread keeps the shared text and sends a body as views of
 * it around a region's pieces (region-body.ts), so that encoding the next regions overlaps the requests in
 * flight and nothing of the 2–3 MB per body is copied or moved between threads. Without the compiled worker
 * script (running from TypeScript sources) or on one core, the same code runs on the main thread.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { GearSegError } from "../../util/errors.js";
import { BLOCK_ROWS, blockCount, prepareRegionPng, sharedLevel, type RegionRows } from "./region-png.js";
import { bodyPieces, bodyPrefix, joinShares, regionText, sharedText, textShare, type RegionText, type SharedText, type TextShare } from "./region-body.js";

export type WorkerRequest =
  | {
      /** Take shares of the shared text (counters[0]: the next share; counters[1]: workers that have begun). */
      type: "blocks";
      id: number;
      rgb: SharedArrayBuffer;
      filtered: SharedArrayBuffer;
      width: number;
      height: number;
      blockRows: number;
      level: number;
      shares: number;
      counters: Int32Array;
    }
  | { type: "base"; key: number; rows: RegionRows }
  | { type: "encode"; id: number; key: number; width: number; height: number; counts: Uint32Array }
  | { type: "release"; key: number };

export type WorkerReply =
  | { type: "blocks"; id: number; done: TextShare[] }
  | ({ type: "region"; id: number } & RegionText)
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

/**
 * Request bodies of the regions of one image; `close` frees what the workers hold for it. A region's own
 * pieces are made ahead (`encode`), its body is put together when it is sent (`body`).
 */
export class RegionBodyEncoder {
  private prefix: { head: string; bytes: Uint8Array } | undefined;

  private constructor(
    private readonly key: number,
    private readonly pool: PngWorkers | null,
    private readonly width: number,
    private readonly height: number,
    private readonly shared: SharedText,
    /** The rows, on the main thread when there is no pool. */
    private readonly rows: RegionRows | undefined,
  ) {}

  /** Prepares the image's shared blocks and their text (in shares, over the workers) for PNGs at zlib `level`. */
  static async open(image: RgbImage, level: number): Promise<RegionBodyEncoder> {
    const pool = workers();
    const key = nextKey++;
    const { width, height } = image;
    if (!pool) {
      const base = prepareRegionPng(image.data, width, height, level);
      return new RegionBodyEncoder(key, null, width, height, sharedText(base), base);
    }
    const rgb = new SharedArrayBuffer(image.data.length);
    new Uint8Array(rgb).set(image.data);
    // every row filtered once, by the workers in shares, into memory they all read
    const filtered = new SharedArrayBuffer(height * (1 + 4 * width));
    const blocks = blockCount(height);
    const shares = Math.min(blocks, 8 * (pool.size + 1));
    const counters = new Int32Array(new SharedArrayBuffer(8));
    const shared = sharedLevel(level);
    const request = { type: "blocks", rgb, filtered, width, height, blockRows: BLOCK_ROWS, level: shared, shares, counters } as const;
    const replies = Array.from({ length: pool.size }, (_, i) => pool.call({ ...request, id: pool.id() }, [], i));
    // While workers are starting (a new pool's take tens of milliseconds), this thread takes shares too.
    const mine: TextShare[] = [];
    const own = { width, height, blockRows: BLOCK_ROWS, filtered: new Uint8Array(filtered), rgb: image.data };
    while (Atomics.load(counters, 1) < pool.size) {
      const i = Atomics.add(counters, 0, 1);
      if (i >= shares) break;
      mine.push(textShare(i, shares, own, shared));
    }
    const done = (await Promise.all(replies)).flatMap((r) => (r.type === "blocks" ? r.done : []));
    const { text, start, adler } = joinShares([...mine, ...done], blocks);
    const rows: RegionRows = { width, height, level, blockRows: BLOCK_ROWS, adler, filtered: new Uint8Array(filtered) };
    pool.broadcast({ type: "base", key, rows });
    return new RegionBodyEncoder(key, pool, width, height, { text, start }, undefined);
  }

  /** Threads that encode: the worker pool's, or 1 (the main thread). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** The region's own pieces of its body, made on a worker (or on this thread without a pool). */
  async encode(rle: Rle): Promise<RegionText> {
    if (!this.pool) return regionText(this.rows!, rle);
    const counts = rle.counts.slice();
    const reply = await this.pool.call({ type: "encode", id: this.pool.id(), key: this.key, width: rle.width, height: rle.height, counts }, [counts.buffer]);
    if (reply.type !== "region") throw new GearSegError("region PNG worker: unexpected reply");
    return reply;
  }

  /**
   * The request body, in pieces to be sent one after the other: `head`, the region's RGBA PNG as base64,
   * `tail`. The shared pieces are views of the image's shared text.
   */
  body(own: RegionText, head: string, tail: string): Uint8Array[] {
    if (this.prefix?.head !== head) this.prefix = { head, bytes: bodyPrefix(head, this.width, this.height) };
    return bodyPieces(this.prefix.bytes, this.shared, own, Buffer.from(tail, "utf8"));
  }

  close(): void {
    this.pool?.broadcast({ type: "release", key: this.key });
  }
}
