// Each action imports what it uses when it runs: `eval coco` needs neither images nor backends.
import { resolve } from "node:path";
import type { Command } from "commander";
import type { IouType } from "../../eval/cocoeval.js";
import { UsageError } from "../../util/errors.js";
import { action, addStackOptions, inCliTerms, integerFlag, makeIo, stackFromFlags, type GlobalFlags, type Io, type StackFlags } from "../app.js";

const f4 = (v: number) => v.toFixed(4);
const required = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`${flag} is required`);
  return v;
};

export function registerEval(program: Command): void {
  const evalCmd = program.command("eval").description("evaluate predictions: reasoning metrics, COCO mAP, grading, error analysis, benchmark runs");

  evalCmd
    .command("reason")
    .description("gIoU, cIoU (LISA) and ncIoU (LLM-Seg) of predictions against a ReasonSeg split")
    .option("--data <dir>", "ReasonSeg folder (X.jpg + X.json, or images/ + questions/)")
    .option("--pred <dir>", "predictions: reference answer files <name>.json or gear-seg result folders <name>/result.json")
    .option("--all-queries", "score every query of every image (default: the first, as LISA)")
    .option("--json", "print JSON")
    .action(
      action(async (flags: { data?: string; pred?: string; allQueries?: boolean; json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const data = required(flags.data, "--data");
        const pred = required(flags.pred, "--pred");
        const { evaluateReasonFolder } = await import("../../eval/reason-eval.js");
        const r = await evaluateReasonFolder(data, pred, { allQueries: flags.allQueries, onProgress: (d, t) => io.progress.update("score", d, t) });
        io.progress.clear();
        if (r.missing.length > 0) io.err(`warning: ${r.missing.length} sample(s) have no prediction and score as empty masks: ${r.missing.slice(0, 5).join(", ")}${r.missing.length > 5 ? ", …" : ""}`);
        if (flags.json) {
          io.out(JSON.stringify(r, null, 2));
        } else {
          io.out(`gIoU   ${f4(r.gIoU)}\ncIoU   ${f4(r.cIoU)}\nncIoU  ${f4(r.ncIoU)}\nsamples ${r.samples}`);
        }
      }),
    );

  evalCmd
    .command("coco")
    .description("COCO mAP of a results list against COCO instances (pycocotools-exact), with per-category AP")
    .option("--gt <file>", "COCO instances JSON")
    .option("--pred <file>", "COCO results list JSON (RLE or polygon segmentations, or boxes)")
    .option("--iou-type <type>", "segm or bbox", "segm")
    .option("--json", "print JSON")
    .action(
      action(async (flags: { gt?: string; pred?: string; iouType: string; json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        if (flags.iouType !== "segm" && flags.iouType !== "bbox") throw new UsageError(`--iou-type must be "segm" or "bbox", got "${flags.iouType}"`);
        const { loadCocoGroundTruth, loadCocoResults } = await import("../../datasets/coco.js");
        const { evaluateCoco, formatCocoSummary, STAT_NAMES } = await import("../../eval/cocoeval.js");
        const gt = await loadCocoGroundTruth(required(flags.gt, "--gt"));
        const dt = await loadCocoResults(gt, required(flags.pred, "--pred"));
        for (const w of dt.warnings ?? []) io.err(`warning: ${w}`);
        const r = evaluateCoco(gt, dt, { iouType: flags.iouType as IouType });
        if (flags.json) {
          const per_category = r.perCategory.map((c) => ({ id: c.id, name: c.name, AP: c.ap, AP50: c.ap50, AP75: c.ap75, AR100: c.ar100 }));
          io.out(JSON.stringify({ stats: r.stats, names: STAT_NAMES, per_category }, null, 2));
        } else {
          io.out(formatCocoSummary(r));
          if (r.perCategory.length > 1) {
            io.out("\nper category AP@[.50:.95]:");
            for (const c of r.perCategory) io.out(`  ${c.name.padEnd(20)} ${c.ap < 0 ? "  -  " : c.ap.toFixed(3)}`);
          }
        }
      }),
    );

  evalCmd
    .command("grade")
    .description("instance classification accuracy (e.g. ripeness): match by mask IoU ≥ 0.5, confusion matrix")
    .option("--gt <file>", "COCO instances JSON (category = class)")
    .option("--pred <file>", "COCO results list JSON")
    .option("--iou <t>", "match threshold", "0.5")
    .option("--json", "print JSON")
    .action(
      action(async (flags: { gt?: string; pred?: string; iou: string; json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const t = Number(flags.iou);
        if (!(t > 0 && t <= 1)) throw new UsageError(`--iou must be a number in (0, 1], got "${flags.iou}"`);
        const { annotationRle, loadCocoGroundTruth, loadCocoResults } = await import("../../datasets/coco.js");
        const { gradeInstances, gradingImagesFromCoco } = await import("../../eval/grading.js");
        const gt = await loadCocoGroundTruth(required(flags.gt, "--gt"));
        const dt = await loadCocoResults(gt, required(flags.pred, "--pred"));
        const r = gradeInstances(gradingImagesFromCoco(gt, dt, annotationRle), t);
        if (flags.json) return io.out(JSON.stringify(r, null, 2));
        io.out(`accuracy ${f4(r.accuracy)} (${r.correct}/${r.gtInstances} ground-truth instances; ${r.matched} matched, ${r.predictions} predictions)`);
        io.out("class                 precision  recall   gt  predicted");
        for (const c of r.perClass) io.out(`  ${c.label.padEnd(20)} ${f4(c.precision)}   ${f4(c.recall)}  ${String(c.gt).padStart(4)}  ${String(c.predicted).padStart(4)}`);
        const w = Math.max(8, ...r.confusion.labels.map((l) => l.length)) + 2;
        io.out("\nconfusion (rows: ground truth, columns: predicted)");
        io.out(" ".repeat(w) + r.confusion.labels.map((l) => l.padStart(w)).join(""));
        r.confusion.matrix.forEach((row, i) => io.out(r.confusion.labels[i]!.padEnd(w) + row.map((v) => String(v).padStart(w)).join("")));
      }),
    );

  evalCmd
    .command("errors")
    .description("cascading-error analysis: oracle IoU of the proposals vs the chosen regions (segmentation-limited vs selection errors)")
    .option("--data <dir>", "ReasonSeg folder")
    .option("--pred <dir>", "gear-seg result folders, or reference answer files")
    .option("--proposals <dir>", "reference SAM masks folder (<name>/mask_<i>.png); found next to answers/json when omitted")
    .option("--all-queries", "every query of every image")
    .option("--json", "print JSON")
    .action(
      action(async (flags: { data?: string; pred?: string; proposals?: string; allQueries?: boolean; json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const { evaluateErrorsFolder } = await import("../../eval/errors-eval.js");
        const r = await evaluateErrorsFolder(required(flags.data, "--data"), required(flags.pred, "--pred"), {
          proposalsDir: flags.proposals,
          allQueries: flags.allQueries,
          onProgress: (d, t) => io.progress.update("analyse", d, t),
        });
        io.progress.clear();
        if (r.skipped.length > 0) io.err(`warning: ${r.skipped.length} sample(s) skipped: ${r.skipped.slice(0, 3).map((s) => `${s.id} (${inCliTerms(s.reason)})`).join(", ")}`);
        if (flags.json) return io.out(JSON.stringify(r, null, 2));
        const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
        io.out(`samples               ${r.samples}`);
        io.out(`IoU ≥ 0.5             ${r.ok}`);
        io.out(`failures              ${r.failures}`);
        io.out(`segmentation-limited  ${r.segmentationLimited} (${pct(r.segmentationShare)} of failures)`);
        io.out(`selection errors      ${r.selectionErrors} (${pct(r.selectionShare)} of failures)`);
        io.out(`mean oracle IoU       ${f4(r.meanOracleIou)}`);
        io.out(`mean chosen IoU       ${f4(r.meanChosenIou)}`);
      }),
    );

  const runCmd = evalCmd
    .command("run")
    .description("run the agent over a dataset and write report.json and report.md (resumable: only samples of the same configuration are kept)")
    .argument("<dataset>", "dataset kind: reasonseg")
    .option("--data <dir>", "ReasonSeg folder")
    .option("--out <dir>", "run folder (samples/, report.json, report.md)")
    .option("--all-queries", "every query of every image (default: the first, as LISA)")
    .option("--limit <n>", "only the first n samples")
    .option("--mode <mode>", "reasoning or referring", "reasoning")
    .option("--queue <redis-url>", "do the work on `gear-seg worker` processes behind this Redis (their backends decide the configuration); this process writes every file");
  addStackOptions(runCmd).action(
    action(async (kind: string, flags: StackFlags & { data?: string; out?: string; allQueries?: boolean; limit?: string; mode: string; queue?: string }, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      if (kind !== "reasonseg") throw new UsageError(`unknown dataset kind "${kind}" (known: reasonseg)`);
      const data = required(flags.data, "--data");
      const out = resolve(required(flags.out, "--out"));
      const limit = integerFlag(flags.limit, "--limit");
      const { parseMode } = await import("./segment.js");
      const { ensureWritableDir } = await import("../output-dir.js");
      const { runReasonSeg } = await import("../../eval/run.js");
      const { writeReasonReport } = await import("../../eval/report.js");
      const { parseQueueUrl } = await import("../../engine/queue/connection.js");
      const { interruptSignal } = await import("../engine-flags.js");
      const { Progress } = await import("../progress.js");
      const mode = parseMode(flags.mode);
      await ensureWritableDir(out);
      // The stages' own progress would replace the samples bar line by line: only the samples are shown.
      const quietIo: Io = { ...io, progress: new Progress(process.stderr, false) };
      const stack = flags.queue ? undefined : await stackFromFlags(flags, quietIo);
      const interrupt = interruptSignal(io);
      let summary;
      try {
        summary = await runReasonSeg({
          agent: stack?.agent,
          queue: flags.queue ? { address: parseQueueUrl(flags.queue) } : undefined,
          dataDir: data,
          outDir: out,
          allQueries: flags.allQueries,
          limit,
          mode,
          signal: interrupt.signal,
          onProgress: (p) => io.progress.updateOverall("samples", p.done, p.total, p.skipped, p.rate),
          onFailure: (id, message) => io.err(`! ${id}: ${message}`),
          onNotice: (line) => io.err(line),
        });
      } finally {
        interrupt.dispose();
        await stack?.agent.close();
      }
      io.progress.finish();
      const report = await writeReasonReport(data, out, {
        allQueries: flags.allQueries,
        onProgress: (step, d, t) => io.progress.update(step, d, t),
      });
      io.progress.clear();
      const m = report.metrics;
      io.out(`${summary.ran} sample(s) run, ${summary.resumed} resumed, ${summary.failed.length} failed (of ${summary.total})${summary.interrupted ? "; interrupted: rerun to resume" : ""}`);
      io.out(`gIoU ${f4(m.gIoU)}  cIoU ${f4(m.cIoU)}  ncIoU ${f4(m.ncIoU)}  samples ${m.samples}  (configuration ${report.configuration?.fingerprint ?? "unknown"})`);
      io.out(`wrote ${out}/report.md, report.json, iou-histogram.png`);
      if (summary.interrupted) process.exitCode = 130;
      else if (summary.failed.length > 0) process.exitCode = 1;
    }),
  );
}
