/**
 * `gear-seg`: the agent, the stacks that build it, the ports a backend implements, the config file, results.
 * The other entry points: `gear-seg/masks` (COCO RLE algebra), `gear-seg/image` (decode, encode, pictures),
 * `gear-seg/eval` (metrics and dataset loaders), `gear-seg/engine` (the data engine and dataset export).
 * The CLI (src/cli) is a thin layer over these.
 */
// The ports, and the types they speak in.
export * from "./pipeline/types.js";
export type { BBox, Rle } from "./masks/types.js";
export type { RgbImage } from "./image/types.js";

// The agent.
export { GearSeg } from "./pipeline/agent.js";
export type { AgentConfiguration, AgentEvents, AgentStage, AskOptions, GearSegOptions, PreparedImage, PrepareTimings, SegmentationResult } from "./pipeline/agent.js";
export type { CachedImage, StageCache } from "./pipeline/stage-cache.js";
export { preparedToJson, resultToJson, toReferenceAnswer, toReferenceDescriptions } from "./pipeline/result.js";
export { writePreparedOutputs, writeSegmentationOutputs } from "./pipeline/outputs.js";

// Building it: backends by spec string, stacks, the config file, the doctor.
export { BACKENDS, backendOptionsSchema, createBackend, knownBackends } from "./stack/registry.js";
export type { BackendOptions, BackendOptionsMap, BackendSource } from "./stack/registry.js";
export { companionCaptioner, createStack, OFFLINE_DEFAULT, OFFLINE_DEFAULT_NOTICE, offlineDefaultNotice } from "./stack/stack.js";
export type { Stack, StackOptions, StackSpecs } from "./stack/stack.js";
export { createConfiguredStack, type ConfiguredStackOptions } from "./stack/configured.js";
export { formatDoctorTable, runDoctor, type DoctorRow } from "./stack/doctor.js";
export { configSchema, loadConfig, resolveStage, validateConfig, type BackendEntry, type ConfigFile, type GearSegConfig } from "./config/index.js";
export { parseSpec, type BackendSpec } from "./pipeline/spec.js";

// The stage cache and the model store under $GEAR_SEG_HOME.
export { defaultCachePath, gearSegHome, SqliteStageCache, type CacheStats } from "./cache/sqlite-cache.js";
export { findModel, KNOWN_MODELS, type KnownModel } from "./models/registry.js";
export { modelDir, modelStatus, pullModel, pulledModelFiles, type ModelStatus, type PullOptions } from "./models/store.js";

// Running the agent over a benchmark.
export { runReasonSeg, type RunOptions, type RunSummary } from "./eval/run.js";
export { writeReasonReport, type ReportOptions, type RunReport } from "./eval/report.js";

export { GearSegError, UsageError } from "./util/errors.js";
