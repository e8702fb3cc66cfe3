/**
 * Post-processing on all cores. Only the masks that pass the predicted-IoU filter cost anything, and they cost
 * unequal amounts (a mask that cannot reach the stability threshold stops early), so they are shared out as
 * the work goes: the main thread takes them from the front, in place in the decoder's output; the workers take
 * them from the back, from copies that the main thread writes into shared memory a few masks ahead of them.
 * Only the planes the workers reach are copied, and into a buffer that is reused from batch to batch (fresh
 * pages are costly). Who processes a mask is settled by one atomic compare-and-swap per mask, so each is
 * processed exactly once, and the candidates are put back in mask order: the result is exactly the
 * single-threaded one. With one core everything runs on the main thread; a missing compiled worker script
 * (dist/segmenters/sam2/worker.js) is an error.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { workerScript } from "../../util/dist-files.js";
import { GearSegError } from "../../util/errors.js";
import type { BatchProcessor } from "./generator.js";
import type { AmgParams } from "./params.js";
import { BatchPostprocessor, passesIou, type BatchFrame, type Candidate, type DecodedBatch } from "./postprocess.js";
import { CLAIMED_BY_MAIN, CLOSED, COPIED, TAKEN_FROM_BACK, type SharedArea, type WorkReply, type WorkRequest } from "./worker.js";

interface Pending {
  worker: Worker;
  resolve: (r: WorkReply) => void;
  reject: (e: Error) => void;
}

/** Planes copied ahead of the workers' claims, per worker. */
const LEAD_PER_WORKER = 4;

export class ParallelBatchPostprocessor implements BatchProcessor {
  private readonly main = new BatchPostprocessor();
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** IoU-passing masks processed so far: by the main thread, and by the workers (all of them). */
  readonly taken = { main: 0, workers: 0 };
  private area: SharedArea | null = null;
  private planes: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private claims: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private control: Int32Array<ArrayBufferLike> = new Int32Array(0);

  /** `threads`: total threads including the main one (default: available cores). */
  constructor(threads = availableParallelism()) {
    if (threads <= 1) return;
    // A missing script is an error (a build without it), not a quiet single-threaded pool.
    const script = workerScript("segmenters/sam2/worker.js");
    for (let i = 1; i < threads; i++) {
      const w = new Worker(script);
      w.unref();
      w.on("message", (msg: WorkReply) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new GearSegError(`SAM 2 post-processing worker: ${msg.error}`));
        else p.resolve(msg);
      });
      w.on("error", (err) => {
        // A dead worker takes no more jobs; the batch it was on fails.
        const at = this.workers.indexOf(w);
        if (at >= 0) this.workers.splice(at, 1);
        for (const [id, p] of this.pending) {
          if (p.worker !== w) continue;
          this.pending.delete(id);
          p.reject(err);
        }
      });
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** The shared buffers, grown to hold `masks` planes of `plane` values (sent to the workers with the job). */
  private ensureArea(masks: number, plane: number): SharedArea | null {
    const a = this.area;
    if (a && a.claims.byteLength >= masks * 4 && a.planes.byteLength >= masks * plane * 4) return null;
    const next: SharedArea = {
      planes: new SharedArrayBuffer(masks * plane * 4),
      claims: new SharedArrayBuffer(masks * 4),
      control: a?.control ?? new SharedArrayBuffer(2 * 4),
    };
    this.area = next;
    this.planes = new Float32Array(next.planes);
    this.claims = new Int32Array(next.claims);
    this.control = new Int32Array(next.control);
    return next;
  }

  async process(batch: DecodedBatch, points: ArrayLike<number>, frame: BatchFrame, params: AmgParams): Promise<Candidate[]> {
    const { lowRes, lowH, lowW, iou, masksPerPrompt } = batch;
    const passing: number[] = [];
    for (let m = 0; m < iou.length; m++) if (passesIou(iou[m]!, params)) passing.push(m);
    const n = passing.length;
    if (this.workers.length === 0 || n < 2) return this.main.process(batch, points, frame, params);
    const plane = lowH * lowW;
    // Room for every mask of the batch (pages are only touched when written), so that later batches with more
    // passing masks do not need fresh buffers.
    const newArea = this.ensureArea(iou.length, plane);
    const { planes, claims, control } = this;
    claims.fill(0, 0, n);
    Atomics.store(control, COPIED, 0);
    Atomics.store(control, TAKEN_FROM_BACK, 0);
    // The masks in passing order: IoU and prompt point.
    const passIou = new Float32Array(n);
    const passPoints = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) {
      const m = passing[j]!;
      const prompt = Math.floor(m / masksPerPrompt);
      passIou[j] = iou[m]!;
      passPoints[2 * j] = points[2 * prompt]!;
      passPoints[2 * j + 1] = points[2 * prompt + 1]!;
    }
    const replies = this.workers.map((w) => {
      const id = this.nextId++;
      const req: WorkRequest = { id, area: newArea ?? undefined, count: n, lowH, lowW, iou: passIou, points: passPoints, frame, params };
      return new Promise<WorkReply>((resolve, reject) => {
        this.pending.set(id, { worker: w, resolve, reject });
        w.postMessage(req);
      });
    });
    // Slot k of the shared planes holds the mask n − 1 − k (the workers' order).
    let copied = 0;
    const lead = LEAD_PER_WORKER * this.workers.length;
    const mine: Candidate[] = [];
    let i = 0;
    let failed = false;
    let failure: unknown;
    try {
      for (; i < n; i++) {
        if (Atomics.compareExchange(claims, i, 0, CLAIMED_BY_MAIN) !== 0) break;
        // Keep the workers `lead` planes ahead, never copying a mask this thread has reached.
        const want = Math.min(n - 1 - i, Atomics.load(control, TAKEN_FROM_BACK) + lead);
        if (want > copied) {
          for (; copied < want; copied++) {
            const m = passing[n - 1 - copied]!;
            planes.set(lowRes.subarray(m * plane, (m + 1) * plane), copied * plane);
          }
          Atomics.store(control, COPIED, copied);
          Atomics.notify(control, COPIED);
        }
        const c = this.main.processMask(lowRes, passing[i]! * plane, lowH, lowW, frame, params, passIou[i]!, passPoints[2 * i]!, passPoints[2 * i + 1]!);
        if (c) mine.push(c);
      }
    } catch (err) {
      failed = true;
      failure = err;
    }
    // No more copies: a worker waiting for one stops (the masks it would reach are this thread's).
    Atomics.or(control, COPIED, CLOSED);
    Atomics.notify(control, COPIED);
    // Every worker finishes this batch before the shared buffers are used again, even when one failed.
    const settled = await Promise.allSettled(replies);
    if (failed) throw failure;
    const rest: WorkReply[] = [];
    for (const r of settled) {
      if (r.status === "rejected") throw r.reason;
      rest.push(r.value);
    }
    this.taken.main += i;
    this.taken.workers += n - i;
    // The workers' candidates, by position in passing order (each worker's are in descending order).
    const theirs: { at: number; c: Candidate }[] = [];
    for (const r of rest) r.candidates!.forEach((c, k) => theirs.push({ at: r.positions![k]!, c }));
    theirs.sort((a, b) => a.at - b.at);
    for (const t of theirs) mine.push(t.c);
    return mine;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
