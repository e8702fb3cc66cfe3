/**
 * Dataset statistics (the numbers GEAR-131K reports: images, base pairs, QA pairs, pairs per image, mean query
 * length, the distribution over the five reasoning types, distinct target entities) plus what each filter
 * dropped, and their Markdown rendering for DATASET.md.
 */
import { FILTERS, keptItems, REASONING_TYPES, SPLITS, type FailureRecord, type FilterCounts, type ImageRecord, type Manifest, type ReasoningType, type Split } from "../datasets/gear-seg.js";
import { addFilterCounts, emptyFilterCounts } from "./filters.js";
import { formatSplitFractions } from "./splits.js";

export interface DatasetStats {
  kind: "reasoning" | "instances";
  images: { finished: number; failed: number; parked: number; pending: number; with_items: number };
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
  /** Items (or instances) a reviewer accepted or rejected; rejected ones are left out of every other number. */
  review: { accepted: number; rejected: number };
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

/** What the records add up to (everything but the failures), as the summary state file keeps it: plain JSON. */
export interface RecordTotals {
  kind: DatasetStats["kind"];
  records: number;
  with_items: number;
  base_pairs: number;
  qa_pairs: number;
  words: number;
  parts_dropped: number;
  unlabelled: number;
  reasoning_types: Record<ReasoningType, number>;
  splits: Record<Split, { images: number; items: number }>;
  filters: FilterCounts;
  review: { accepted: number; rejected: number };
  tokens: { prompt: number; completion: number; total: number };
  /** Records per model name (a model leaves the list when its last record goes). */
  models: Record<string, number>;
  classes: Record<string, number>;
  /** Normalised target entity → kept items (or instances) naming it. */
  targets: Record<string, number>;
}

function emptyTotals(kind: DatasetStats["kind"]): RecordTotals {
  return {
    kind,
    records: 0,
    with_items: 0,
    base_pairs: 0,
    qa_pairs: 0,
    words: 0,
    parts_dropped: 0,
    unlabelled: 0,
    reasoning_types: Object.fromEntries(REASONING_TYPES.map((t) => [t, 0])) as Record<ReasoningType, number>,
    splits: Object.fromEntries(SPLITS.map((s) => [s, { images: 0, items: 0 }])) as RecordTotals["splits"],
    filters: emptyFilterCounts(),
    review: { accepted: 0, rejected: 0 },
    tokens: { prompt: 0, completion: 0, total: 0 },
    models: {},
    classes: {},
    targets: {},
  };
}

/** Adds `sign` to a count, dropping the key at zero (a full pass never holds zero counts). */
function bump(counts: Map<string, number>, key: string, sign: number): void {
  const n = (counts.get(key) ?? 0) + sign;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}

/**
 * Statistics folded one record at a time (memory grows with the distinct targets, not with the records), so
 * a dataset of any size is summarised in one streaming pass. A record can also be taken out again
 * (`removeRecord`: exactly what adding it added), and the record totals saved and restored, so that a summary
 * is kept up to date as records are added, replaced and removed (summary-state.ts).
 */
export class StatsAccumulator {
  private kind: DatasetStats["kind"] | undefined;
  private readonly types = new Map<string, number>();
  private readonly splits = Object.fromEntries(SPLITS.map((s) => [s, { images: 0, items: 0 }])) as DatasetStats["splits"];
  private readonly filters = emptyFilterCounts();
  private readonly targets = new Map<string, number>();
  private readonly models = new Map<string, number>();
  private readonly tokens = { prompt: 0, completion: 0, total: 0 };
  private readonly classes = new Map<string, number>();
  private readonly failuresByStage = new Map<string, number>();
  private readonly review = { accepted: 0, rejected: 0 };
  private records = 0;
  private failed = 0;
  private parked = 0;
  private basePairs = 0;
  private qaPairs = 0;
  private words = 0;
  private withItems = 0;
  private partsDropped = 0;
  private unlabelled = 0;

  constructor(kind?: DatasetStats["kind"]) {
    this.kind = kind;
  }

  /** An accumulator holding saved record totals (and no failures). */
  static fromTotals(t: RecordTotals): StatsAccumulator {
    const acc = new StatsAccumulator(t.kind);
    acc.records = t.records;
    acc.withItems = t.with_items;
    acc.basePairs = t.base_pairs;
    acc.qaPairs = t.qa_pairs;
    acc.words = t.words;
    acc.partsDropped = t.parts_dropped;
    acc.unlabelled = t.unlabelled;
    for (const [k, n] of Object.entries(t.reasoning_types)) if (n) acc.types.set(k, n);
    for (const s of SPLITS) acc.splits[s] = { ...t.splits[s] };
    addFilterCounts(acc.filters, t.filters);
    Object.assign(acc.review, t.review);
    Object.assign(acc.tokens, t.tokens);
    for (const [k, n] of Object.entries(t.models)) acc.models.set(k, n);
    for (const [k, n] of Object.entries(t.classes)) acc.classes.set(k, n);
    for (const [k, n] of Object.entries(t.targets)) acc.targets.set(k, n);
    return acc;
  }

  /** The record totals, to save and restore (failures are not part of them). */
  totals(): RecordTotals {
    const t = emptyTotals(this.kind ?? "reasoning");
    t.records = this.records;
    t.with_items = this.withItems;
    t.base_pairs = this.basePairs;
    t.qa_pairs = this.qaPairs;
    t.words = this.words;
    t.parts_dropped = this.partsDropped;
    t.unlabelled = this.unlabelled;
    for (const r of REASONING_TYPES) t.reasoning_types[r] = this.types.get(r) ?? 0;
    t.splits = structuredClone(this.splits);
    addFilterCounts(t.filters, this.filters);
    t.review = { ...this.review };
    t.tokens = { ...this.tokens };
    t.models = Object.fromEntries([...this.models].sort((a, b) => a[0].localeCompare(b[0])));
    t.classes = Object.fromEntries([...this.classes].sort((a, b) => a[0].localeCompare(b[0])));
    t.targets = Object.fromEntries([...this.targets].sort((a, b) => a[0].localeCompare(b[0])));
    return t;
  }

  addRecord(r: ImageRecord): void {
    this.apply(r, 1);
  }

  /** Takes out exactly what `addRecord(r)` put in. */
  removeRecord(r: ImageRecord): void {
    this.apply(r, -1);
  }

  private apply(r: ImageRecord, sign: 1 | -1): void {
    this.kind ??= r.kind;
    this.records += sign;
    this.splits[r.split].images += sign;
    if (r.model) bump(this.models, r.model, sign);
    this.tokens.prompt += sign * (r.usage?.promptTokens ?? 0);
    this.tokens.completion += sign * (r.usage?.completionTokens ?? 0);
    this.tokens.total += sign * (r.usage?.totalTokens ?? 0);
    const all = r.kind === "reasoning" ? r.items : r.instances;
    for (const i of all) if (i.review) this.review[i.review.status] += sign;
    if (r.kind === "reasoning") {
      const f = r.filters;
      this.filters.proposed += sign * f.proposed;
      this.filters.duplicate_questions += sign * f.duplicate_questions;
      for (const name of FILTERS) this.filters.dropped[name] += sign * (f.dropped[name] ?? 0);
      const items = keptItems(r);
      if (items.length) this.withItems += sign;
      for (const item of items) {
        this.basePairs += sign;
        this.splits[r.split].items += sign;
        bump(this.types, item.reasoning_type, sign);
        this.qaPairs += sign * item.questions.length;
        for (const q of item.questions) this.words += sign * q.split(/\s+/).filter(Boolean).length;
        for (const label of item.answer_labels) {
          const e = entity(label);
          if (e) bump(this.targets, e, sign);
        }
      }
    } else {
      const instances = keptItems(r);
      if (instances.length) this.withItems += sign;
      this.partsDropped += sign * r.parts_dropped;
      this.unlabelled += sign * r.unlabelled;
      for (const inst of instances) {
        this.basePairs += sign;
        this.splits[r.split].items += sign;
        bump(this.classes, inst.category, sign);
        bump(this.targets, entity(inst.category), sign);
      }
    }
  }

  addFailure(f: FailureRecord): void {
    this.failed++;
    if (f.parked) this.parked++;
    bump(this.failuresByStage, f.stage, 1);
  }

  /** The statistics. Maps are listed in an order that does not depend on the order records came in (classes by
   * count then name, failure stages by name), so an updated summary and a full pass print alike. */
  finish(pending: number): DatasetStats {
    const kind = this.kind ?? "reasoning";
    const n = this.records;
    const types = Object.fromEntries(REASONING_TYPES.map((t) => {
      const count = this.types.get(t) ?? 0;
      return [t, { count, share: this.basePairs ? round(count / this.basePairs, 4) : 0 }];
    })) as DatasetStats["reasoning_types"];
    const byCount = (a: [string, number], b: [string, number]) => b[1] - a[1] || a[0].localeCompare(b[0]);
    const stats: DatasetStats = {
      kind,
      images: { finished: n, failed: this.failed, parked: this.parked, pending, with_items: this.withItems },
      base_pairs: this.basePairs,
      qa_pairs: this.qaPairs,
      base_pairs_per_image: n ? round(this.basePairs / n) : 0,
      qa_pairs_per_image: n ? round(this.qaPairs / n) : 0,
      mean_query_words: this.qaPairs ? round(this.words / this.qaPairs, 2) : 0,
      reasoning_types: types,
      distinct_targets: this.targets.size,
      top_targets: [...this.targets.entries()].sort(byCount).slice(0, 20),
      filters: structuredClone(this.filters),
      splits: structuredClone(this.splits),
      review: { ...this.review },
      failures_by_stage: Object.fromEntries([...this.failuresByStage].sort((a, b) => a[0].localeCompare(b[0]))),
      models: [...this.models.keys()].sort(),
      tokens: { ...this.tokens },
    };
    if (kind === "instances") {
      stats.classes = Object.fromEntries([...this.classes].sort(byCount));
      stats.parts_dropped = this.partsDropped;
      stats.unlabelled_regions = this.unlabelled;
    }
    return stats;
  }
}

/** Statistics of records held in memory (tests, small datasets). */
export function computeStats(records: readonly ImageRecord[], failures: readonly FailureRecord[], pending: number): DatasetStats {
  const acc = new StatsAccumulator(records[0]?.kind);
  for (const r of records) acc.addRecord(r);
  for (const f of failures) acc.addFailure(f);
  return acc.finish(pending);
}

/** DATASET.md: what the folder holds, how it was made, and the numbers. */
export function renderDatasetMarkdown(manifest: Manifest, stats: DatasetStats, chartFile: string): string {
  const g = manifest.generation;
  const lines: string[] = [];
  const title = manifest.kind === "reasoning" ? "Reasoning-segmentation dataset" : "Instance-label dataset";
  lines.push(`# ${title}`, "");
  lines.push(`Generated by gear-seg's data engine from ${manifest.images_roots.map((r) => `\`${r}\``).join(", ") || "(no images yet)"}.`, "");
  lines.push("| | |", "|---|---|");
  lines.push(`| segmenter | \`${g.segmenter}\` |`);
  lines.push(`| describer | \`${g.describer ?? "none"}\` |`);
  lines.push(`| LLM | \`${g.llm}\`${g.models.length ? ` (${g.models.join(", ")})` : ""} |`);
  lines.push(`| prompt version | \`${g.prompt_version}\` |`);
  lines.push(`| splits | train/val/test ${formatSplitFractions(manifest.splits.fractions)} %, seed \`${manifest.splits.seed}\`, keyed on the image ${manifest.splits.key === "id" ? "id (version 1)" : "content"} |`);
  lines.push(`| updated | ${manifest.updated} |`, "");
  lines.push("## Size", "");
  lines.push("| images | failed (parked) | pending | base pairs | QA pairs | base pairs / image | QA pairs / image | mean query length (words) | distinct targets |");
  lines.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  lines.push(
    `| ${stats.images.finished} | ${stats.images.failed} (${stats.images.parked}) | ${stats.images.pending} | ${stats.base_pairs} | ${stats.qa_pairs} | ${stats.base_pairs_per_image} | ${stats.qa_pairs_per_image} | ${stats.mean_query_words} | ${stats.distinct_targets} |`,
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
      same_target: "same reasoning type and target as an earlier item of the image",
      over_limit: "beyond the per-image item limit",
    };
    for (const f of FILTERS) lines.push(`| ${what[f] ?? f} | ${stats.filters.dropped[f]} |`);
    lines.push("", `Near-duplicate questions removed from kept items: ${stats.filters.duplicate_questions}.`, "");
  } else {
    lines.push("## Classes", "", `![classes](${chartFile})`, "");
    lines.push("| class | instances |", "|---|---:|");
    for (const [c, k] of Object.entries(stats.classes ?? {}).sort((a, b) => b[1] - a[1])) lines.push(`| ${c} | ${k} |`);
    lines.push("", `Parts inside a whole of the same class dropped: ${stats.parts_dropped ?? 0}. Regions left without a class: ${stats.unlabelled_regions ?? 0}.`, "");
  }
  if (stats.review.accepted || stats.review.rejected) {
    lines.push("## Review", "", `Accepted by a reviewer: ${stats.review.accepted}. Rejected (left out of every number above and of every export): ${stats.review.rejected}.`, "");
  }
  if (stats.top_targets.length) {
    lines.push("## Most frequent targets", "", stats.top_targets.map(([t, k]) => `${t} (${k})`).join(", "), "");
  }
  if (stats.images.failed) {
    lines.push("## Failures", "", "Images that failed are listed in `failures/`; a rerun retries them, up to the attempt limit, after which they are parked (`engine status` lists them; `--retry-failed` brings them back).", "");
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
