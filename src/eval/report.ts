/**
 * report.json + report.md for a benchmark run folder (see ./run.ts): the metrics as a table like the GEAR-Seg
 * paper's Table 1 (percent, one decimal), the cascading-error breakdown (Table 5), a histogram of per-sample
 * IoU, and the 10 worst samples with their overlays.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import { evaluateErrorsFolder, type ErrorsReport } from "./errors-eval.js";
import { renderIouHistogramPng } from "./histogram.js";
import { evaluateReasonFolder, reasonQueries, type ReasonEvalReport } from "./reason-eval.js";
import { loadReasonSeg } from "../datasets/reasonseg.js";
import { readRunRecord, readSampleMarker, sampleDir, type RunRecord } from "./run.js";

export interface ReportOptions {
  allQueries?: boolean;
  /** Name of the dataset split for the table (default: the folder name). */
  split?: string;
  /** Scoring and analysing advance ("score", "analyse"). */
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface RunReport {
  split: string;
  /** The configuration behind every number (run.json), and how many scored samples it produced: every
   * sample in samples/ carries its fingerprint (done.json); those of other configurations are kept aside. */
  configuration: (RunRecord & { samples: number; other_samples: number }) | null;
  backends: Record<string, unknown> | null;
  metrics: ReasonEvalReport;
  errors: Omit<ErrorsReport, "per_sample"> | null;
  failures: Record<string, string>;
  /** Samples left out of the metrics because their ground truth could not be built. */
  excluded: Record<string, string>;
  worst: { id: string; query: string; iou: number; overlay: string | null }[];
}

const pct = (v: number) => (100 * v).toFixed(1);

export async function writeReasonReport(dataDir: string, outDir: string, options: ReportOptions = {}): Promise<RunReport> {
  const samplesDir = join(outDir, "samples");
  const excluded: Record<string, string> = {};
  const metrics = await evaluateReasonFolder(dataDir, samplesDir, {
    allQueries: options.allQueries,
    onBadSample: (id, message) => (excluded[id] = message),
    onProgress: (d, t) => options.onProgress?.("score", d, t),
  });
  const queries = reasonQueries(await loadReasonSeg(dataDir), options.allQueries);
  const queryOf = new Map(queries.map((q) => [q.id, q.query]));
  let errors: RunReport["errors"] = null;
  try {
    const { per_sample: _omit, ...rest } = await evaluateErrorsFolder(dataDir, samplesDir, { allQueries: options.allQueries, onProgress: (d, t) => options.onProgress?.("analyse", d, t) });
    errors = rest;
  } catch {
    errors = null; // no sample has proposals (e.g. every sample failed)
  }
  let backends: Record<string, unknown> | null = null;
  for (const s of metrics.per_sample) {
    const f = join(sampleDir(outDir, s.id), "result.json");
    if (!existsSync(f)) continue;
    try {
      backends = (JSON.parse(await readFile(f, "utf8")) as { backends?: Record<string, unknown> }).backends ?? null;
    } catch {
      backends = null;
    }
    break;
  }
  const failuresFile = join(outDir, "failures.json");
  const failures = existsSync(failuresFile) ? (JSON.parse(await readFile(failuresFile, "utf8")) as Record<string, string>) : {};
  const worst = [...metrics.per_sample]
    .sort((a, b) => a.iou - b.iou || a.id.localeCompare(b.id))
    .slice(0, 10)
    .map((s) => {
      const overlay = join("samples", s.id, "overlay.png");
      return { id: s.id, query: queryOf.get(s.id) ?? "", iou: s.iou, overlay: existsSync(join(outDir, overlay)) ? overlay : null };
    });
  const split = options.split ?? dataDir.replace(/\/+$/, "").split("/").pop() ?? "split";
  const run = await readRunRecord(outDir);
  let configuration: RunReport["configuration"] = null;
  if (run) {
    let own = 0;
    let other = 0;
    for (const s of metrics.per_sample) {
      if (s.missing) continue;
      if ((await readSampleMarker(sampleDir(outDir, s.id)))?.fingerprint === run.fingerprint) own++;
      else other++;
    }
    configuration = { ...run, samples: own, other_samples: other };
  }
  const report: RunReport = { split, configuration, backends, metrics, errors, failures, excluded, worst };

  await writeFileAtomic(join(outDir, "iou-histogram.png"), await renderIouHistogramPng(metrics.per_sample.map((s) => s.iou), `${split}: per-sample IoU`));
  await writeJsonAtomic(join(outDir, "report.json"), report);
  await writeFileAtomic(join(outDir, "report.md"), reportMarkdown(report));
  return report;
}

function method(backends: Record<string, unknown> | null, run: RunReport["configuration"]): string {
  if (run?.specs) return `gear-seg (${[run.specs.segmenter, run.specs.describer ?? "no describer", run.specs.reasoner ?? "no reasoner"].join(" / ")}; configuration \`${run.fingerprint}\`)`;
  if (!backends) return "gear-seg";
  const parts = ["segmenter", "describer", "reasoner"].map((k) => backends[k]).filter((v) => typeof v === "string");
  return `gear-seg (${parts.join(" / ")}${typeof backends.model === "string" ? `, ${backends.model}` : ""})`;
}

export function reportMarkdown(r: RunReport): string {
  const m = r.metrics;
  const lines: string[] = [];
  lines.push(`# Reasoning segmentation: ${r.split}`, "");
  lines.push(`| Method | gIoU (%) | cIoU (%) | ncIoU (%) | Samples |`, `|---|---:|---:|---:|---:|`);
  lines.push(`| ${method(r.backends, r.configuration)} | ${pct(m.gIoU)} | ${pct(m.cIoU)} | ${pct(m.ncIoU)} | ${m.samples} |`, "");
  lines.push(
    "gIoU = mean per-sample IoU, cIoU = ΣI/ΣU (LISA); ncIoU = cIoU after resizing prediction and ground truth to 1024×1024 (LLM-Seg). " +
      "Ignored ground-truth pixels are excluded. Definitions: docs/metrics.md.",
    "",
  );
  if (r.configuration) {
    const c = r.configuration;
    lines.push(`Every number in this report comes from configuration \`${c.fingerprint}\` (${c.samples} sample(s) with an answer; mode ${c.mode}${c.configuration ? "" : "; run by queue workers, whose configuration is known by its fingerprint"}).`, "");
    if (c.configuration) {
      lines.push("| setting | value |", "|---|---|");
      for (const [k, v] of Object.entries(c.configuration)) lines.push(`| ${k} | \`${String(v)}\` |`);
      lines.push("");
    }
    if (c.other_samples) lines.push(`**${c.other_samples} sample(s) carry another configuration's mark**: rerun to redo them.`, "");
    if (r.metrics.missing.length) lines.push(`${r.metrics.missing.length} sample(s) have no answer from this configuration yet (not run, failed, or set aside from another configuration) and score as empty masks.`, "");
  }
  const failed = Object.keys(r.failures);
  if (failed.length > 0) lines.push(`**${failed.length} sample(s) failed** and are scored as empty masks: ${failed.slice(0, 20).map((f) => `\`${f}\``).join(", ")}${failed.length > 20 ? ", …" : ""} (reasons in failures.json).`, "");
  const excluded = Object.keys(r.excluded);
  if (excluded.length > 0) lines.push(`**${excluded.length} sample(s) excluded** (ground truth unavailable): ${excluded.slice(0, 20).map((f) => `\`${f}\``).join(", ")}.`, "");
  if (r.errors) {
    const e = r.errors;
    lines.push("## Where failures come from (cascading errors)", "");
    lines.push(`| Samples | IoU ≥ 0.5 | Failures | Segmentation-limited | Selection errors | Mean oracle IoU (%) | Mean chosen IoU (%) |`, `|---:|---:|---:|---:|---:|---:|---:|`);
    lines.push(
      `| ${e.samples} | ${e.ok} | ${e.failures} | ${e.segmentationLimited} (${pct(e.segmentationShare)}%) | ${e.selectionErrors} (${pct(e.selectionShare)}%) | ${pct(e.meanOracleIou)} | ${pct(e.meanChosenIou)} |`,
      "",
    );
    lines.push("Oracle IoU: the best greedy union of up to 6 proposals. Segmentation-limited: oracle < 0.5; selection error: oracle ≥ 0.5 but the chosen regions < 0.5.", "");
  }
  lines.push("## Per-sample IoU", "", "![per-sample IoU histogram](iou-histogram.png)", "");
  lines.push("## The 10 worst samples", "", "| # | Sample | Query | IoU | Overlay |", "|---:|---|---|---:|---|");
  r.worst.forEach((w, i) => {
    const q = w.query.replace(/\|/g, "\\|").replace(/\n/g, " ");
    lines.push(`| ${i + 1} | \`${w.id}\` | ${q} | ${pct(w.iou)}% | ${w.overlay ? `![${w.id}](${w.overlay})` : "(no output)"} |`);
  });
  return lines.join("\n") + "\n";
}
