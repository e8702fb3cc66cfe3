/**
 * `gear-seg/eval`: the metrics (LISA's gIoU/cIoU, LLM-Seg's ncIoU, COCOeval equal to pycocotools, instance
 * grading, cascading-error analysis) and the dataset loaders they read. Loads neither sharp nor ONNX Runtime:
 * image headers are read through sharp only when a loader needs one. Running the agent over a dataset
 * (`runReasonSeg`, `writeReasonReport`) is in `gear-seg`.
 */
export { evaluateReasonFolder, reasonQueries, type ReasonEvalReport, type ReasonEvalOptions, type ReasonQuery } from "./reason-eval.js";
export { reasonCounts, sampleIou, scoreReasonSample, summarizeReason, type ReasonCounts, type ReasonMetrics, type ReasonSampleScore } from "./reason.js";
export {
  cocoAccumulate,
  cocoEvaluate,
  cocoSummarize,
  evaluateCoco,
  formatCocoSummary,
  resolveCocoParams,
  STAT_NAMES,
  type CategoryAp,
  type CocoEvalParams,
  type CocoEvalResult,
  type CocoEvaluation,
  type EvaluateOptions,
  type IouType,
} from "./cocoeval.js";
export { gradeInstances, gradingImagesFromCoco, matchInstances, type GradedInstance, type GradingImage, type GradingReport } from "./grading.js";
export { analyseSample, oracleIou, summarizeErrors, type ErrorSample, type ErrorSummary } from "./errors.js";
export { evaluateErrorsFolder, type ErrorsEvalOptions, type ErrorsReport } from "./errors-eval.js";
export { loadReasonSeg, rasterizeReasonSeg, reasonSegGroundTruth, type ReasonSegSample } from "../datasets/reasonseg.js";
export { annotationRle, loadCocoGroundTruth, loadCocoResults, parseCocoGroundTruth, parseCocoResults, type CocoIndex } from "../datasets/coco.js";
export { loadYoloSegmentation } from "../datasets/yolo.js";
export { loadStrawDI, readInstanceLabelPng } from "../datasets/strawdi.js";
export { loadLabelMe, loadLabelMeFile } from "../datasets/labelme.js";
export { loadLlmSeg40k, loadMmr, loadMuse, type ReasoningSample } from "../datasets/reasoning-json.js";
export type { Instance, InstanceImage } from "../datasets/instances.js";
export { fillPoly, polylines } from "../datasets/raster.js";
