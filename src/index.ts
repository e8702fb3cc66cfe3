// gear-seg's library API. The CLI (src/cli) is a thin layer over these exports.
export * from "./masks/index.js";
export type { RgbImage } from "./image/types.js";
export * from "./image/index.js";
export * from "./pipeline/types.js";
export { GearSeg } from "./pipeline/agent.js";
export type { GearSegOptions, PreparedImage, SegmentationResult, AskOptions, PrepareTimings } from "./pipeline/agent.js";
export { dropNearDuplicates } from "./pipeline/duplicates.js";
export type { StageCache, CachedDescriptions } from "./pipeline/stage-cache.js";
export { createStack, OFFLINE_DEFAULT, OFFLINE_DEFAULT_NOTICE } from "./pipeline/stack.js";
export type { Stack, StackSpecs, StackOptions } from "./pipeline/stack.js";
export { preparedToJson, resultToJson, toReferenceAnswer, toReferenceDescriptions } from "./pipeline/result.js";
export { writeSegmentationOutputs, writePreparedOutputs } from "./pipeline/outputs.js";
export { createSegmenter, createDescriber, createReasoner, knownBackends } from "./backends.js";
export type { BackendOptions } from "./backends.js";
export { parseSpec } from "./pipeline/spec.js";
export { GearSegError, UsageError } from "./util/errors.js";
