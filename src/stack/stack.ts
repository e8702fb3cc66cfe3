/**
 * Building an agent from spec strings. With nothing configured, gear-seg runs the offline default: real
 * algorithms that need no weights (the `classic` segmenter, the `attributes` describer, the `wordnet` reasoner).
 *
 * The caption is a stage of its own. When no captioner is chosen, the describer's companion writes it: a
 * describer that can also caption (`attributes`, `recorded:<file>`, `openai-vision:…`) is built a second time
 * as the captioner, with the same spec and options; `dam` cannot caption, so a DAM stack has no caption unless
 * one is chosen (the GEAR-Seg reference used a vision LLM: `openai-vision:<model>@<url>`). `none` turns it off.
 *
 * A detector, when chosen, is built first and once, and handed to every backend through its factory context.
 */
import { GearSeg, type GearSegOptions } from "../pipeline/agent.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import type { BackendKind, Captioner, Describer, Detector, Reasoner, Segmenter } from "../pipeline/types.js";
import { parseSpec } from "../pipeline/spec.js";
import { BACKENDS, createBackend, type BackendOptions, type BackendSource } from "./registry.js";

export const OFFLINE_DEFAULT = { segmenter: "classic", describer: "attributes", reasoner: "wordnet" } as const;

export const OFFLINE_DEFAULT_NOTICE =
  "offline default: classic segmenter, attributes describer, WordNet reasoner (no models) — see README to plug in SAM 2, DAM and an LLM";

export interface StackSpecs {
  segmenter?: string;
  /** "none": regions only. */
  describer?: string;
  /** "none": no caption. Default: the describer's companion (see above). */
  captioner?: string;
  /** "none": no reasoning (describe only). */
  reasoner?: string;
  /** Default: none. */
  detector?: string;
}

export interface StackOptions extends Omit<GearSegOptions, "segmenter" | "describer" | "captioner" | "reasoner"> {
  /** Options per kind, checked against the chosen backend's schema. */
  backendOptions?: Partial<Record<BackendKind, BackendOptions>>;
  /** Where each choice came from (a config file): named in messages, the base of relative paths. */
  sources?: Partial<Record<BackendKind, BackendSource>>;
  cache?: StageCache | null;
}

export interface Stack extends AsyncDisposable {
  agent: GearSeg;
  /** The detector handed to the backends, when one was chosen. */
  detector: Detector | null;
  /** Which stages fell back to the offline default. */
  offlineDefaults: ("segmenter" | "describer" | "reasoner")[];
  /** Closes the agent (its backends and cache) and the detector. */
  close(): Promise<void>;
}

/** The captioner a describer brings along: itself again, when its kind can caption; else none. */
export function companionCaptioner(describerSpec: string): string {
  if (describerSpec === "none") return "none";
  const name = parseSpec(describerSpec, "describer").name;
  return name in BACKENDS.captioner ? describerSpec : "none";
}

export async function createStack(specs: StackSpecs = {}, options: StackOptions = {}): Promise<Stack> {
  const offlineDefaults: Stack["offlineDefaults"] = [];
  const pick = (stage: keyof typeof OFFLINE_DEFAULT) => {
    const given = specs[stage];
    if (given !== undefined) return given;
    offlineDefaults.push(stage);
    return OFFLINE_DEFAULT[stage];
  };
  const segmenterSpec = pick("segmenter");
  const describerSpec = pick("describer");
  const reasonerSpec = pick("reasoner");
  const { backendOptions = {}, sources = {}, ...agentOptions } = options;
  const captionerSpec = specs.captioner ?? companionCaptioner(describerSpec);
  // The companion captioner shares the describer's options (its model, its key) and where they came from.
  const captionerOptions = specs.captioner === undefined ? backendOptions.describer : backendOptions.captioner;
  const captionerSource = specs.captioner === undefined ? sources.describer : sources.captioner;

  const built: { close?(): Promise<void> }[] = [];
  const keep = <T extends { close?(): Promise<void> } | null>(backend: T): T => {
    if (backend) built.push(backend);
    return backend;
  };
  try {
    const detector = specs.detector && specs.detector !== "none" ? keep(await createBackend("detector", specs.detector, backendOptions.detector, sources.detector)) : null;
    const extras = (kind: BackendKind, source = sources[kind]) => ({ ...source, ...(detector && { detector }) });
    const segmenter: Segmenter = keep(await createBackend("segmenter", segmenterSpec, backendOptions.segmenter, extras("segmenter")));
    const describer: Describer | null =
      describerSpec === "none" ? null : keep(await createBackend("describer", describerSpec, backendOptions.describer, extras("describer")));
    const captioner: Captioner | null =
      describer === null || captionerSpec === "none" ? null : keep(await createBackend("captioner", captionerSpec, captionerOptions, extras("captioner", captionerSource)));
    const reasoner: Reasoner | null =
      reasonerSpec === "none" ? null : keep(await createBackend("reasoner", reasonerSpec, backendOptions.reasoner, extras("reasoner")));
    const agent = new GearSeg({ ...agentOptions, segmenter, describer, captioner, reasoner });
    const close = async () => {
      await agent.close();
      await detector?.close?.();
    };
    return { agent, detector, offlineDefaults, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await Promise.allSettled(built.map((b) => b.close?.()));
    throw err;
  }
}
