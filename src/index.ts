// gear-seg's library API. The CLI (src/cli) is a thin layer over these exports.
export * from "./masks/index.js";
export type { RgbImage } from "./image/types.js";
export * from "./image/index.js";
export * from "./pipeline/types.js";
export { GearSeg } from "./pipeline/agent.js";
export type { GearSegOptions, PreparedImage, SegmentationResult, AskOptions, PrepareTimings } from "./pipeline/agent.js";
export { dropNearDuplicates } from "./pipeline/duplicates.js";
export type { StageCache, CachedImage } from "./pipeline/stage-cache.js";
export { createStack, OFFLINE_DEFAULT, OFFLINE_DEFAULT_NOTICE, offlineDefaultNotice } from "./stack/stack.js";
export type { Stack, StackSpecs, StackOptions } from "./stack/stack.js";
export { preparedToJson, resultToJson, toReferenceAnswer, toReferenceDescriptions } from "./pipeline/result.js";
export { writeSegmentationOutputs, writePreparedOutputs } from "./pipeline/outputs.js";
export { createBackend, knownBackends, backendOptionsSchema } from "./stack/registry.js";
export type { BackendOptions, BackendOptionsMap } from "./stack/registry.js";
export { parseSpec } from "./pipeline/spec.js";
export { GearSegError, UsageError } from "./util/errors.js";
export { evaluateReasonFolder, reasonQueries, type ReasonEvalReport } from "./eval/reason-eval.js";
export { reasonCounts, sampleIou, scoreReasonSample, summarizeReason, type ReasonMetrics, type ReasonSampleScore } from "./eval/reason.js";
export { evaluateCoco, formatCocoSummary, STAT_NAMES, type CocoEvalResult, type IouType } from "./eval/cocoeval.js";
export { cocoAccumulate, cocoEvaluate, cocoSummarize, resolveCocoParams, type CocoEvalParams, type CocoEvaluation, type EvaluateOptions } from "./eval/cocoeval.js";
export { gradeInstances, matchInstances, type GradingReport } from "./eval/grading.js";
export { analyseSample, oracleIou, summarizeErrors, type ErrorSample, type ErrorSummary } from "./eval/errors.js";
export { evaluateErrorsFolder } from "./eval/errors-eval.js";
export { runReasonSeg } from "./eval/run.js";
export { writeReasonReport } from "./eval/report.js";
export { loadReasonSeg, rasterizeReasonSeg, reasonSegGroundTruth, type ReasonSegSample } from "./datasets/reasonseg.js";
export { loadCocoGroundTruth, loadCocoResults, parseCocoGroundTruth, parseCocoResults, type CocoIndex } from "./datasets/coco.js";
export { loadYoloSegmentation } from "./datasets/yolo.js";
export { loadStrawDI, readInstanceLabelPng } from "./datasets/strawdi.js";
export { loadLabelMe, loadLabelMeFile } from "./datasets/labelme.js";
export { loadLlmSeg40k, loadMmr, loadMuse, type ReasoningSample } from "./datasets/reasoning-json.js";
export { fillPoly, polylines } from "./datasets/raster.js";
export {
  generateDataset,
  labelImages,
  createPreparer,
  filterReply,
  assignSplit,
  parseSplitFractions,
  architectMessages,
  PROMPT_VERSION,
  listImages,
  summarizeDataset,
  readManifest,
  eachRecord,
  FILTERS,
  DEFAULT_SPLITS,
  REASONING_TYPES,
  type GenerateOptions,
  type LabelOptions,
  type DatasetRunSummary,
  type Preparer,
  type EnginePreparer,
  type FilterCounts,
  type FilterOptions,
  type Split,
  type SplitFractions,
  type ReasoningType,
  type Manifest,
  type ReasoningItem,
  type InstanceLabel,
  type ImageRecord,
  type DatasetStats,
} from "./engine/index.js";
export { createJsonChat, jsonChatOptions, type JsonChat, type JsonReply } from "./engine/llm.js";
export { exportDataset, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from "./export/index.js";
export { distillCommands } from "./export/distill.js";
export { SqliteStageCache, defaultCachePath, gearSegHome } from "./cache/sqlite-cache.js";
export type { CacheStats } from "./cache/sqlite-cache.js";
export { loadConfig, validateConfig, resolveStage } from "./config/index.js";
export type { GearSegConfig, BackendEntry } from "./config/index.js";
export { createConfiguredStack } from "./stack/configured.js";
export type { ConfiguredStackOptions } from "./stack/configured.js";
export { runDoctor, formatDoctorTable } from "./stack/doctor.js";
export type { DoctorRow } from "./stack/doctor.js";
export { HttpClient, HttpError } from "./net/http.js";
export type { HttpClientOptions } from "./net/http.js";
export { KNOWN_MODELS, findModel, type KnownModel } from "./models/registry.js";
export { pullModel, pulledModelFiles, modelDir, modelStatus, type PullOptions, type ModelStatus } from "./models/store.js";
export { generateMasks, emptyTimings, type PromptModel, type GeneratorTimings, type GenerateOptions as AmgGenerateOptions } from "./segmenters/sam2/generator.js";
export { resolveAmgParams, AMG_PRESETS, SAM2_DEFAULT, GEAR_SEG_PRESET, type AmgParams } from "./segmenters/sam2/params.js";
