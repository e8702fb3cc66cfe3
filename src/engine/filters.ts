/**
 * Turning an architect reply into dataset items. Every item the reply proposes either survives or is counted
 * under exactly one filter (the first that drops it, in the order of FILTERS); a bad item never takes the
 * rest of the reply with it.
 */
import { area, emptyRle, merge } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { FILTERS, REASONING_TYPES, type FilterCounts, type FilterName, type ReasoningItem, type ReasoningType } from "../datasets/gear-seg.js";
import { isRecord } from "../util/json.js";

export function emptyFilterCounts(): FilterCounts {
  return {
    proposed: 0,
    dropped: Object.fromEntries(FILTERS.map((f) => [f, 0])) as Record<FilterName, number>,
    duplicate_questions: 0,
  };
}

export function addFilterCounts(into: FilterCounts, other: FilterCounts): void {
  into.proposed += other.proposed;
  into.duplicate_questions += other.duplicate_questions;
  for (const f of FILTERS) into.dropped[f] += other.dropped[f] ?? 0;
}

export interface FilterOptions {
  /** Items below this confidence (0–10) are dropped (GEAR-Seg: 6). */
  minConfidence?: number;
  /** Targets whose union covers less than this share of the image are dropped (GEAR-Seg: 1/600). */
  minAreaFraction?: number;
  /** Two questions whose word sets have at least this Jaccard similarity are near-duplicates. */
  duplicateSimilarity?: number;
  /** Keep at most this many questions per item. */
  questionsPerItem?: number;
  /** Keep at most this many items per image: a hard cap, extra items are counted as over_limit. */
  maxItems?: number;
}

export const DEFAULT_FILTERS: Required<FilterOptions> = {
  minConfidence: 6,
  minAreaFraction: 1 / 600,
  duplicateSimilarity: 0.8,
  questionsPerItem: 5,
  maxItems: 4,
};

/** An item that passed every filter: the record's item fields, with the union of the chosen regions. */
export interface AcceptedItem extends Pick<ReasoningItem, "reasoning_type" | "questions" | "explanation" | "answer_labels" | "region_ids" | "confidence" | "area"> {
  mask: Rle;
}

export interface FilterOutcome {
  items: AcceptedItem[];
  counts: FilterCounts;
  /** One line per dropped item, for the per-image record (why it went). */
  notes: string[];
}

/** The items list of a reply: `{"items": [...]}`, a bare array, or a single item object. */
export function replyItems(reply: unknown): unknown[] | undefined {
  if (Array.isArray(reply)) return reply;
  if (isRecord(reply)) {
    for (const key of ["items", "data", "pairs", "results"]) {
      const v = reply[key];
      if (Array.isArray(v)) return v;
    }
    if ("questions" in reply || "answer_mask_ids" in reply) return [reply];
  }
  return undefined;
}

interface ParsedItem {
  reasoning_type: ReasoningType;
  questions: string[];
  explanation: string;
  answer_labels: string[];
  ids: number[];
  confidence: number;
}

/** Checks the shape of one proposed item; returns the reason when it is malformed. */
export function parseItem(raw: unknown): ParsedItem | string {
  if (!isRecord(raw)) return "not an object";
  const type = typeof raw.reasoning_type === "string" ? raw.reasoning_type.trim().toLowerCase() : undefined;
  if (!type || !(REASONING_TYPES as readonly string[]).includes(type)) return `reasoning_type ${JSON.stringify(raw.reasoning_type)} is not one of ${REASONING_TYPES.join(", ")}`;
  const questions = Array.isArray(raw.questions)
    ? raw.questions.filter((q): q is string => typeof q === "string").map((q) => q.replace(/\s+/g, " ").trim()).filter((q) => q.length > 0)
    : [];
  if (questions.length === 0) return "no questions";
  if (typeof raw.explanation !== "string" || !raw.explanation.trim()) return "no explanation";
  const idsRaw = raw.answer_mask_ids ?? raw.mask_ids;
  if (!Array.isArray(idsRaw) || idsRaw.length === 0) return "no answer_mask_ids";
  const ids: number[] = [];
  for (const v of idsRaw) {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0) return `answer_mask_ids holds ${JSON.stringify(v)}, not a region number`;
    if (!ids.includes(n)) ids.push(n);
  }
  const conf = typeof raw.confidence === "number" ? raw.confidence : typeof raw.confidence === "string" ? Number(raw.confidence) : NaN;
  if (!Number.isFinite(conf) || conf < 0 || conf > 10) return `confidence ${JSON.stringify(raw.confidence)} is not a number from 0 to 10`;
  const labels = Array.isArray(raw.answer_labels)
    ? raw.answer_labels.filter((l): l is string => typeof l === "string").map((l) => l.trim()).filter(Boolean)
    : typeof raw.answer_labels === "string" && raw.answer_labels.trim()
      ? [raw.answer_labels.trim()]
      : [];
  if (labels.length === 0) return "no answer_labels";
  if (type === "manipulation" && ids.length < 2) return "a manipulation item needs two or more objects";
  return {
    reasoning_type: type as ReasoningType,
    questions,
    explanation: raw.explanation.replace(/\s+/g, " ").trim(),
    answer_labels: labels,
    ids,
    confidence: conf,
  };
}

/** Lower case, punctuation removed, whitespace collapsed. */
export function normalizeQuestion(q: string): string {
  return q
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Jaccard similarity of the two questions' word sets (1 for equal normalised text). */
export function questionSimilarity(a: string, b: string): number {
  const na = normalizeQuestion(a);
  const nb = normalizeQuestion(b);
  if (na === nb) return 1;
  const sa = new Set(na.split(" "));
  const sb = new Set(nb.split(" "));
  let inter = 0;
  for (const w of sa) if (sb.has(w)) inter++;
  const union = sa.size + sb.size - inter;
  return union === 0 ? 1 : inter / union;
}

/**
 * Applies the filters to one reply. `regions` maps region id → mask; the image size sets the area threshold.
 */
export function filterReply(
  reply: unknown,
  regions: ReadonlyMap<number, Rle>,
  imageWidth: number,
  imageHeight: number,
  options: FilterOptions = {},
): FilterOutcome {
  const opt = { ...DEFAULT_FILTERS, ...options };
  const counts = emptyFilterCounts();
  const notes: string[] = [];
  const items: AcceptedItem[] = [];
  const raws = replyItems(reply);
  if (!raws) {
    // The reply is JSON but holds no list of items: one malformed proposal.
    counts.proposed = 1;
    counts.dropped.malformed = 1;
    notes.push("malformed: the reply holds no items list");
    return { items, counts, notes };
  }
  const kept: string[] = [];
  const targets = new Set<string>();
  const minArea = opt.minAreaFraction * imageWidth * imageHeight;
  raws.forEach((raw, index) => {
    counts.proposed++;
    const drop = (filter: FilterName, why: string) => {
      counts.dropped[filter]++;
      notes.push(`item ${index}: ${filter}: ${why}`);
    };
    const item = parseItem(raw);
    if (typeof item === "string") return drop("malformed", item);
    const unknown = item.ids.filter((id) => !regions.has(id));
    if (unknown.length) return drop("unknown_ids", `no region ${unknown.join(", ")}`);
    if (item.confidence < opt.minConfidence) return drop("low_confidence", `confidence ${item.confidence} < ${opt.minConfidence}`);
    const masks = item.ids.map((id) => regions.get(id)!);
    const mask = masks.length === 1 ? masks[0]! : masks.length ? merge(masks, false) : emptyRle(imageHeight, imageWidth);
    const a = area(mask);
    if (a < minArea) return drop("tiny_target", `union covers ${a} px < ${minArea.toFixed(1)} (1/${Math.round(1 / opt.minAreaFraction)} of the image)`);
    // Questions that repeat one already kept (in this item or an earlier one) are removed.
    const questions: string[] = [];
    let removed = 0;
    for (const q of item.questions) {
      const dup = [...kept, ...questions].some((k) => questionSimilarity(k, q) >= opt.duplicateSimilarity);
      if (dup) removed++;
      else if (questions.length < opt.questionsPerItem) questions.push(q);
    }
    if (questions.length === 0) return drop("duplicate", "every question repeats an earlier item's");
    // The same type asked about the same target is one base pair counted twice (ultralytics would also drop
    // the repeated rows): the first one stays.
    const target = `${item.reasoning_type}:${[...item.ids].sort((x, y) => x - y).join(",")}`;
    if (targets.has(target)) return drop("same_target", `another ${item.reasoning_type} item already answers with regions ${item.ids.join(", ")}`);
    if (items.length >= opt.maxItems) return drop("over_limit", `more than ${opt.maxItems} items for one image`);
    targets.add(target);
    counts.duplicate_questions += removed;
    kept.push(...questions);
    items.push({
      reasoning_type: item.reasoning_type,
      questions,
      explanation: item.explanation,
      answer_labels: item.answer_labels,
      region_ids: item.ids,
      confidence: item.confidence,
      mask,
      area: a,
    });
  });
  return { items, counts, notes };
}
