/**
 * `gear-seg/engine`: the data engine — GEAR-131K-style reasoning data from unlabelled images, auto-labelling
 * with a given or discovered set of classes, dataset export to standard formats and distillation commands.
 */
export { generateDataset, type GenerateOptions, type GenerateSummary, type Preparer } from "./generate.js";
export { labelImages, type LabelOptions } from "./label.js";
export { createPreparer, type EnginePreparer } from "./prepare.js";
export { createJsonChat, jsonChatOptions, type JsonChat, type JsonChatOptions, type JsonReply } from "./llm.js";
export { filterReply, FILTERS, type FilterCounts, type FilterOptions } from "./filters.js";
export { assignSplit, parseSplitFractions, DEFAULT_SPLITS, type Split, type SplitFractions } from "./splits.js";
export { REASONING_TYPES, type ReasoningType } from "./prompt.js";
export { readManifest, readRecords, listImages, type Manifest, type ReasoningItem, type InstanceLabel, type ImageRecord } from "./dataset.js";
export { finalizeDataset } from "./finalize.js";
export type { DatasetStats } from "./stats.js";
export { exportDataset, importLabelMe, loadDataset, EXPORT_FORMATS, type ExportFormat, type ExportOptions } from "../export/index.js";
export { distillCommands } from "../export/distill.js";
