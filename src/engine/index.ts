/** The data engine's public surface (`gear-seg/engine`): dataset generation and labelling (here or through a
 * queue), dataset status and summaries, exports, and the dataset format. */
export { generateDataset, labelImages, type GenerateOptions, type LabelOptions } from "./generate.js";
export { runDatasetPipeline, type DatasetRunOptions, type DatasetRunSummary, type Executor, type ImageJob, type JobHandlers } from "./pipeline.js";
export { localExecutor, type LocalExecutorOptions, type Preparer } from "./local.js";
export { createPreparer, type EnginePreparer } from "./prepare.js";
export { generateTask, labelTask, runTask, taskFingerprint, type DatasetTask, type GenerateTask, type LabelTask } from "./tasks.js";
export { filterReply, type FilterOptions } from "./filters.js";
export { assignSplit, parseSplitFractions, formatSplitFractions } from "./splits.js";
export { architectMessages, PROMPT_VERSION, DEFAULT_PROMPT_TOKENS } from "./prompt.js";
export { listImages, type ImageEntry } from "./images.js";
export { summarizeDataset } from "./summary.js";
export { datasetStatus, importIntoDataset, type DatasetStatus } from "./status.js";
export type { BatchProgress } from "./progress.js";
export type { DatasetStats } from "./stats.js";
export * from "../datasets/gear-seg.js";
