/**
 * `gear-seg/engine`: the data engine — GEAR-131K-style reasoning data from unlabelled images and auto-labelling
 * (here or through a queue), dataset status and summaries, the dataset format, export to standard formats and
 * distillation commands. The LLM it talks to is the shared OpenAI-compatible client (`createJsonChat`).
 */
export { generateDataset, labelImages, type GenerateOptions, type LabelOptions } from "./generate.js";
export { runDatasetPipeline, type DatasetRunOptions, type DatasetRunSummary, type Executor, type ImageJob, type JobHandlers } from "./pipeline.js";
export { localExecutor, type LocalExecutorOptions, type Preparer } from "./local.js";
export { createPreparer, type EnginePreparer } from "./prepare.js";
export { generateTask, labelTask, runTask, taskFingerprint, type DatasetTask, type GenerateTask, type LabelTask } from "./tasks.js";
export { filterReply, type FilterOptions } from "./filters.js";
export { assignSplit, parseSplitFractions, formatSplitFractions } from "./splits.js";
export { listImages, type ImageEntry } from "./images.js";
export { summarizeDataset } from "./summary.js";
export { datasetStatus, importIntoDataset, type DatasetStatus } from "./status.js";
export type { BatchProgress } from "./progress.js";
export type { DatasetStats } from "./stats.js";
export * from "../datasets/gear-seg.js";
export { createJsonChat, jsonChatOptions, type JsonChat, type JsonChatOptions, type JsonReply } from "./llm.js";
export { exportDataset, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from "../export/index.js";
export { distillCommands } from "../export/distill.js";
