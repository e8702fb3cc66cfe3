/**
 * Post-processing on all cores: each batch's masks are split into contiguous shares, the main thread works on
 * the first and worker threads on the others; the candidates are concatenated in mask order, so the result
 * is exactly the single-threaded one. Without the compiled worker (running from TypeScript sources) or with
 * one core, everything runs on the main thread.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { GearSegError } from "../../util/errors.js";
import type { BatchProcessor } from "./generator.js";
import type { AmgParams } from "./params.js";
import { BatchPostprocessor, type BatchFrame, type Candidate, type DecodedBatch } from "./postprocess.js";
import type { WorkRequest } from "./worker.js";

interface Pending {
  resolve: (c: Candidate[]) => void;
  reject: (e: Error) => void;
}

export class ParallelBatchPostprocessor implements BatchProcessor {
  private readonly main = new BatchPostprocessor();
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** `threads`: total threads including the main one (default: available cores). */
  constructor(threads = availableParallelism()) {
    const script = fileURLToPath(new URL("./worker.js", import.meta.url));
    if (!existsSync(script)) return;
    for (let i = 1; i < threads; i++) {
      const w = new Worker(script);
      w.unref();
      w.on("message", (msg: { id: number; candidates?: Candidate[]; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new GearSegError(`SAM 2 post-processing worker: ${msg.error}`));
        else p.resolve(msg.candidates!);
      });
      w.on("error", (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  async process(batch: DecodedBatch, points: ArrayLike<number>, frame: BatchFrame, params: AmgParams): Promise<Candidate[]> {
    const n = batch.iou.length;
    // Only masks that pass the predicted-IoU filter cost anything: share those evenly. The main thread keeps
    // the first share in place; each worker gets its masks packed (logits planes, IoUs and their prompts'
    // points, one mask per prompt), so only the planes it works on are copied, and they are transferred.
    const iouThresh = Math.fround(params.predIouThresh);
    const passing: number[] = [];
    for (let m = 0; m < n; m++) if (!(params.predIouThresh > 0) || batch.iou[m]! > iouThresh) passing.push(m);
    const shares = Math.min(this.threads, passing.length);
    if (shares <= 1) return this.main.process(batch, points, frame, params);
    const plane = batch.lowH * batch.lowW;
    const bounds = Array.from({ length: shares + 1 }, (_, i) => Math.round((i * passing.length) / shares));
    const remote = this.workers.slice(0, shares - 1).map((w, i) => {
      const masks = passing.slice(bounds[i + 1]!, bounds[i + 2]!);
      const lowRes = new Float32Array(masks.length * plane);
      const iou = new Float32Array(masks.length);
      const pts = new Float32Array(masks.length * 2);
      masks.forEach((m, j) => {
        lowRes.set(batch.lowRes.subarray(m * plane, (m + 1) * plane), j * plane);
        iou[j] = batch.iou[m]!;
        const prompt = Math.floor(m / batch.masksPerPrompt);
        pts[2 * j] = points[2 * prompt]!;
        pts[2 * j + 1] = points[2 * prompt + 1]!;
      });
      const share: DecodedBatch = { lowRes, lowH: batch.lowH, lowW: batch.lowW, iou, masksPerPrompt: 1 };
      const id = this.nextId++;
      const req: WorkRequest = { id, batch: share, points: pts, frame, params, maskOffset: 0 };
      return new Promise<Candidate[]>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        w.postMessage(req, [lowRes.buffer, iou.buffer, pts.buffer]);
      });
    });
    const mainEnd = passing[bounds[1]!]!;
    const first = this.main.process(
      { ...batch, lowRes: batch.lowRes.subarray(0, mainEnd * plane), iou: batch.iou.subarray(0, mainEnd) },
      points,
      frame,
      params,
      0,
    );
    const rest = await Promise.all(remote);
    return first.concat(...rest);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
