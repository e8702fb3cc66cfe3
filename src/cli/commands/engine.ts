import { resolve } from "node:path";
import type { Command } from "commander";
import { generateDataset, type Preparer } from "../../engine/generate.js";
import { createJsonChat, type JsonChat } from "../../engine/llm.js";
import { createPreparer, isPerImageSpec } from "../../engine/prepare.js";
import { parseSplitFractions } from "../../engine/splits.js";
import { finalizeDataset } from "../../engine/finalize.js";
import { readManifest } from "../../engine/dataset.js";
import type { BatchProgress } from "../../engine/batch.js";
import type { Detector } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { action, addStackOptions, integerFlag, makeIo, stackFromFlags, type GlobalFlags, type Io, type StackFlags } from "../app.js";
import { ensureWritableDir } from "../output-dir.js";
import { Progress } from "../progress.js";

export interface EngineRunFlags extends StackFlags {
  out?: string;
  llm?: string;
  llmKeyEnv?: string;
  concurrency?: string;
  seed?: string;
  splits?: string;
  limit?: string;
}

/** Options shared by `engine generate` and `label`. */
export function addEngineRunOptions(cmd: Command): Command {
  cmd
    .requiredOption("-o, --out <dir>", "dataset folder (created; a rerun resumes it)")
    .option("--llm <spec>", "the LLM, as openai:<model>@<base-url> (any OpenAI-compatible chat API)")
    .option("--llm-key-env <name>", "environment variable holding the LLM's API key")
    .option("--concurrency <n>", "images in flight at once (describer and LLM calls overlap)", "2")
    .option("--seed <seed>", "seed of the image-level splits", "0")
    .option("--splits <train/val/test>", "split fractions", "90/5/5")
    .option("--limit <n>", "only the first N images (by path)");
  return addStackOptions(cmd, { reasoner: false });
}

export function llmFromFlags(flags: EngineRunFlags): JsonChat {
  if (!flags.llm) throw new UsageError("give the LLM: --llm openai:<model>@<base-url> (e.g. openai:qwen2.5-7b-instruct@http://localhost:8000/v1)");
  return createJsonChat(flags.llm, flags.llmKeyEnv ? { apiKeyEnv: flags.llmKeyEnv } : {});
}

/** The engine's preparer: per-image stacks when a spec holds {stem}/{id}, otherwise the usual stack (config
 * file, cache) with its stage progress silenced so the image-level bar stays readable. */
export async function preparerFromFlags(
  flags: EngineRunFlags,
  io: Io,
): Promise<{ prepare: Preparer; segmenter: string; describer: string | null; detector: Detector | null; close(): Promise<void> }> {
  if (isPerImageSpec(flags.segmenter) || isPerImageSpec(flags.describer)) {
    if (!flags.segmenter || !flags.describer) throw new UsageError("with {stem} in a spec, give both --segmenter and --describer");
    const p = await createPreparer({ segmenter: flags.segmenter, describer: flags.describer }, {
      maxPixels: integerFlag(flags.maxPixels, "--max-pixels"),
      maxRegions: integerFlag(flags.maxRegions, "--max-regions"),
    });
    return { prepare: p.prepare, segmenter: flags.segmenter, describer: flags.describer === "none" ? null : flags.describer, detector: null, close: p.close };
  }
  const quietIo: Io = { ...io, progress: new Progress(process.stderr, false) };
  const stack = await stackFromFlags(flags, quietIo, { reasoner: "none" });
  const { agent } = stack;
  return {
    prepare: (entry, signal) => agent.prepare(entry.abs, signal),
    segmenter: agent.segmenter.spec,
    describer: agent.describer?.spec ?? null,
    detector: stack.detector,
    close: () => stack.close(),
  };
}

/** Ctrl-C once: stop taking images, keep what is finished, write the summary; twice: exit at once. */
export function interruptSignal(io: Io): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.err("interrupted: stopping after the images in flight; finished images are kept (rerun to resume; Ctrl-C again to quit now)");
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
    io.progress.update(label, p.done, p.total);
    if (p.last?.outcome === "failed") io.err(`failed: ${p.last.image}: ${p.last.error}`);
  };
}

export function registerEngine(program: Command): void {
  const engine = program.command("engine").description("the data engine: reasoning-segmentation datasets from unlabelled images");
  const gen = engine
    .command("generate")
    .description("generate a GEAR-131K-style dataset: 1-4 items per image, five questions each, filtered; resumable")
    .argument("<images-dir>", "folder of images (searched recursively)")
    .option("--max-items <n>", "at most this many items per image (1-4)", "4")
    .option("--min-confidence <n>", "drop items below this confidence (0-10)", "6");
  addEngineRunOptions(gen).action(
    action(async (imagesDir: string, flags: EngineRunFlags & { maxItems: string; minConfidence: string }, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const outDir = resolve(flags.out!);
      const llm = llmFromFlags(flags);
      const minConfidence = Number(flags.minConfidence);
      if (!Number.isFinite(minConfidence) || minConfidence < 0 || minConfidence > 10) throw new UsageError(`--min-confidence must be a number from 0 to 10, got "${flags.minConfidence}"`);
      await ensureWritableDir(outDir);
      const preparer = await preparerFromFlags(flags, io);
      const interrupt = interruptSignal(io);
      try {
        const summary = await generateDataset({
          imagesDir,
          outDir,
          prepare: preparer.prepare,
          llm,
          segmenterSpec: preparer.segmenter,
          describerSpec: preparer.describer,
          seed: flags.seed,
          splits: parseSplitFractions(flags.splits ?? "90/5/5"),
          concurrency: integerFlag(flags.concurrency, "--concurrency"),
          maxItems: integerFlag(flags.maxItems, "--max-items"),
          limit: integerFlag(flags.limit, "--limit"),
          filters: { minConfidence },
          signal: interrupt.signal,
          onProgress: progressReporter(io, "generate"),
        });
        io.progress.clear();
        const s = summary.stats;
        io.out(
          `${outDir}: ${summary.finished} images done now, ${summary.skipped} already done, ${summary.failed} failed` +
            `${summary.interrupted ? `, ${summary.pending} left (interrupted: rerun to resume)` : ""}`,
        );
        io.out(`dataset: ${s.images.finished} images, ${s.base_pairs} base pairs, ${s.qa_pairs} QA pairs; see DATASET.md`);
        if (summary.interrupted) process.exitCode = 130;
        else if (summary.failed > 0) process.exitCode = 1;
      } finally {
        interrupt.dispose();
        await preparer.close();
      }
    }),
  );

  engine
    .command("stats")
    .description("rewrite stats.json, DATASET.md and the summary files of a dataset folder from its records")
    .argument("<dataset-dir>")
    .action(
      action(async (dir: string, _flags: unknown, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const manifest = await readManifest(resolve(dir));
        const stats = await finalizeDataset(resolve(dir), manifest, manifest.counts.pending);
        io.out(JSON.stringify(stats, null, 2));
      }),
    );
}
