/**
 * `engine generate` and `label` as library calls: unlabelled images → a reasoning-segmentation dataset
 * (GEAR-131K style: per image the agent's preparation, one "dataset architect" LLM call, the filters, one
 * record) or an instances dataset (auto-labelling). Both are the shared pipeline (pipeline.ts) with their
 * task (tasks.ts); the work runs here or, with a queue executor, on workers.
 */
import type { SplitFractions } from "../datasets/gear-seg.js";
import type { FilterOptions } from "./filters.js";
import type { JsonChat } from "./llm.js";
import { localExecutor, type Preparer } from "./local.js";
import { runDatasetPipeline, type DatasetRunOptions, type DatasetRunSummary, type Executor } from "./pipeline.js";
import type { BatchProgress } from "./progress.js";
import { generateTask, labelTask } from "./tasks.js";

interface CommonOptions {
  imagesDir: string;
  outDir: string;
  /** Who does the work; default: this process, with `prepare` and `llm`. */
  executor?: Executor;
  prepare?: Preparer;
  llm?: JsonChat;
  segmenterSpec?: string;
  describerSpec?: string | null;
  /** Images in flight (local executor). Default 2. */
  concurrency?: number;
  seed?: string | number;
  splits?: SplitFractions;
  limit?: number;
  /** Prompt budget in (estimated) tokens: the smallest regions are left out beyond it. */
  promptTokens?: number;
  maxAttempts?: number;
  retryFailed?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  onNotice?: (line: string) => void;
}

export interface GenerateOptions extends CommonOptions {
  /** At most this many items per image (1–4, default 4): a hard cap. */
  maxItems?: number;
  filters?: FilterOptions;
}

export interface LabelOptions extends CommonOptions {
  keyword: string;
  /** Given classes; absent = open-ended discovery. */
  classes?: string[];
  /** Share of a region's area inside a larger same-class region that makes it a part (default 0.9). */
  partInside?: number;
  /** Labelled by the executor's detector from its own classes, without an LLM. */
  byDetector?: boolean;
}

function executorOf(o: CommonOptions): Executor {
  if (o.executor) return o.executor;
  if (!o.prepare || !o.llm) throw new TypeError("give an executor, or prepare and llm");
  return localExecutor({ prepare: o.prepare, llm: o.llm, segmenter: o.segmenterSpec ?? "unknown", describer: o.describerSpec ?? null, concurrency: o.concurrency });
}

function pipelineOptions(o: CommonOptions): Omit<DatasetRunOptions, "task"> {
  return {
    imagesDir: o.imagesDir,
    outDir: o.outDir,
    executor: executorOf(o),
    seed: o.seed,
    splits: o.splits,
    limit: o.limit,
    maxAttempts: o.maxAttempts,
    retryFailed: o.retryFailed,
    signal: o.signal,
    onProgress: o.onProgress,
    onNotice: o.onNotice,
  };
}

export function generateDataset(options: GenerateOptions): Promise<DatasetRunSummary> {
  const filters = { ...options.filters, ...(options.maxItems !== undefined && { maxItems: options.maxItems }) };
  return runDatasetPipeline({ ...pipelineOptions(options), task: generateTask({ filters, promptTokens: options.promptTokens }) });
}

export function labelImages(options: LabelOptions): Promise<DatasetRunSummary> {
  return runDatasetPipeline({
    ...pipelineOptions(options),
    task: labelTask({ keyword: options.keyword, classes: options.classes, partInside: options.partInside, promptTokens: options.promptTokens, byDetector: options.byDetector }),
  });
}
