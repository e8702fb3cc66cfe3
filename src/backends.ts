/**
 * The table of backends, chosen by spec string. Each entry loads its module lazily, so that a run that
 * does not use ONNX Runtime or SQLite never loads them.
 *
 * To add a backend: create src/<stage>s/<name>/index.ts exporting a factory, then add one line here.
 */
import type { Describer, Detector, Reasoner, Segmenter } from "./pipeline/types.js";
import { parseSpec } from "./pipeline/spec.js";
import { UsageError } from "./util/errors.js";

/** Options a backend may take besides its spec argument (from the config file or the library caller). */
export type BackendOptions = Record<string, unknown>;

type Factory<T> = (arg: string, options: BackendOptions, spec: string) => Promise<T>;

const segmenters: Record<string, Factory<Segmenter>> = {
  masks: async (arg, _o, spec) => (await import("./segmenters/masks/index.js")).createMaskFolderSegmenter(arg, spec),
  sam2: async (arg, options, spec) => (await import("./segmenters/sam2/index.js")).createSam2Segmenter(arg, options, spec),
  classic: async (arg, options, spec) => (await import("./segmenters/classic/index.js")).createClassicSegmenter(arg, options, spec),
};

const describers: Record<string, Factory<Describer>> = {
  recorded: async (arg, _o, spec) => (await import("./describers/recorded/index.js")).createRecordedDescriber(arg, spec),
  attributes: async (arg, options, spec) => (await import("./describers/attributes/index.js")).createAttributesDescriber(arg, options, spec),
  dam: async (arg, options, spec) => (await import("./describers/dam/index.js")).createDamDescriber(arg, options, spec),
  "openai-vision": async (arg, options, spec) => (await import("./describers/openai-vision/index.js")).createOpenAiVisionDescriber(arg, options, spec),
};

const reasoners: Record<string, Factory<Reasoner>> = {
  recorded: async (arg, _o, spec) => (await import("./reasoners/recorded/index.js")).createRecordedReasoner(arg, spec),
  wordnet: async (arg, options, spec) => (await import("./reasoners/wordnet/index.js")).createWordnetReasoner(arg, options, spec),
  openai: async (arg, options, spec) => (await import("./reasoners/openai/index.js")).createOpenAiReasoner(arg, options, spec),
  embedding: async (arg, options, spec) => (await import("./reasoners/embedding/index.js")).createEmbeddingReasoner(arg, options, spec),
};

const detectors: Record<string, Factory<Detector>> = {
  nanodet: async (arg, options, spec) => (await import("./detectors/nanodet/index.js")).createNanodetDetector(arg, options, spec),
};

async function build<T>(table: Record<string, Factory<T>>, stage: string, text: string, options: BackendOptions): Promise<T> {
  const spec = parseSpec(text, stage);
  const factory = table[spec.name];
  if (!factory) {
    throw new UsageError(`unknown ${stage} "${spec.name}" in "${text}" (known: ${Object.keys(table).sort().join(", ")})`);
  }
  return factory(spec.arg, options, spec.text);
}

export const createSegmenter = (spec: string, options: BackendOptions = {}) => build(segmenters, "segmenter", spec, options);
export const createDescriber = (spec: string, options: BackendOptions = {}) => build(describers, "describer", spec, options);
export const createReasoner = (spec: string, options: BackendOptions = {}) => build(reasoners, "reasoner", spec, options);
export const createDetector = (spec: string, options: BackendOptions = {}) => build(detectors, "detector", spec, options);

export const knownBackends = () => ({
  segmenters: Object.keys(segmenters).sort(),
  describers: Object.keys(describers).sort(),
  reasoners: Object.keys(reasoners).sort(),
  detectors: Object.keys(detectors).sort(),
});
