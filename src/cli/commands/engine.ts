import { resolve } from "node:path";
import type { Command } from "commander";
import { datasetStatus, generateDataset, labelImages, summarizeDataset, type DatasetRunSummary, type GenerateOptions } from "../../engine/index.js";
import { normalizeClass, parseClassList } from "../../engine/label.js";
import { parseSplitFractions, formatSplitFractions } from "../../engine/splits.js";
import { DEFAULT_SPLITS } from "../../datasets/gear-seg.js";
import { UsageError } from "../../util/errors.js";
import { action, integerFlag, makeIo, type GlobalFlags, type Io } from "../app.js";
import { addEngineRunOptions, executorFromFlags, interruptSignal, progressReporter, type EngineRunFlags } from "../engine-flags.js";
import { ensureWritableDir } from "../output-dir.js";

function runOptions(flags: EngineRunFlags) {
  return {
    seed: flags.seed,
    splits: parseSplitFractions(flags.splits ?? formatSplitFractions(DEFAULT_SPLITS)),
    limit: integerFlag(flags.limit, "--limit"),
    promptTokens: integerFlag(flags.promptTokens, "--prompt-tokens"),
    maxAttempts: integerFlag(flags.maxAttempts, "--max-attempts"),
    retryFailed: flags.retryFailed,
  };
}

function reportRun(io: Io, summary: DatasetRunSummary, what: string): void {
  io.progress.finish();
  io.out(
    `${summary.outDir}: ${summary.finished} images done now, ${summary.skipped} already done, ${summary.failed} failed` +
      `${summary.parked ? `, ${summary.parked} parked (engine status lists them; --retry-failed brings them back)` : ""}` +
      `${summary.interrupted ? `, ${summary.pending} left (interrupted: rerun to resume)` : ""}`,
  );
  io.out(what);
  if (summary.interrupted) process.exitCode = 130;
  else if (summary.failed > 0) process.exitCode = 1;
}

/** Runs one dataset command (generate or label) with its executor, Ctrl-C handling and progress. */
export async function runEngineCommand(
  imagesDir: string,
  flags: EngineRunFlags,
  io: Io,
  label: string,
  run: (common: Omit<GenerateOptions, "maxItems" | "filters">) => Promise<DatasetRunSummary>,
  byDetector?: readonly string[],
): Promise<DatasetRunSummary> {
  const outDir = resolve(flags.out!);
  // The executor first: a choice it refuses (an unknown class) leaves no folder behind.
  const { executor, close } = await executorFromFlags(flags, io, byDetector);
  try {
    await ensureWritableDir(outDir);
  } catch (err) {
    await close();
    throw err;
  }
  const interrupt = interruptSignal(io);
  try {
    return await run({ imagesDir, outDir, executor, ...runOptions(flags), signal: interrupt.signal, onProgress: progressReporter(io, label), onNotice: (line) => io.err(line) });
  } finally {
    interrupt.dispose();
    await close();
  }
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
      const minConfidence = Number(flags.minConfidence);
      if (!Number.isFinite(minConfidence) || minConfidence < 0 || minConfidence > 10) throw new UsageError(`--min-confidence must be a number from 0 to 10, got "${flags.minConfidence}"`);
      const maxItems = integerFlag(flags.maxItems, "--max-items")!;
      if (maxItems > 4) throw new UsageError(`--max-items must be 1 to 4, got "${flags.maxItems}"`);
      const summary = await runEngineCommand(imagesDir, flags, io, "generate", (common) => generateDataset({ ...common, maxItems, filters: { minConfidence } }));
      const s = summary.stats;
      reportRun(io, summary, `dataset: ${s.images.finished} images, ${s.base_pairs} base pairs, ${s.qa_pairs} QA pairs; see DATASET.md`);
    }),
  );

  engine
    .command("stats")
    .description("bring stats.json, DATASET.md and the summary files of a dataset folder up to date with its records")
    .argument("<dataset-dir>")
    .option("--rebuild", "read every record again instead of the saved totals (after records were edited by hand)")
    .action(
      action(async (dir: string, flags: { rebuild?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const stats = await summarizeDataset(resolve(dir), { rebuild: flags.rebuild === true, onDamaged: (d) => io.err(`damaged record ${d.file} (${d.reason}) moved to ${d.movedTo}; rerun the engine to redo its image`) });
        io.out(JSON.stringify(stats, null, 2));
      }),
    );

  engine
    .command("status")
    .description("what a dataset holds: finished images, failing images, parked images with their reasons")
    .argument("<dataset-dir>")
    .option("--json", "print JSON")
    .action(
      action(async (dir: string, flags: { json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const s = await datasetStatus(resolve(dir));
        if (flags.json) return io.out(JSON.stringify(s, null, 2));
        io.out(`${s.dir} (${s.kind}): ${s.finished} images finished, ${s.failing.length} failing (retried by the next run), ${s.parked.length} parked`);
        for (const p of s.parked) io.out(`  parked: ${p.image}: ${p.stage}: ${p.error} (${p.attempts} attempts)`);
        for (const f of s.failing) io.out(`  failing: ${f.image}: ${f.stage}: ${f.error} (${f.attempts} attempt${f.attempts === 1 ? "" : "s"})`);
        if (s.parked.length) io.out("run engine generate (or label) with --retry-failed to bring parked images back");
      }),
    );
}

export function registerLabel(program: Command): void {
  const cmd = program
    .command("label")
    .description("auto-label instances: discover the classes for a keyword (or use --classes), one class per region; writes COCO instances (without --llm: the detector's own classes, e.g. --keyword car)")
    .argument("<images-dir>", "folder of images (searched recursively)")
    .requiredOption("--keyword <word>", "what the dataset is about, e.g. strawberry")
    .option("--classes <a,b,c>", "use these classes (e.g. unripe,turning,ripe for grading) instead of discovering them");
  addEngineRunOptions(cmd).action(
    action(async (imagesDir: string, flags: EngineRunFlags & { keyword: string; classes?: string }, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      if (!flags.keyword.trim()) throw new UsageError("--keyword is empty");
      let classes: string[] | undefined;
      try {
        classes = flags.classes !== undefined ? parseClassList(flags.classes) : undefined;
      } catch {
        throw new UsageError(`--classes must list class names separated by commas, got "${flags.classes}"`);
      }
      // Without --llm the stack's detector labels its own classes (COCO's for the offline default's NanoDet-g).
      const byDetector = flags.llm ? undefined : (classes ?? [normalizeClass(flags.keyword)]);
      const r = await runEngineCommand(imagesDir, flags, io, "label", (common) => labelImages({ ...common, keyword: flags.keyword, classes, byDetector: byDetector !== undefined }), byDetector);
      const classList = r.classes ?? [];
      reportRun(io, r, `${r.stats.base_pairs} instances in ${classList.length} classes (${classList.join(", ")}); COCO: ${r.outDir}/annotations.json`);
    }),
  );
}
