// Agents whose preparation pool is built by the test (the stack builds its own with the compiled worker): a
// worker script that dies on purpose (./dying-preparation-worker.mjs), a cache, or stage fingerprints other
// than the main stack's. The main stack is the offline default without a detector (quick to start).
import { join } from "node:path";
import type { SqliteStageCache } from "../../src/cache/sqlite-cache.js";
import { GearSeg } from "../../src/pipeline/agent.js";
import { PreparationPool, type WorkerStack } from "../../src/stack/preparation-pool.js";
import type { Stack } from "../../src/stack/stack.js";
import { repoRoot } from "./paths.js";

/** Dies (exit code 70) when asked to prepare a file whose name contains "dies-here"; otherwise the real worker. */
export const DYING_WORKER = join(repoRoot, "test/helpers/dying-preparation-worker.mjs");

/** The specs of `stack`, which must be `createStack({ detector: "none" })`. */
export function agentWithPool(
  stack: Stack,
  options: { script?: string; cache?: SqliteStageCache; fingerprints?: Partial<WorkerStack["fingerprints"]>; workers?: number } = {},
): GearSeg {
  const { agent } = stack;
  const config: WorkerStack = {
    specs: { segmenter: "classic", describer: "attributes", detector: "none" },
    backendOptions: {},
    sources: {},
    cache: options.cache !== undefined,
    fingerprints: {
      segmenter: agent.segmenter.fingerprint ?? agent.segmenter.spec,
      describer: agent.describer!.fingerprint ?? agent.describer!.spec,
      captioner: agent.captioner!.fingerprint ?? agent.captioner!.spec,
      ...options.fingerprints,
    },
  };
  const pool = new PreparationPool({ stack: config, workers: options.workers ?? 2, cache: options.cache ?? null, script: options.script });
  return new GearSeg({ segmenter: agent.segmenter, describer: agent.describer, captioner: agent.captioner, reasoner: agent.reasoner, preparer: pool, cache: options.cache });
}
