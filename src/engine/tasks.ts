/**
 * The per-image work of the data engine, one function for both kinds of dataset: given an image's regions,
 * descriptions and caption (the agent's preparation) and an LLM, produce its record. `engine generate`
 * (reasoning items) and `label` (instances) differ only here; everything else (listing, splits, records,
 * failures, resuming, the queue) is the shared pipeline in pipeline.ts. A task is plain data so that a queue
 * worker on another machine can run the same work from a job.
 */
import { createHash } from "node:crypto";
import { toBbox, toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import type { PreparedImage } from "../pipeline/agent.js";
import type { ImageRecord, InstanceLabel, InstancesRecord, ReasoningItem, ReasoningRecord, Split } from "../datasets/gear-seg.js";
import type { Detector } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";
import { runDetectorLabel } from "./detector-label.js";
import { stage } from "./failures.js";
import { DEFAULT_FILTERS, filterReply, emptyFilterCounts, type FilterOptions } from "./filters.js";
import { dropPartsInsideWholes, labelMessages, LABEL_PROMPT_VERSION, normalizeClass, parseLabelReply } from "./label.js";
import type { JsonChat } from "./llm.js";
import { architectMessages, DEFAULT_PROMPT_TOKENS, fitPrompt, PROMPT_VERSION } from "./prompt.js";

export interface GenerateTask {
  kind: "reasoning";
  filters: Required<FilterOptions>;
  promptTokens: number;
}

export interface LabelTask {
  kind: "instances";
  keyword: string;
  /** Given classes; absent = open-ended discovery. */
  classes?: string[];
  /** Share of a region's area inside a larger same-class region that makes it a part. */
  partInside: number;
  promptTokens: number;
  /** Labelled by the executor's detector, from its own classes, instead of an LLM (./detector-label.ts). */
  byDetector?: boolean;
}

export type DatasetTask = GenerateTask | LabelTask;

export function generateTask(options: { filters?: FilterOptions; promptTokens?: number } = {}): GenerateTask {
  return { kind: "reasoning", filters: { ...DEFAULT_FILTERS, ...options.filters }, promptTokens: options.promptTokens ?? DEFAULT_PROMPT_TOKENS };
}

export function labelTask(options: { keyword: string; classes?: string[]; partInside?: number; promptTokens?: number; byDetector?: boolean }): LabelTask {
  const classes = options.classes?.map(normalizeClass).filter(Boolean);
  return {
    kind: "instances",
    keyword: options.keyword.trim(),
    ...(classes && classes.length > 0 && { classes }),
    partInside: options.partInside ?? 0.9,
    promptTokens: options.promptTokens ?? DEFAULT_PROMPT_TOKENS,
    ...(options.byDetector && { byDetector: true }),
  };
}

export const taskPromptVersion = (task: DatasetTask) => (task.kind === "reasoning" ? PROMPT_VERSION : LABEL_PROMPT_VERSION);

/** Everything that shapes a task's answer, hashed: with the image content it names a queue job. */
export function taskFingerprint(task: DatasetTask): string {
  return createHash("sha256").update(JSON.stringify({ task, prompt: taskPromptVersion(task) })).digest("hex").slice(0, 16);
}

/** Who an image is in its dataset; the rest of a record does not depend on it. */
export interface ImageIdentity {
  image_id: string;
  image: string;
  root: number;
  image_sha256: string;
  split: Split;
}

/** The backends that produced a record (a queue worker's own, or this process's). */
export interface TaskBackends {
  segmenter: string;
  describer: string | null;
  llm: string;
}

/** Runs `task` on one prepared image. Throws a StageFailure("llm", ...) when the LLM call fails. */
export async function runTask(
  task: DatasetTask,
  prepared: PreparedImage,
  llm: JsonChat | null,
  identity: ImageIdentity,
  backends: TaskBackends,
  signal?: AbortSignal,
  detector?: Detector,
): Promise<ImageRecord> {
  if (task.kind === "instances" && task.byDetector) return runDetectorLabel(task, prepared, detector, identity);
  if (!llm) throw new GearSegError(`a ${task.kind === "reasoning" ? "reasoning" : "labelling"} task needs an LLM, and this executor has none`);
  return task.kind === "reasoning" ? runGenerate(task, prepared, llm, identity, backends, signal) : runLabel(task, prepared, llm, identity, signal);
}

/** The same record for another image with the same content (a queue job serves every copy). */
export function rebindRecord(record: ImageRecord, identity: ImageIdentity): ImageRecord {
  const id = identity.image_id;
  const base = { ...record, ...identity };
  if (base.kind === "reasoning") {
    return { ...base, items: (record as ReasoningRecord).items.map((it, k) => ({ ...it, id: `${id}#${k}`, image_id: id, image: identity.image, split: identity.split })) };
  }
  return { ...base, instances: (record as InstancesRecord).instances.map((inst) => ({ ...inst, id: `${id}#${inst.region_id}` })) };
}

const budgetNote = (ids: number[], budget: number) => `prompt budget ${budget} tokens: the ${ids.length} smallest regions were left out (${ids.join(", ")})`;

async function runGenerate(task: GenerateTask, prepared: PreparedImage, llm: JsonChat, identity: ImageIdentity, backends: TaskBackends, signal?: AbortSignal): Promise<ReasoningRecord> {
  const base = { kind: "reasoning" as const, ...identity, width: prepared.width, height: prepared.height, regions: prepared.regions.length };
  if (prepared.regions.length === 0) {
    return { ...base, model: null, items: [], filters: emptyFilterCounts(), notes: ["no regions: nothing to ask about"], finished: new Date().toISOString() };
  }
  const facts = prepared.regions.map((r, i) => ({ id: r.id, description: prepared.descriptions[i] ?? "", bbox: r.bbox, area: r.area }));
  const { messages, droppedIds } = fitPrompt(
    facts,
    (regions) => architectMessages({ scene: prepared.scene, regions, imageWidth: prepared.width, imageHeight: prepared.height, maxItems: task.filters.maxItems }),
    task.promptTokens,
  );
  const reply = await stage("llm", () => llm.chatJson(messages, { signal }));
  // Regions left out of the prompt cannot be answered with: the filters treat their ids as unknown.
  const offered = new Set(droppedIds);
  const masks = new Map<number, Rle>(prepared.regions.filter((r) => !offered.has(r.id)).map((r) => [r.id, r.rle]));
  const outcome = filterReply(reply.value, masks, prepared.width, prepared.height, task.filters);
  const model = reply.model ?? null;
  const items: ReasoningItem[] = outcome.items.map((item, k) => ({
    id: `${identity.image_id}#${k}`,
    image_id: identity.image_id,
    image: identity.image,
    width: prepared.width,
    height: prepared.height,
    split: identity.split,
    reasoning_type: item.reasoning_type,
    questions: item.questions,
    explanation: item.explanation,
    answer_labels: item.answer_labels,
    region_ids: item.region_ids,
    confidence: item.confidence,
    mask: toCocoRle(item.mask),
    area: item.area,
    bbox: toBbox(item.mask),
    generation: { segmenter: backends.segmenter, describer: backends.describer, llm: backends.llm, model, prompt_version: PROMPT_VERSION },
  }));
  const notes = droppedIds.length ? [budgetNote(droppedIds, task.promptTokens), ...outcome.notes] : outcome.notes;
  return { ...base, model, ...(reply.usage && { usage: reply.usage }), items, filters: outcome.counts, notes, finished: new Date().toISOString() };
}

async function runLabel(task: LabelTask, prepared: PreparedImage, llm: JsonChat, identity: ImageIdentity, signal?: AbortSignal): Promise<InstancesRecord> {
  const base = { kind: "instances" as const, ...identity, width: prepared.width, height: prepared.height, regions: prepared.regions.length };
  if (prepared.regions.length === 0) {
    return { ...base, model: null, instances: [], parts_dropped: 0, unlabelled: 0, notes: ["no regions"], finished: new Date().toISOString() };
  }
  const facts = prepared.regions.map((r, i) => ({ id: r.id, description: prepared.descriptions[i] ?? "", area: r.area }));
  const { messages, droppedIds } = fitPrompt(
    facts,
    (regions) => labelMessages({ keyword: task.keyword, classes: task.classes, scene: prepared.scene, regions, imageWidth: prepared.width, imageHeight: prepared.height }),
    task.promptTokens,
  );
  const reply = await stage("llm", () => llm.chatJson(messages, { signal, temperature: 0 }));
  const left = new Set(droppedIds);
  const byId = new Map(prepared.regions.filter((r) => !left.has(r.id)).map((r) => [r.id, r]));
  const { assignments, notes } = parseLabelReply(reply.value, new Set(byId.keys()), task.classes);
  const labelled = assignments.map((a) => ({ region: byId.get(a.id)!, category: a.category, note: a.note }));
  const { kept, dropped } = dropPartsInsideWholes(labelled, task.partInside);
  if (dropped.length) notes.push(`parts inside a whole of the same class dropped: regions ${dropped.join(", ")}`);
  if (droppedIds.length) notes.unshift(budgetNote(droppedIds, task.promptTokens));
  const instances: InstanceLabel[] = (kept as typeof labelled).map((l) => ({
    id: `${identity.image_id}#${l.region.id}`,
    category: l.category,
    region_id: l.region.id,
    ...(l.note && { note: l.note }),
    mask: toCocoRle(l.region.rle),
    area: l.region.area,
    bbox: toBbox(l.region.rle),
  }));
  return {
    ...base,
    model: reply.model ?? null,
    ...(reply.usage && { usage: reply.usage }),
    instances,
    parts_dropped: dropped.length,
    unlabelled: prepared.regions.length - assignments.length,
    notes,
    finished: new Date().toISOString(),
  };
}
