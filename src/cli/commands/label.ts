import { resolve } from "node:path";
import type { Command } from "commander";
import { detectorClasses, labelImages, normalizeClass, parseClassList } from "../../engine/label.js";
import { parseSplitFractions } from "../../engine/splits.js";
import { UsageError } from "../../util/errors.js";
import { action, integerFlag, makeIo, type GlobalFlags } from "../app.js";
import { ensureWritableDir } from "../output-dir.js";
import { addEngineRunOptions, interruptSignal, llmFromFlags, preparerFromFlags, progressReporter, type EngineRunFlags } from "./engine.js";

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
      const classes = flags.classes !== undefined ? parseClassList(flags.classes) : undefined;
      const outDir = resolve(flags.out!);
      // Without --llm the detector labels the classes it knows (COCO's for the offline default's NanoDet-g).
      const llm = flags.llm ? llmFromFlags(flags) : undefined;
      const preparer = await preparerFromFlags(flags, io);
      try {
        if (!llm) detectorClasses(preparer.detector ?? undefined, classes ?? [normalizeClass(flags.keyword)]);
        await ensureWritableDir(outDir);
      } catch (err) {
        await preparer.close();
        throw err;
      }
      const interrupt = interruptSignal(io);
      try {
        const r = await labelImages({
          imagesDir,
          outDir,
          prepare: preparer.prepare,
          llm,
          detector: preparer.detector ?? undefined,
          keyword: flags.keyword,
          classes,
          segmenterSpec: preparer.segmenter,
          describerSpec: preparer.describer,
          seed: flags.seed,
          splits: parseSplitFractions(flags.splits ?? "90/5/5"),
          concurrency: integerFlag(flags.concurrency, "--concurrency"),
          limit: integerFlag(flags.limit, "--limit"),
          signal: interrupt.signal,
          onProgress: progressReporter(io, "label"),
        });
        io.progress.clear();
        io.out(`${outDir}: ${r.finished} images done now, ${r.skipped} already done, ${r.failed} failed${r.interrupted ? `, ${r.pending} left (interrupted: rerun to resume)` : ""}`);
        io.out(`${r.stats.base_pairs} instances in ${r.classes.length} classes (${r.classes.join(", ")}); COCO: ${outDir}/annotations.json`);
        if (r.interrupted) process.exitCode = 130;
        else if (r.failed > 0) process.exitCode = 1;
      } finally {
        interrupt.dispose();
        await preparer.close();
      }
    }),
  );
}
