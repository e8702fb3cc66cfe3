/**
 * Rewriting a dataset's summary files from its records: items.jsonl (reasoning) or annotations.json
 * (instances), stats.json, DATASET.md, the chart, the manifest's counts. One streaming pass over the records
 * (a second for COCO annotations), so memory stays flat at any size and the time grows with the records.
 * Every file is derived only from records and written durably, so it is right after any crash or interrupt.
 * Items a reviewer rejected are left out of items.jsonl, the COCO file and the numbers.
 */
import { join } from "node:path";
import { eachFailure, eachRecord, keptItems, readManifest, REASONING_TYPES, type DamagedRecord, type Manifest } from "../datasets/gear-seg.js";
import { openDatasetSource } from "../export/model.js";
import { writeCocoFiles } from "../export/coco.js";
import { DurableWriter, writeDurable, writeJsonDurable } from "../util/durable.js";
import { renderBarChartPng } from "./chart.js";
import { renderDatasetMarkdown, StatsAccumulator, type DatasetStats } from "./stats.js";

export const CHART_FILE = "categories.png";

export interface SummaryOptions {
  /** Images known to be left (default: the manifest's last count). */
  pending?: number;
  onDamaged?: (d: DamagedRecord) => void;
}

/** Discovered classes: those already listed keep their place; new ones follow, most frequent first. */
function extendClasses(listed: readonly string[], counts: Record<string, number>): string[] {
  const fresh = Object.entries(counts)
    .filter(([c]) => !listed.includes(c))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c]) => c);
  return [...listed, ...fresh];
}

export async function summarizeDataset(dir: string, options: SummaryOptions = {}): Promise<DatasetStats> {
  let manifest = await readManifest(dir);
  const acc = new StatsAccumulator(manifest.kind);
  const done = new Set<string>();
  const onDamaged = (d: DamagedRecord) => options.onDamaged?.(d);
  const items = manifest.kind === "reasoning" ? await DurableWriter.open(join(dir, "items.jsonl")) : undefined;
  try {
    for await (const r of eachRecord(dir, { onDamaged })) {
      done.add(r.image_id);
      acc.addRecord(r);
      if (items && r.kind === "reasoning") for (const item of keptItems(r)) await items.write(JSON.stringify(item) + "\n");
    }
    await items?.commit();
  } catch (err) {
    await items?.abort();
    throw err;
  }
  let failedOrParked = 0;
  for await (const f of eachFailure(dir)) {
    if (done.has(f.image_id)) continue;
    acc.addFailure(f);
    failedOrParked++;
  }
  const stats = acc.finish(Math.max(0, options.pending ?? manifest.counts.pending));

  const files: Record<string, string> = {
    "manifest.json": "this file: what the folder is and how it was made",
    "records/": "one JSON file per finished image (durable; a rerun skips these)",
  };
  if (failedOrParked) files["failures/"] = "one JSON file per image that failed, with the stage, the error and the attempts (parked after the limit)";
  let bars: { label: string; value: number }[];
  if (manifest.kind === "reasoning") {
    files["items.jsonl"] = "every kept item, one JSON record per line: questions, explanation, answer labels, region ids, union mask (COCO RLE), split, generation metadata";
    bars = REASONING_TYPES.map((t) => ({ label: t, value: stats.reasoning_types[t].count }));
  } else {
    if (manifest.labels) {
      manifest = { ...manifest, labels: { ...manifest.labels, classes: extendClasses(manifest.labels.classes, stats.classes ?? {}) } };
      await writeJsonDurable(join(dir, "manifest.json"), manifest);
    }
    const source = await openDatasetSource(dir);
    await writeCocoFiles(source, [{ path: join(dir, "annotations.json") }]);
    files["annotations.json"] = "COCO instances (RLE segmentations), every split; the split of each image is in images[].split";
    bars = Object.entries(stats.classes ?? {})
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([label, value]) => ({ label, value }));
  }
  await writeDurable(join(dir, CHART_FILE), await renderBarChartPng(bars, { title: manifest.kind === "reasoning" ? "Base pairs per reasoning type" : "Instances per class" }));
  files[CHART_FILE] = manifest.kind === "reasoning" ? "bar chart of the reasoning types" : "bar chart of the classes";
  files["stats.json"] = "the numbers below, as JSON";
  files["DATASET.md"] = "this summary";

  const models = new Set([...manifest.generation.models, ...stats.models]);
  const updated: Manifest = {
    ...manifest,
    updated: new Date().toISOString(),
    generation: { ...manifest.generation, models: [...models].sort() },
    files,
    counts: {
      images: stats.images.finished,
      failed: stats.images.failed,
      parked: stats.images.parked,
      pending: stats.images.pending,
      items: stats.base_pairs,
      ...(manifest.kind === "reasoning" && { questions: stats.qa_pairs }),
    },
  };
  await writeJsonDurable(join(dir, "stats.json"), stats);
  await writeDurable(join(dir, "DATASET.md"), renderDatasetMarkdown(updated, stats, CHART_FILE));
  await writeJsonDurable(join(dir, "manifest.json"), updated);
  return stats;
}
