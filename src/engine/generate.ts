/**
 * `engine generate`: unlabelled images → a reasoning-segmentation dataset (GEAR-131K style). Per image: the
 * agent's preparation (regions, descriptions, scene caption; cached by the agent's stage cache), one
 * "dataset architect" LLM call, the filters, one atomic record. See batch.ts for crash safety.
 */
import { toBbox, toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import type { PreparedImage } from "../pipeline/agent.js";
import { UsageError } from "../util/errors.js";
import { runBatch, stage, type BatchProgress, type BatchSummary } from "./batch.js";
import { listImages, type ImageEntry, type ReasoningItem, type ReasoningRecord } from "./dataset.js";
import { filterReply, type FilterOptions } from "./filters.js";
import { finalizeDataset, openDataset } from "./finalize.js";
import type { JsonChat } from "./llm.js";
import { architectMessages, PROMPT_VERSION } from "./prompt.js";
import { assignSplit, DEFAULT_SPLITS, type SplitFractions } from "./splits.js";
import type { DatasetStats } from "./stats.js";

/** Regions, descriptions and caption of one image (normally `agent.prepare`). */
export type Preparer = (entry: ImageEntry, signal: AbortSignal) => Promise<PreparedImage>;

export interface GenerateOptions {
  imagesDir: string;
  outDir: string;
  prepare: Preparer;
  llm: JsonChat;
  /** Recorded in the manifest and every item. */
  segmenterSpec: string;
  describerSpec: string | null;
  seed?: string | number;
  splits?: SplitFractions;
  /** Images in flight (describer and LLM calls overlap across images). Default 2. */
  concurrency?: number;
  /** At most this many items per image (1–4, default 4). */
  maxItems?: number;
  filters?: FilterOptions;
  /** Only the first N images (sorted by path). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
}

export interface GenerateSummary extends BatchSummary {
  stats: DatasetStats;
  outDir: string;
}

export async function generateDataset(options: GenerateOptions): Promise<GenerateSummary> {
  const maxItems = options.maxItems ?? 4;
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 4) throw new UsageError(`--max-items must be 1 to 4, got ${maxItems}`);
  let images = await listImages(options.imagesDir);
  if (options.limit !== undefined) images = images.slice(0, options.limit);
  const seed = String(options.seed ?? 0);
  const fractions = options.splits ?? DEFAULT_SPLITS;
  const manifest = await openDataset(options.outDir, {
    kind: "reasoning",
    imagesRoot: options.imagesDir,
    seed,
    fractions,
    generation: {
      segmenter: options.segmenterSpec,
      describer: options.describerSpec,
      llm: options.llm.spec,
      models: [],
      prompt_version: PROMPT_VERSION,
    },
  });

  const summary = await runBatch({
    outDir: options.outDir,
    images,
    concurrency: options.concurrency,
    signal: options.signal,
    onProgress: options.onProgress,
    process: async (entry, signal) => {
      const prepared = await stage("prepare", () => options.prepare(entry, signal));
      const split = assignSplit(entry.id, seed, fractions);
      const base = {
        kind: "reasoning" as const,
        image_id: entry.id,
        image: entry.rel,
        width: prepared.width,
        height: prepared.height,
        split,
        regions: prepared.regions.length,
      };
      if (prepared.regions.length === 0) {
        return { ...base, model: null, items: [], filters: filterReply({ items: [] }, new Map(), 1, 1).counts, notes: ["no regions: nothing to ask about"], finished: new Date().toISOString() };
      }
      const messages = architectMessages({
        scene: prepared.scene,
        regions: prepared.regions.map((r, i) => ({ id: r.id, description: prepared.descriptions[i] ?? "", bbox: r.bbox, area: r.area })),
        imageWidth: prepared.width,
        imageHeight: prepared.height,
        maxItems,
      });
      const reply = await stage("llm", () => options.llm.chatJson(messages, { signal }));
      const masks = new Map<number, Rle>(prepared.regions.map((r) => [r.id, r.rle]));
      const outcome = filterReply(reply.value, masks, prepared.width, prepared.height, options.filters);
      // More items than asked for: the extra ones are kept (they passed every filter); the prompt's limit is a
      // request, not a rule the data depends on.
      const model = reply.model ?? null;
      const items: ReasoningItem[] = outcome.items.map((item, k) => ({
        id: `${entry.id}#${k}`,
        image_id: entry.id,
        image: entry.rel,
        width: prepared.width,
        height: prepared.height,
        split,
        reasoning_type: item.reasoning_type,
        questions: item.questions,
        explanation: item.explanation,
        answer_labels: item.answer_labels,
        region_ids: item.region_ids,
        confidence: item.confidence,
        mask: toCocoRle(item.mask),
        area: item.area,
        bbox: toBbox(item.mask),
        generation: {
          segmenter: options.segmenterSpec,
          describer: options.describerSpec,
          llm: options.llm.spec,
          model,
          prompt_version: PROMPT_VERSION,
        },
      }));
      const record: ReasoningRecord = {
        ...base,
        model,
        usage: reply.usage,
        items,
        filters: outcome.counts,
        notes: outcome.notes,
        finished: new Date().toISOString(),
      };
      return record;
    },
  });
  const stats = await finalizeDataset(options.outDir, manifest, summary.pending);
  return { ...summary, stats, outDir: options.outDir };
}
