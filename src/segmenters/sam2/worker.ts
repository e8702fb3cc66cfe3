/**
 * Worker thread of the post-processing pool (./pool.ts): runs the fused kernel on its share of a batch's masks
 * and sends the candidates back, transferring the RLE buffers.
 */
import { parentPort } from "node:worker_threads";
import type { AmgParams } from "./params.js";
import { BatchPostprocessor, type BatchFrame, type DecodedBatch } from "./postprocess.js";

export interface WorkRequest {
  id: number;
  batch: DecodedBatch;
  points: Float32Array;
  frame: BatchFrame;
  params: AmgParams;
  maskOffset: number;
}

const processor = new BatchPostprocessor();
parentPort?.on("message", (req: WorkRequest) => {
  try {
    const out = processor.process(req.batch, req.points, req.frame, req.params, req.maskOffset);
    parentPort!.postMessage({ id: req.id, candidates: out }, out.map((c) => c.rle.counts.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
