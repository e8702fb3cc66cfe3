/**
 * Opening a dataset folder (create the manifest, or check that a rerun matches it) and rewriting its summary
 * files from the finished records: items.jsonl or annotations.json, stats.json, DATASET.md, the chart. Every
 * file is written atomically and derived only from records, so it is correct after any crash or interrupt.
 */
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { buildCocoInstances } from "../export/coco.js";
import { loadDatasetFrom } from "../export/model.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import { renderBarChartPng } from "./chart.js";
import { DATASET_FORMAT, DATASET_VERSION, readFailures, readManifest, readRecords, type DatasetKind, type GenerationInfo, type Manifest } from "./dataset.js";
import { REASONING_TYPES } from "./prompt.js";
import type { SplitFractions } from "./splits.js";
import { computeStats, renderDatasetMarkdown, type DatasetStats } from "./stats.js";

export interface OpenDatasetOptions {
  kind: DatasetKind;
  imagesRoot: string;
  seed: string;
  fractions: SplitFractions;
  generation: GenerationInfo;
  labels?: Manifest["labels"];
}

const sameFractions = (a: SplitFractions, b: SplitFractions) =>
  Math.abs(a.train - b.train) < 1e-9 && Math.abs(a.val - b.val) < 1e-9 && Math.abs(a.test - b.test) < 1e-9;

/** Creates the manifest of a new dataset, or checks a rerun against the existing one (same kind, seed and
 * split fractions, or the finished images would land in other splits than new ones). */
export async function openDataset(dir: string, o: OpenDatasetOptions): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  const now = new Date().toISOString();
  let existing: Manifest | undefined;
  try {
    await access(path);
    existing = await readManifest(dir);
  } catch (err) {
    if (err instanceof GearSegError) throw err;
  }
  if (existing) {
    if (existing.kind !== o.kind) throw new UsageError(`"${dir}" holds a ${existing.kind} dataset; use another folder for ${o.kind} data`);
    if (existing.splits.seed !== o.seed || !sameFractions(existing.splits.fractions, o.fractions)) {
      throw new UsageError(
        `"${dir}" was generated with seed ${existing.splits.seed} and splits ${fmt(existing.splits.fractions)}; resume with the same --seed and --splits, or use a new folder`,
      );
    }
    if (o.labels && existing.labels && existing.labels.keyword !== o.labels.keyword) {
      throw new UsageError(`"${dir}" was labelled for "${existing.labels.keyword}", not "${o.labels.keyword}"; use a new folder`);
    }
    const manifest: Manifest = {
      ...existing,
      images_root: resolve(o.imagesRoot),
      updated: now,
      generation: { ...o.generation, models: existing.generation.models },
      labels: existing.labels ?? o.labels,
    };
    await writeJsonAtomic(path, manifest);
    return manifest;
  }
  const manifest: Manifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    kind: o.kind,
    images_root: resolve(o.imagesRoot),
    created: now,
    updated: now,
    generation: o.generation,
    splits: { seed: o.seed, fractions: o.fractions },
    ...(o.labels && { labels: o.labels }),
    files: {},
    counts: { images: 0, failed: 0, pending: 0, items: 0 },
  };
  await writeJsonAtomic(path, manifest);
  return manifest;
}

function fmt(f: SplitFractions): string {
  return [f.train, f.val, f.test].map((x) => Math.round(x * 1000) / 10).join("/");
}

export const CHART_FILE = "categories.png";

/** Rewrites every summary file from the records; returns the statistics. */
export async function finalizeDataset(dir: string, manifest: Manifest, pending: number): Promise<DatasetStats> {
  const records = await readRecords(dir);
  const done = new Set(records.map((r) => r.image_id));
  const failures = (await readFailures(dir)).filter((f) => !done.has(f.image_id));
  const stats = computeStats(records, failures, Math.max(0, pending - failures.length));
  stats.kind = manifest.kind;
  const files: Record<string, string> = {
    "manifest.json": "this file: what the folder is and how it was made",
    "records/": "one JSON file per finished image (written atomically; a rerun skips these)",
  };
  if (failures.length) files["failures/"] = "one JSON file per image that failed, with the stage and the error (a rerun retries them)";

  const models = new Set(manifest.generation.models);
  for (const r of records) if (r.model) models.add(r.model);

  let bars: { label: string; value: number }[];
  if (manifest.kind === "reasoning") {
    const lines: string[] = [];
    for (const r of records) if (r.kind === "reasoning") for (const item of r.items) lines.push(JSON.stringify(item));
    await writeFileAtomic(join(dir, "items.jsonl"), lines.length ? lines.join("\n") + "\n" : "");
    files["items.jsonl"] = "every item, one JSON record per line: questions, explanation, answer labels, region ids, union mask (COCO RLE), split, generation metadata";
    bars = REASONING_TYPES.map((t) => ({ label: t, value: stats.reasoning_types[t].count }));
  } else {
    const model = await loadDatasetFrom(dir, { ...manifest, generation: { ...manifest.generation, models: [...models] } }, records);
    await writeJsonAtomic(join(dir, "annotations.json"), buildCocoInstances(model, { polygons: false }));
    files["annotations.json"] = "COCO instances (RLE segmentations), every split; the split of each image is in images[].split";
    bars = Object.entries(stats.classes ?? {})
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([label, value]) => ({ label, value }));
  }
  await writeFileAtomic(join(dir, CHART_FILE), await renderBarChartPng(bars, { title: manifest.kind === "reasoning" ? "Base pairs per reasoning type" : "Instances per class" }));
  files[CHART_FILE] = manifest.kind === "reasoning" ? "bar chart of the reasoning types" : "bar chart of the classes";
  files["stats.json"] = "the numbers below, as JSON";
  files["DATASET.md"] = "this summary";

  const updated: Manifest = {
    ...manifest,
    updated: new Date().toISOString(),
    generation: { ...manifest.generation, models: [...models].sort() },
    files,
    counts: {
      images: records.length,
      failed: failures.length,
      pending: stats.images.pending,
      items: stats.base_pairs,
      ...(manifest.kind === "reasoning" && { questions: stats.qa_pairs }),
    },
  };
  await writeJsonAtomic(join(dir, "stats.json"), stats);
  await writeFileAtomic(join(dir, "DATASET.md"), renderDatasetMarkdown(updated, stats, CHART_FILE));
  await writeJsonAtomic(join(dir, "manifest.json"), updated);
  return stats;
}
