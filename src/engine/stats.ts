/**
 * Dataset statistics (the numbers GEAR-131K reports: images, base pairs, QA pairs, pairs per image, mean query
 * length, the distribution over the five reasoning types, distinct target entities) plus what each filter
 * dropped, and their Markdown rendering for DATASET.md.
 */
import type { FailureRecord, ImageRecord, Manifest } from "./dataset.js";
import { addFilterCounts, emptyFilterCounts, FILTERS, type FilterCounts } from "./filters.js";
import { REASONING_TYPES, type ReasoningType } from "./prompt.js";
import { SPLITS, type Split } from "./splits.js";

export interface DatasetStats {
  kind: "reasoning" | "instances";
  images: { finished: number; failed: number; pending: number; with_items: number };
  base_pairs: number;
  qa_pairs: number;
  base_pairs_per_image: number;
  qa_pairs_per_image: number;
  mean_query_words: number;
  reasoning_types: Record<ReasoningType, { count: number; share: number }>;
  distinct_targets: number;
  top_targets: [string, number][];
  filters: FilterCounts;
  splits: Record<Split, { images: number; items: number }>;
  failures_by_stage: Record<string, number>;
  models: string[];
  tokens: { prompt: number; completion: number; total: number };
  /** Instances datasets: instances per class, parts dropped, unlabelled regions. */
  classes?: Record<string, number>;
  parts_dropped?: number;
  unlabelled_regions?: number;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Normalised target entity: lower case, singular-ish, spaces collapsed. */
function entity(label: string): string {
  const l = label.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, " ").replace(/\s+/g, " ").trim();
  return l.length > 3 && l.endsWith("s") && !l.endsWith("ss") ? l.slice(0, -1) : l;
}

export function computeStats(records: readonly ImageRecord[], failures: readonly FailureRecord[], pending: number): DatasetStats {
  const kind = records[0]?.kind ?? "reasoning";
  const types = Object.fromEntries(REASONING_TYPES.map((t) => [t, { count: 0, share: 0 }])) as DatasetStats["reasoning_types"];
  const splits = Object.fromEntries(SPLITS.map((s) => [s, { images: 0, items: 0 }])) as DatasetStats["splits"];
  const filters = emptyFilterCounts();
  const targets = new Map<string, number>();
  const models = new Set<string>();
  const tokens = { prompt: 0, completion: 0, total: 0 };
  const classes: Record<string, number> = {};
  let basePairs = 0;
  let qaPairs = 0;
  let words = 0;
  let withItems = 0;
  let partsDropped = 0;
  let unlabelled = 0;
  for (const r of records) {
    splits[r.split].images++;
    if (r.model) models.add(r.model);
    tokens.prompt += r.usage?.promptTokens ?? 0;
    tokens.completion += r.usage?.completionTokens ?? 0;
    tokens.total += r.usage?.totalTokens ?? 0;
    if (r.kind === "reasoning") {
      addFilterCounts(filters, r.filters);
      if (r.items.length) withItems++;
      for (const item of r.items) {
        basePairs++;
        splits[r.split].items++;
        types[item.reasoning_type].count++;
        qaPairs += item.questions.length;
        for (const q of item.questions) words += q.split(/\s+/).filter(Boolean).length;
        for (const label of item.answer_labels) {
          const e = entity(label);
          if (e) targets.set(e, (targets.get(e) ?? 0) + 1);
        }
      }
    } else {
      if (r.instances.length) withItems++;
      partsDropped += r.parts_dropped;
      unlabelled += r.unlabelled;
      for (const inst of r.instances) {
        basePairs++;
        splits[r.split].items++;
        classes[inst.category] = (classes[inst.category] ?? 0) + 1;
        const e = entity(inst.category);
        targets.set(e, (targets.get(e) ?? 0) + 1);
      }
    }
  }
  for (const t of REASONING_TYPES) types[t].share = basePairs ? round(types[t].count / basePairs, 4) : 0;
  const failuresByStage: Record<string, number> = {};
  for (const f of failures) failuresByStage[f.stage] = (failuresByStage[f.stage] ?? 0) + 1;
  const n = records.length;
  const stats: DatasetStats = {
    kind,
    images: { finished: n, failed: failures.length, pending, with_items: withItems },
    base_pairs: basePairs,
    qa_pairs: qaPairs,
    base_pairs_per_image: n ? round(basePairs / n) : 0,
    qa_pairs_per_image: n ? round(qaPairs / n) : 0,
    mean_query_words: qaPairs ? round(words / qaPairs, 2) : 0,
    reasoning_types: types,
    distinct_targets: targets.size,
    top_targets: [...targets.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 20),
    filters,
    splits,
    failures_by_stage: failuresByStage,
    models: [...models].sort(),
    tokens,
  };
  if (kind === "instances") {
    stats.classes = classes;
    stats.parts_dropped = partsDropped;
    stats.unlabelled_regions = unlabelled;
  }
  return stats;
}

/** DATASET.md: what the folder holds, how it was made, and the numbers. */
export function renderDatasetMarkdown(manifest: Manifest, stats: DatasetStats, chartFile: string): string {
  const g = manifest.generation;
  const lines: string[] = [];
  const title = manifest.kind === "reasoning" ? "Reasoning-segmentation dataset" : "Instance-label dataset";
  lines.push(`# ${title}`, "");
  lines.push(`Generated by gear-seg's data engine from \`${manifest.images_root}\`.`, "");
  lines.push("| | |", "|---|---|");
  lines.push(`| segmenter | \`${g.segmenter}\` |`);
  lines.push(`| describer | \`${g.describer ?? "none"}\` |`);
  lines.push(`| LLM | \`${g.llm}\`${g.models.length ? ` (${g.models.join(", ")})` : ""} |`);
  lines.push(`| prompt version | \`${g.prompt_version}\` |`);
  lines.push(`| splits | train ${pct(manifest.splits.fractions.train)} / val ${pct(manifest.splits.fractions.val)} / test ${pct(manifest.splits.fractions.test)}, seed \`${manifest.splits.seed}\` |`);
  lines.push(`| updated | ${manifest.updated} |`, "");
  lines.push("## Size", "");
  lines.push("| images | failed | pending | base pairs | QA pairs | base pairs / image | QA pairs / image | mean query length (words) | distinct targets |");
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  lines.push(
    `| ${stats.images.finished} | ${stats.images.failed} | ${stats.images.pending} | ${stats.base_pairs} | ${stats.qa_pairs} | ${stats.base_pairs_per_image} | ${stats.qa_pairs_per_image} | ${stats.mean_query_words} | ${stats.distinct_targets} |`,
    "",
  );
  lines.push("| split | images | items |", "|---|---:|---:|");
  for (const s of SPLITS) lines.push(`| ${s} | ${stats.splits[s].images} | ${stats.splits[s].items} |`);
  lines.push("");
  if (stats.kind === "reasoning") {
    lines.push("## Reasoning types", "", `![reasoning types](${chartFile})`, "");
    lines.push("| type | base pairs | share |", "|---|---:|---:|");
    for (const t of REASONING_TYPES) lines.push(`| ${t} | ${stats.reasoning_types[t].count} | ${pct(stats.reasoning_types[t].share)} |`);
    lines.push("", "## Filters", "", `The LLM proposed ${stats.filters.proposed} items; the filters dropped:`, "");
    lines.push("| filter | items dropped |", "|---|---:|");
    const what: Record<string, string> = {
      malformed: "malformed (missing or invalid fields; manipulation with fewer than two objects)",
      unknown_ids: "ids that name no region",
      low_confidence: "confidence below the threshold",
      tiny_target: "target union smaller than 1/600 of the image",
      duplicate: "every question repeats an earlier item's",
    };
    for (const f of FILTERS) lines.push(`| ${what[f] ?? f} | ${stats.filters.dropped[f]} |`);
    lines.push("", `Near-duplicate questions removed from kept items: ${stats.filters.duplicate_questions}.`, "");
  } else {
    lines.push("## Classes", "", `![classes](${chartFile})`, "");
    lines.push("| class | instances |", "|---|---:|");
    for (const [c, k] of Object.entries(stats.classes ?? {}).sort((a, b) => b[1] - a[1])) lines.push(`| ${c} | ${k} |`);
    lines.push("", `Parts inside a whole of the same class dropped: ${stats.parts_dropped ?? 0}. Regions left without a class: ${stats.unlabelled_regions ?? 0}.`, "");
  }
  if (stats.top_targets.length) {
    lines.push("## Most frequent targets", "", stats.top_targets.map(([t, k]) => `${t} (${k})`).join(", "), "");
  }
  if (stats.images.failed) {
    lines.push("## Failures", "", "Images that failed are listed in `failures/`; a rerun retries them.", "");
    lines.push("| stage | images |", "|---|---:|");
    for (const [s, k] of Object.entries(stats.failures_by_stage)) lines.push(`| ${s} | ${k} |`);
    lines.push("");
  }
  lines.push("## Files", "");
  for (const [name, what] of Object.entries(manifest.files)) lines.push(`- \`${name}\`: ${what}`);
  lines.push("");
  return lines.join("\n");
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1).replace(/\.0$/, "")} %`;
}
