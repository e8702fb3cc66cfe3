/**
 * What the batch commands share (engine generate, label, eval run, worker): the dataset-run flags, building
 * the LLM, the preparer and the executor from flags, Ctrl-C handling and progress lines. Commands import this,
 * never each other.
 */
import type { Command } from "commander";
import { DEFAULT_SPLITS } from "../datasets/gear-seg.js";
import { createJsonChat, type JsonChat } from "../engine/llm.js";
import { localExecutor, type Preparer } from "../engine/local.js";
import type { Executor } from "../engine/pipeline.js";
import { createPreparer, isPerImageSpec } from "../engine/prepare.js";
import type { BatchProgress } from "../engine/progress.js";
import { queueExecutor } from "../engine/queue/collector.js";
import { parseQueueUrl } from "../engine/queue/connection.js";
import { formatSplitFractions } from "../engine/splits.js";
import { detectorClasses } from "../engine/detector-label.js";
import type { Detector } from "../pipeline/types.js";
import { UsageError } from "../util/errors.js";
import { addStackOptions, addWorkersOption, integerFlag, stackFromFlags, type Io, type StackFlags } from "./app.js";
import { Progress } from "./progress.js";

export interface EngineRunFlags extends StackFlags {
  out?: string;
  llm?: string;
  llmKeyEnv?: string;
  concurrency?: string;
  seed?: string;
  splits?: string;
  limit?: string;
  promptTokens?: string;
  maxAttempts?: string;
  retryFailed?: boolean;
  queue?: string;
}

/** Options shared by `engine generate` and `label`. */
export function addEngineRunOptions(cmd: Command): Command {
  cmd
    .requiredOption("-o, --out <dir>", "dataset folder (created; a rerun resumes it)")
    .option("--llm <spec>", "the LLM, as openai:<model>@<base-url> (any OpenAI-compatible chat API)")
    .option("--llm-key-env <name>", "environment variable holding the LLM's API key")
    .option("--concurrency <n>", "images in flight at once (describer and LLM calls overlap)", "2")
    .option("--seed <seed>", "seed of the image-level splits", "0")
    .option("--splits <train/val/test>", "split fractions", formatSplitFractions(DEFAULT_SPLITS))
    .option("--limit <n>", "only the first N images (by path)")
    .option("--prompt-tokens <n>", "prompt budget in tokens: beyond it the smallest regions are left out (and the record says so)")
    .option("--max-attempts <n>", "park an image after this many failed runs (engine status lists them)", "3")
    .option("--retry-failed", "bring parked images back before the run")
    .option("--queue <redis-url>", "do the work on `gear-seg worker` processes behind this Redis (redis://host:port[/db]); this process collects");
  return addWorkersOption(addStackOptions(cmd, { reasoner: false }));
}

export function llmFromFlags(flags: EngineRunFlags): JsonChat {
  if (!flags.llm) throw new UsageError("give the LLM: --llm openai:<model>@<base-url> (e.g. openai:qwen2.5-7b-instruct@http://localhost:8000/v1)");
  return createJsonChat(flags.llm, flags.llmKeyEnv ? { apiKeyEnv: flags.llmKeyEnv } : {});
}

/** The engine's preparer: per-image stacks when a spec holds {stem}/{id}, otherwise the usual stack (config
 * file, cache) with its stage progress silenced so the image-level bar stays readable. */
export async function preparerFromFlags(
  flags: StackFlags,
  io: Io,
): Promise<{ prepare: Preparer; segmenter: string; describer: string | null; detector: Detector | null; close(): Promise<void> }> {
  if (isPerImageSpec(flags.segmenter) || isPerImageSpec(flags.describer)) {
    if (!flags.segmenter || !flags.describer) throw new UsageError("with {stem} in a spec, give both --segmenter and --describer");
    const p = await createPreparer(
      { segmenter: flags.segmenter, describer: flags.describer },
      { maxPixels: integerFlag(flags.maxPixels, "--max-pixels"), maxRegions: integerFlag(flags.maxRegions, "--max-regions") },
    );
    return { prepare: p.prepare, segmenter: flags.segmenter, describer: flags.describer === "none" ? null : flags.describer, detector: null, close: p.close };
  }
  const quietIo: Io = { ...io, progress: new Progress(process.stderr, false) };
  const stack = await stackFromFlags(flags, quietIo, { reasoner: "none" }, undefined, { many: true });
  const { agent } = stack;
  return {
    // Lazily: the pixels are decoded here only if a task asks for them (labelling by detector).
    prepare: (entry, signal) => agent.prepareLazily(entry.abs, signal),
    segmenter: agent.segmenter.spec,
    describer: agent.describer?.spec ?? null,
    detector: stack.detector,
    close: () => stack.close(),
  };
}

/** Ctrl-C once: cancel the calls in flight and stop (their images stay pending; finished ones are kept, the
 * summary is written); twice: exit at once. */
export function interruptSignal(io: Io): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err("interrupted: calls in flight are cancelled and their images stay pending; finished images are kept and the summary is written (rerun to resume; Ctrl-C again to quit now)");
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    },
  };
}

export function progressReporter(io: Io, label: string): (p: BatchProgress) => void {
  return (p) => {
    io.progress.updateOverall(label, p.done, p.total, p.skipped + p.parked, p.rate);
    if (p.last?.outcome === "failed") io.err(`failed: ${p.last.image}: ${p.last.error}`);
  };
}

/**
 * The executor of a run: queue workers (`--queue`) or this process. `byDetector`: the classes a label run without
 * an LLM wants; the stack's detector must know them (checked before anything is written).
 */
export async function executorFromFlags(flags: EngineRunFlags, io: Io, byDetector?: readonly string[]): Promise<{ executor: Executor; close(): Promise<void> }> {
  if (byDetector) {
    if (flags.queue) throw new UsageError("label without --llm runs in this process: give --llm to use --queue workers");
    const preparer = await preparerFromFlags(flags, io);
    try {
      detectorClasses(preparer.detector, byDetector);
    } catch (err) {
      await preparer.close();
      throw err;
    }
    const executor = localExecutor({ prepare: preparer.prepare, llm: null, detector: preparer.detector ?? undefined, segmenter: preparer.segmenter, describer: preparer.describer, concurrency: integerFlag(flags.concurrency, "--concurrency") });
    return { executor, close: () => preparer.close() };
  }
  if (flags.queue) return { executor: queueExecutor({ address: parseQueueUrl(flags.queue), onError: (m) => io.err(m) }), close: async () => {} };
  const llm = llmFromFlags(flags);
  const preparer = await preparerFromFlags(flags, io);
  const executor = localExecutor({ prepare: preparer.prepare, llm, segmenter: preparer.segmenter, describer: preparer.describer, concurrency: integerFlag(flags.concurrency, "--concurrency") });
  return { executor, close: () => preparer.close() };
}

