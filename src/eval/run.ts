/**
 * Benchmark runs: the agent over every sample of a ReasonSeg split, then the report.
 *
 * Layout of the output folder:
 *   run.json                                            the configuration of this run (and its fingerprint)
 *   samples/<id>/result.json, mask.png, overlay.png     one folder per (image, query)
 *   samples/<id>/done.json                              written LAST: the sample is complete, and by which
 *                                                       configuration (its fingerprint)
 *   stale/<fingerprint>/<id>/                           samples of another configuration, kept aside
 *   failures.json                                       samples that failed, with the one-line reason
 *   report.json, report.md, iou-histogram.png           written by writeReasonReport
 *
 * Resumable: only a sample completed (done.json) with the same configuration is skipped. A sample of another
 * configuration (other backends, options, `--max-masks`, mode …) is moved aside and redone — and brought
 * back if the run returns to that configuration; a sample without done.json (a run killed while writing it)
 * is redone. One bad sample is recorded and the run goes on. With a queue, workers do the work and this
 * process writes every file.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { loadReasonSeg } from "../datasets/reasonseg.js";
import { ProgressTracker, type BatchProgress } from "../engine/progress.js";
import { collectThroughQueue, imageRef, type QueueItem } from "../engine/queue/collector.js";
import type { QueueAddress } from "../engine/queue/connection.js";
import { EVAL_QUEUE, evalJobId, splitFailure, type EvalJobData, type EvalJobResult } from "../engine/queue/jobs.js";
import { loadImage } from "../image/index.js";
import { fromCocoRle } from "../masks/index.js";
import type { GearSeg, SegmentationResult } from "../pipeline/agent.js";
import { writeSegmentationOutputs } from "../pipeline/outputs.js";
import type { ResultJson } from "../pipeline/result.js";
import type { QueryMode } from "../pipeline/types.js";
import type { RgbImage } from "../image/types.js";
import { inOrderAhead } from "../util/concurrency.js";
import { describeError } from "../util/errors.js";
import { sha256File, writeJsonAtomic } from "../util/fs.js";
import { reasonQueries, type ReasonQuery } from "./reason-eval.js";

/** Everything that shapes an answer, as a person reads it. */
export interface RunConfiguration {
  segmenter: string;
  describer: string | null;
  captioner?: string | null;
  reasoner: string | null;
  max_regions: number;
  max_masks: number;
  duplicate_overlap: number;
  mode?: QueryMode;
}

/** The agent's configuration as a person reads it, and its fingerprint: the agent's own (GearSeg.fingerprint,
 * every stage's fingerprint and its parameters). A sample's fingerprint adds the query mode (sampleFingerprint). */
export function runConfigurationFingerprint(agent: GearSeg): { configuration: RunConfiguration; fingerprint: string } {
  const c = agent.configuration;
  const configuration: RunConfiguration = {
    segmenter: c.segmenter,
    describer: c.describer,
    captioner: c.captioner,
    reasoner: c.reasoner,
    max_regions: c.maxRegions,
    max_masks: c.maxMasks,
    duplicate_overlap: c.duplicateOverlap,
  };
  return { configuration, fingerprint: agent.fingerprint.slice(0, 16) };
}

const fingerprintOf = (c: unknown) => createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);

/** A configuration fingerprint combined with the run's query mode: what a sample's done.json records. */
export const sampleFingerprint = (configurationFingerprint: string, mode: QueryMode) => fingerprintOf({ fingerprint: configurationFingerprint, mode });

export interface SampleMarker {
  fingerprint: string;
  configuration?: RunConfiguration;
  finished: string;
  worker?: string;
}

export interface RunRecord {
  fingerprint: string;
  /** Absent when workers did the work and reported only their fingerprint. */
  configuration?: RunConfiguration;
  /** The spec strings, for the report's table. */
  specs?: { segmenter: string; describer: string | null; reasoner: string | null };
  mode: QueryMode;
  updated: string;
}

export const sampleDir = (outDir: string, id: string) => join(outDir, "samples", id);

export async function readSampleMarker(dir: string): Promise<SampleMarker | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, "done.json"), "utf8")) as SampleMarker;
    return typeof m.fingerprint === "string" ? m : undefined;
  } catch {
    return undefined;
  }
}

export async function readRunRecord(outDir: string): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, "run.json"), "utf8")) as RunRecord;
  } catch {
    return undefined;
  }
}

async function readFailures(file: string): Promise<Record<string, string>> {
  if (!existsSync(file)) return {};
  try {
    const v = JSON.parse(await readFile(file, "utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/**
 * Whether sample `id` is complete for `fingerprint`. A sample of another configuration goes aside into
 * stale/<its fingerprint>/; an incomplete one is removed; one set aside earlier with this fingerprint comes
 * back. Returns how many samples were moved aside (0 or 1).
 */
async function settleExisting(outDir: string, id: string, fingerprint: string): Promise<{ done: boolean; setAside: boolean }> {
  const dir = sampleDir(outDir, id);
  let setAside = false;
  if (existsSync(dir)) {
    const marker = await readSampleMarker(dir);
    if (marker && marker.fingerprint === fingerprint) return { done: true, setAside };
    if (marker) {
      const aside = join(outDir, "stale", marker.fingerprint, id);
      await rm(aside, { recursive: true, force: true });
      await mkdir(dirname(aside), { recursive: true });
      await rename(dir, aside);
      setAside = true;
    } else {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const kept = join(outDir, "stale", fingerprint, id);
  if (fingerprint && (await readSampleMarker(kept))?.fingerprint === fingerprint) {
    await mkdir(dirname(dir), { recursive: true });
    await rename(kept, dir);
    return { done: true, setAside };
  }
  return { done: false, setAside };
}

/** The inverse of resultToJson: what writeSegmentationOutputs needs to draw a worker's answer here. */
export function segmentationResultFromJson(j: ResultJson, image: RgbImage): SegmentationResult {
  const regions = j.regions.map((r) => ({
    id: r.id,
    rle: fromCocoRle(r.segmentation),
    bbox: r.bbox,
    area: r.area,
    ...(r.predicted_iou !== undefined && { predictedIou: r.predicted_iou }),
    ...(r.stability_score !== undefined && { stabilityScore: r.stability_score }),
    ...(r.point_coords !== undefined && { pointCoords: r.point_coords }),
    ...(r.crop_box !== undefined && { cropBox: r.crop_box }),
  }));
  const t = j.timings;
  return {
    prepared: {
      source: j.image,
      width: j.width,
      height: j.height,
      imageKey: "",
      regions,
      descriptions: j.regions.map((r) => r.description),
      scene: j.scene,
      duplicatesDropped: j.duplicates_dropped,
      capDropped: j.cap_dropped,
      timings: { readMs: t.read_ms ?? 0, decodeMs: t.decode_ms ?? 0, segmentMs: t.segment_ms ?? 0, dedupMs: t.dedup_ms ?? 0, describeMs: t.describe_ms ?? 0, captionMs: t.caption_ms ?? 0 },
      cache: j.cache,
      backends: { segmenter: j.backends.segmenter, describer: j.backends.describer },
      loadImage: async () => image,
    },
    query: j.query,
    mode: j.mode as QueryMode,
    maskIds: j.mask_ids,
    droppedIds: j.dropped_ids,
    explanation: j.explanation,
    ...(j.confidence !== undefined && { confidence: j.confidence }),
    ...(j.usage && { usage: { promptTokens: j.usage.prompt_tokens, completionTokens: j.usage.completion_tokens, totalTokens: j.usage.total_tokens } }),
    ...(j.backends.model !== undefined && { model: j.backends.model }),
    warnings: j.warnings,
    mask: fromCocoRle(j.mask),
    reasonMs: t.reason_ms ?? 0,
    reasoner: j.backends.reasoner,
  };
}

export interface RunOptions {
  /** The agent that does the work here; or `queue`: workers do it. */
  agent?: GearSeg;
  queue?: { address: QueueAddress; inlineMaxBytes?: number; window?: number };
  dataDir: string;
  outDir: string;
  /** Every query of every image (default: the first, as LISA). */
  allQueries?: boolean;
  /** Only the first N samples. */
  limit?: number;
  mode?: QueryMode;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  onFailure?: (id: string, message: string) => void;
  onNotice?: (line: string) => void;
}

export interface RunSummary {
  total: number;
  /** Finished in this run. */
  ran: number;
  /** Already finished before with the same configuration (resumed). */
  resumed: number;
  /** Samples of another configuration found and set aside (redone in this run). */
  setAside: number;
  failed: { id: string; error: string }[];
  fingerprint: string | undefined;
  interrupted: boolean;
}

export async function runReasonSeg(options: RunOptions): Promise<RunSummary> {
  const { agent, outDir } = options;
  if (!agent && !options.queue) throw new TypeError("runReasonSeg needs an agent or a queue");
  const mode: QueryMode = options.mode ?? "reasoning";
  let queries = reasonQueries(await loadReasonSeg(options.dataDir), options.allQueries);
  if (options.limit !== undefined) queries = queries.slice(0, options.limit);
  const previous = await readRunRecord(outDir);
  let fingerprint: string | undefined;
  let run: RunRecord | undefined;
  if (agent) {
    const c = runConfigurationFingerprint(agent);
    fingerprint = sampleFingerprint(c.fingerprint, mode);
    run = {
      fingerprint,
      configuration: { ...c.configuration, mode },
      specs: { segmenter: agent.segmenter.spec, describer: agent.describer?.spec ?? null, reasoner: agent.reasoner?.spec ?? null },
      mode,
      updated: new Date().toISOString(),
    };
    await writeJsonAtomic(join(outDir, "run.json"), run);
  } else if (previous && previous.mode === mode) {
    // Workers decide the configuration: a queue run resumes what the earlier workers of this run produced.
    fingerprint = previous.fingerprint;
  }

  const failuresFile = join(outDir, "failures.json");
  const failures = await readFailures(failuresFile);
  const summary: RunSummary = { total: queries.length, ran: 0, resumed: 0, setAside: 0, failed: [], fingerprint, interrupted: false };
  // group the pending queries by image so each image is prepared once
  const pending = new Map<string, ReasonQuery[]>();
  for (const q of queries) {
    // Without a known fingerprint (a first queue run), no earlier sample can be trusted: all go aside.
    const s = await settleExisting(outDir, q.id, fingerprint ?? "");
    if (s.setAside) summary.setAside++;
    if (s.done) {
      summary.resumed++;
      delete failures[q.id];
      continue;
    }
    let l = pending.get(q.sample.name);
    if (!l) pending.set(q.sample.name, (l = []));
    l.push(q);
  }
  if (summary.setAside) options.onNotice?.(`${summary.setAside} sample(s) made with another configuration were set aside in ${join(outDir, "stale")} and are redone`);
  const tracker = new ProgressTracker(queries.length, summary.resumed, 0);
  options.onProgress?.(tracker.snapshot());
  const fail = async (q: ReasonQuery, err: unknown) => {
    const message = typeof err === "string" ? err : describeError(err);
    failures[q.id] = message;
    summary.failed.push({ id: q.id, error: message });
    options.onFailure?.(q.id, message);
    await writeJsonAtomic(failuresFile, failures);
    const progress = tracker.record(q.id, "failed", message);
    options.onProgress?.(progress);
  };
  const finish = async (q: ReasonQuery, result: SegmentationResult, image: Parameters<typeof writeSegmentationOutputs>[2], marker: SampleMarker) => {
    const dir = sampleDir(outDir, q.id);
    await writeSegmentationOutputs(dir, result, image, { candidates: false });
    await writeJsonAtomic(join(dir, "done.json"), marker); // last: the sample is complete
    summary.ran++;
    if (q.id in failures) {
      delete failures[q.id];
      await writeJsonAtomic(failuresFile, failures);
    }
    const progress = tracker.record(q.id, "finished");
    options.onProgress?.(progress);
  };

  if (agent) {
    // As many images prepared ahead as the agent prepares at once (its workers), answered in order.
    const groups = [...pending.values()];
    const preparations = inOrderAhead(groups.length, agent.parallelism, (i) =>
      agent.prepareLazily(groups[i]![0]!.sample.imagePath, options.signal).then(
        (prepared) => ({ prepared, error: undefined }),
        (error: unknown) => ({ prepared: undefined, error }),
      ),
    );
    for (const group of groups) {
      if (options.signal?.aborted) break;
      const { prepared, error } = (await preparations.next()).value!;
      if (!prepared) {
        if (options.signal?.aborted) break;
        for (const q of group) await fail(q, error);
        continue;
      }
      for (const q of group) {
        if (options.signal?.aborted) break;
        try {
          const result = await agent.ask(prepared, q.query, { mode, signal: options.signal });
          await finish(q, result, await prepared.loadImage(), { fingerprint: fingerprint!, configuration: run!.configuration, finished: new Date().toISOString() });
        } catch (err) {
          if (options.signal?.aborted) break;
          await fail(q, err);
        }
      }
    }
  } else {
    const queue = options.queue!;
    async function* items(): AsyncGenerator<QueueItem<EvalJobData, EvalJobResult>> {
      for (const group of pending.values()) {
        const path = group[0]!.sample.imagePath;
        let sha: string;
        try {
          sha = await sha256File(path);
        } catch (err) {
          for (const q of group) await fail(q, err);
          continue;
        }
        const queries = group.map((q) => ({ id: q.id, query: q.query }));
        yield {
          jobId: evalJobId(sha, queries, mode),
          data: { image: await imageRef(path, basename(path), sha, queue.inlineMaxBytes), queries, mode },
          onDone: async (r) => {
            const fp = sampleFingerprint(r.fingerprint, mode);
            if (!fingerprint) {
              fingerprint = fp;
              summary.fingerprint = fp;
              await writeJsonAtomic(join(outDir, "run.json"), { fingerprint: fp, mode, updated: new Date().toISOString() } satisfies RunRecord);
            }
            if (fp !== fingerprint) {
              for (const q of group) await fail(q, `worker ${r.worker} has another configuration (fingerprint ${r.fingerprint}) than this run's other workers: one run, one configuration`);
              return;
            }
            const image = await loadImage(path);
            for (const res of r.results) {
              const q = group.find((x) => x.id === res.id)!;
              if ("error" in res) await fail(q, res.error);
              // The worker saw its own copy of the image: the result names the image as this machine has it.
              else await finish(q, segmentationResultFromJson({ ...res.result, image: path }, image), image, { fingerprint: fp, finished: new Date().toISOString(), worker: r.worker });
            }
          },
          onFailed: async (reason) => {
            const f = splitFailure(reason);
            for (const q of group) await fail(q, `${f.stage}: ${f.error}`);
          },
        };
      }
    }
    await collectThroughQueue(queue.address, EVAL_QUEUE, items(), { window: queue.window, signal: options.signal, onError: options.onNotice });
  }
  summary.interrupted = options.signal?.aborted ?? false;
  if (Object.keys(failures).length === 0 && existsSync(failuresFile)) await writeJsonAtomic(failuresFile, {});
  return summary;
}
