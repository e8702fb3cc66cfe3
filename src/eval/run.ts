/**
 * Benchmark runs: the agent over every sample of a ReasonSeg split, then the report.
 *
 * Layout of the output folder:
 *   samples/<id>/result.json, mask.png, overlay.png   one folder per (image, query), written atomically
 *   failures.json                                     samples that failed, with the one-line reason
 *   report.json, report.md, iou-histogram.png         written by writeReasonReport
 * Resumable: a sample whose result.json exists is finished and skipped; failed samples are retried on the
 * next run. One bad sample is recorded and the run goes on.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GearSeg } from "../pipeline/agent.js";
import { writeSegmentationOutputs } from "../pipeline/outputs.js";
import type { QueryMode } from "../pipeline/types.js";
import { loadReasonSeg } from "../datasets/reasonseg.js";
import { describeError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { reasonQueries, type ReasonQuery } from "./reason-eval.js";

export interface RunOptions {
  agent: GearSeg;
  dataDir: string;
  outDir: string;
  /** Every query of every image (default: the first, as LISA). */
  allQueries?: boolean;
  /** Only the first N samples. */
  limit?: number;
  mode?: QueryMode;
  onProgress?: (done: number, total: number) => void;
  onFailure?: (id: string, message: string) => void;
}

export interface RunSummary {
  total: number;
  /** Finished in this run. */
  ran: number;
  /** Already finished before (resumed). */
  resumed: number;
  failed: { id: string; error: string }[];
}

export const sampleDir = (outDir: string, id: string) => join(outDir, "samples", id);

async function readFailures(file: string): Promise<Record<string, string>> {
  if (!existsSync(file)) return {};
  try {
    const v = JSON.parse(await readFile(file, "utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export async function runReasonSeg(options: RunOptions): Promise<RunSummary> {
  const { agent, outDir } = options;
  let queries = reasonQueries(await loadReasonSeg(options.dataDir), options.allQueries);
  if (options.limit !== undefined) queries = queries.slice(0, options.limit);
  const failuresFile = join(outDir, "failures.json");
  const failures = await readFailures(failuresFile);
  const summary: RunSummary = { total: queries.length, ran: 0, resumed: 0, failed: [] };
  // group the pending queries by image so each image is prepared once
  const pending = new Map<string, ReasonQuery[]>();
  for (const q of queries) {
    if (existsSync(join(sampleDir(outDir, q.id), "result.json"))) {
      summary.resumed++;
      delete failures[q.id];
      continue;
    }
    let l = pending.get(q.sample.name);
    if (!l) pending.set(q.sample.name, (l = []));
    l.push(q);
  }
  let done = summary.resumed;
  options.onProgress?.(done, queries.length);
  const fail = async (q: ReasonQuery, err: unknown) => {
    const message = describeError(err);
    failures[q.id] = message;
    summary.failed.push({ id: q.id, error: message });
    options.onFailure?.(q.id, message);
    await writeJsonAtomic(failuresFile, failures);
  };
  for (const group of pending.values()) {
    let prepared;
    try {
      prepared = await agent.prepare(group[0]!.sample.imagePath);
    } catch (err) {
      for (const q of group) {
        await fail(q, err);
        options.onProgress?.(++done, queries.length);
      }
      continue;
    }
    for (const q of group) {
      try {
        const result = await agent.ask(prepared, q.query, { mode: options.mode });
        await writeSegmentationOutputs(sampleDir(outDir, q.id), result, prepared.image, { candidates: false });
        summary.ran++;
        if (q.id in failures) {
          delete failures[q.id];
          await writeJsonAtomic(failuresFile, failures);
        }
      } catch (err) {
        await fail(q, err);
      }
      options.onProgress?.(++done, queries.length);
    }
  }
  if (Object.keys(failures).length === 0 && existsSync(failuresFile)) await writeJsonAtomic(failuresFile, {});
  return summary;
}
