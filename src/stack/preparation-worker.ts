/**
 * A preparation worker thread (see ./preparation-pool.ts): builds a stack from the main stack's specs and
 * options (no reasoner), checks that its stages are the main stack's, then prepares one image at a time with
 * its agent's own `prepareLazily`, using the main thread's stage cache through messages.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { RgbImage } from "../image/types.js";
import type { PreparedImage } from "../pipeline/agent.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import type { Region } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";
import { CACHE_METHODS, errorData, errorFromData, type FromWorker, type PreparedData, type ToWorker, type WorkerStack } from "./preparation-pool.js";
import { createStack, type Stack } from "./stack.js";

const port = parentPort!;
const config = workerData as WorkerStack;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

/** The main thread's cache, one message per call. */
const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextCall = 0;
const cache = Object.fromEntries(
  CACHE_METHODS.map((method) => [
    method,
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const call = nextCall++;
        calls.set(call, { resolve, reject });
        send({ type: "cache", call, method, args });
      }),
  ]),
) as unknown as StageCache;

/** The image being prepared. */
let current: { id: number; controller: AbortController } | null = null;

const stack: Promise<Stack> = createStack(
  { ...config.specs, reasoner: "none" },
  {
    backendOptions: config.backendOptions,
    sources: config.sources,
    maxPixels: config.maxPixels,
    maxRegions: config.maxRegions,
    maxMasks: config.maxMasks,
    duplicateOverlap: config.duplicateOverlap,
    stageTimeoutMs: config.stageTimeoutMs,
    cache: config.cache ? cache : null,
    onStage: (stage, done, total) => {
      if (current) send({ type: "stage", id: current.id, stage, done, total });
    },
    notice: (message) => send({ type: "notice", message }),
  },
).then((built) => {
  const { agent } = built;
  const mine = {
    segmenter: agent.segmenter.fingerprint ?? agent.segmenter.spec,
    describer: agent.describer ? (agent.describer.fingerprint ?? agent.describer.spec) : null,
    captioner: agent.captioner ? (agent.captioner.fingerprint ?? agent.captioner.spec) : null,
  };
  for (const stage of ["segmenter", "describer", "captioner"] as const) {
    if (mine[stage] !== config.fingerprints[stage]) {
      throw new GearSegError(`its ${stage} is ${mine[stage] ?? "none"}, the main stack's ${config.fingerprints[stage] ?? "none"}`);
    }
  }
  return built;
});
stack.then(
  () => send({ type: "ready" }),
  (err) => send({ type: "start-failed", error: errorData(err) }),
);

port.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "cache-reply": {
      const call = calls.get(msg.call);
      calls.delete(msg.call);
      if (msg.error) call?.reject(errorFromData(msg.error));
      else call?.resolve(msg.value);
      return;
    }
    case "abort":
      if (current?.id === msg.id) current.controller.abort(new GearSegError("preparation cancelled"));
      return;
    case "prepare":
      void prepare(msg.id, msg.input);
      return;
  }
});

async function prepare(id: number, input: string | RgbImage): Promise<void> {
  const controller = new AbortController();
  current = { id, controller };
  try {
    const { agent } = await stack;
    const prepared = await agent.prepareLazily(input, controller.signal);
    const { data, transfer } = portable(prepared);
    send({ type: "prepared", id, prepared: data }, transfer);
  } catch (err) {
    send({ type: "failed", id, error: errorData(err) });
  } finally {
    current = null;
  }
}

/**
 * The prepared image as plain data; every mask's counts copied into a buffer of its own, transferred. Copied,
 * never the agent's own: it keeps the last images' regions for the next preparation (a transfer would empty them).
 */
function portable(prepared: PreparedImage): { data: PreparedData; transfer: ArrayBuffer[] } {
  const { loadImage: _pixels, ...rest } = prepared;
  const transfer: ArrayBuffer[] = [];
  const regions: Region[] = prepared.regions.map((r) => {
    const own = r.rle.counts.slice();
    transfer.push(own.buffer as ArrayBuffer);
    return { ...r, rle: { ...r.rle, counts: own } };
  });
  return { data: { ...rest, regions }, transfer };
}
