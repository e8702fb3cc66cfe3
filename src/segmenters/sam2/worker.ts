/**
 * Worker thread of the post-processing pool (./pool.ts): takes the IoU-passing masks of a batch from the back,
 * as the main thread copies them into the shared planes, until it meets the masks the main thread took, and
 * sends the candidates back (transferring the RLE buffers) with their positions in passing order.
 */
import { parentPort } from "node:worker_threads";
import type { AmgParams } from "./params.js";
import { BatchPostprocessor, type BatchFrame, type Candidate } from "./postprocess.js";

/** Shared between the main thread and the workers (./pool.ts). */
export interface SharedArea {
  /** Float32 planes; slot k holds the IoU-passing mask n − 1 − k. */
  planes: SharedArrayBuffer;
  /** Int32 per mask in passing order: 0 = free, CLAIMED_BY_MAIN, or CLAIMED_BY_WORKER. */
  claims: SharedArrayBuffer;
  /** Int32 words: COPIED (count of copied slots, with the CLOSED bit), TAKEN_FROM_BACK (slots handed out). */
  control: SharedArrayBuffer;
}

export const COPIED = 0;
export const TAKEN_FROM_BACK = 1;
export const CLOSED = 1 << 30;
export const CLAIMED_BY_MAIN = 1;
export const CLAIMED_BY_WORKER = 2;

export interface WorkRequest {
  id: number;
  /** Sent when the shared buffers are (re)allocated. */
  area?: SharedArea;
  /** IoU-passing masks in the batch, their IoUs and prompt points (interleaved x, y), in passing order. */
  count: number;
  lowH: number;
  lowW: number;
  iou: Float32Array;
  points: Float32Array;
  frame: BatchFrame;
  params: AmgParams;
}

export interface WorkReply {
  id: number;
  candidates?: Candidate[];
  /** Position in passing order of each candidate's mask. */
  positions?: number[];
  error?: string;
}

const processor = new BatchPostprocessor();
let planes: Float32Array<ArrayBufferLike> = new Float32Array(0);
let claims: Int32Array<ArrayBufferLike> = new Int32Array(0);
let control: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * One batch, the worker's side (exported for tests, which play the main thread's side): take slots from the
 * back until the main thread's masks are reached or it stops copying before the next slot.
 */
export function takeFromBack(req: WorkRequest): WorkReply {
  if (req.area) {
    planes = new Float32Array(req.area.planes);
    claims = new Int32Array(req.area.claims);
    control = new Int32Array(req.area.control);
  }
  const { count: n, lowH, lowW, iou, points, frame, params } = req;
  const plane = lowH * lowW;
  const candidates: Candidate[] = [];
  const positions: number[] = [];
  for (;;) {
    const k = Atomics.add(control, TAKEN_FROM_BACK, 1);
    const j = n - 1 - k;
    if (j < 0) break;
    // Wait for slot k, unless the main thread has stopped copying (it then has every mask not yet copied).
    let copied = Atomics.load(control, COPIED);
    while ((copied & ~CLOSED) <= k && !(copied & CLOSED)) {
      Atomics.wait(control, COPIED, copied);
      copied = Atomics.load(control, COPIED);
    }
    if ((copied & ~CLOSED) <= k) break;
    if (Atomics.compareExchange(claims, j, 0, CLAIMED_BY_WORKER) !== 0) break;
    const c = processor.processMask(planes, k * plane, lowH, lowW, frame, params, iou[j]!, points[2 * j]!, points[2 * j + 1]!);
    if (c) {
      candidates.push(c);
      positions.push(j);
    }
  }
  return { id: req.id, candidates, positions };
}

parentPort?.on("message", (req: WorkRequest) => {
  try {
    const reply = takeFromBack(req);
    parentPort!.postMessage(reply, reply.candidates!.map((c) => c.rle.counts.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies WorkReply);
  }
});
