/**
 * Building an agent from spec strings. With nothing configured, gear-seg runs the offline default: real
 * algorithms that need no weights (the `classic` segmenter, the `attributes` describer, the `wordnet` reasoner).
 */
import { createDescriber, createReasoner, createSegmenter, type BackendOptions } from "../backends.js";
import { GearSeg, type GearSegOptions } from "./agent.js";
import type { StageCache } from "./stage-cache.js";

export const OFFLINE_DEFAULT = { segmenter: "classic", describer: "attributes", reasoner: "wordnet" } as const;

type StackStage = keyof typeof OFFLINE_DEFAULT;

const OFFLINE_NAMES: Record<StackStage, string> = { segmenter: "classic segmenter", describer: "attributes describer", reasoner: "WordNet reasoner" };
const MODEL_NAMES: Record<StackStage, string> = { segmenter: "SAM 2", describer: "DAM", reasoner: "an LLM" };

/** The notice for the stages that fell back to the offline default, naming those stages only. */
export function offlineDefaultNotice(stages: readonly StackStage[]): string {
  const and = (words: string[]) => (words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words[0] ?? "");
  const names = stages.map((s) => OFFLINE_NAMES[s]).join(", ");
  return `offline default: ${names} (no models) — see README to plug in ${and(stages.map((s) => MODEL_NAMES[s]))}`;
}

export const OFFLINE_DEFAULT_NOTICE = offlineDefaultNotice(["segmenter", "describer", "reasoner"]);

export interface StackSpecs {
  segmenter?: string;
  /** "none": regions only. */
  describer?: string;
  /** "none": no reasoning (describe only). */
  reasoner?: string;
}

export interface StackOptions extends Omit<GearSegOptions, "segmenter" | "describer" | "reasoner"> {
  backendOptions?: { segmenter?: BackendOptions; describer?: BackendOptions; reasoner?: BackendOptions };
  cache?: StageCache | null;
}

export interface Stack {
  agent: GearSeg;
  /** Which stages fell back to the offline default. */
  offlineDefaults: ("segmenter" | "describer" | "reasoner")[];
}

export async function createStack(specs: StackSpecs = {}, options: StackOptions = {}): Promise<Stack> {
  const offlineDefaults: Stack["offlineDefaults"] = [];
  const pick = (stage: keyof StackSpecs) => {
    const given = specs[stage];
    if (given !== undefined) return given;
    offlineDefaults.push(stage);
    return OFFLINE_DEFAULT[stage];
  };
  const segmenterSpec = pick("segmenter");
  const describerSpec = pick("describer");
  const reasonerSpec = pick("reasoner");
  const { backendOptions = {}, ...agentOptions } = options;
  const segmenter = await createSegmenter(segmenterSpec, backendOptions.segmenter);
  const describer = describerSpec === "none" ? null : await createDescriber(describerSpec, backendOptions.describer);
  const reasoner = reasonerSpec === "none" ? null : await createReasoner(reasonerSpec, backendOptions.reasoner);
  return { agent: new GearSeg({ ...agentOptions, segmenter, describer, reasoner }), offlineDefaults };
}
