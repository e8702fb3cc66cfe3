/**
 * Building an agent from spec strings. With nothing configured, gear-seg runs the offline default: real
 * algorithms that need no weights (the `classic` segmenter, the `attributes` describer, the `wordnet` reasoner).
 *
 * The caption is a stage of its own. When no captioner is chosen, the describer's companion writes it: a
 * describer that can also caption (`attributes`, `recorded:<file>`, `openai-vision:…`) is built a second time
 * as the captioner, with the same spec and options; `dam` cannot caption, so a DAM stack has no caption unless
 * one is chosen (the GEAR-Seg reference used a vision LLM: `openai-vision:<model>@<url>`). `none` turns it off.
 *
 * A detector is built first and once, and handed to every backend through its factory context. Unless one is
 * chosen (or "none"), the offline default's backends that use one (the classic segmenter, the attributes
 * describer and captioner) get NanoDet-g, whose weights are pulled once from the npm registry.
 * With `checkServers`, every backend that talks to a server makes one cheap call before its stage first really
 * runs (not when the cache holds that stage's work): see GearSegOptions.checkServers.
 */
import { GearSeg, type GearSegOptions } from "../pipeline/agent.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import type { BackendKind, Captioner, Describer, Detector, Reasoner, Segmenter, StageContext } from "../pipeline/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { parseSpec } from "../pipeline/spec.js";
import { PreparationPool } from "./preparation-pool.js";
import { BACKENDS, createBackend, type BackendOptions, type BackendSource } from "./registry.js";

export const OFFLINE_DEFAULT = { segmenter: "classic", describer: "attributes", reasoner: "wordnet", detector: "nanodet" } as const;

type StackStage = keyof typeof OFFLINE_DEFAULT;

const OFFLINE_NAMES: Record<StackStage, string> = {
  segmenter: "classic segmenter",
  describer: "attributes describer",
  reasoner: "WordNet reasoner",
  detector: "NanoDet-g object detector (COCO classes)",
};
/** What a stage's default stands in for (the detector stands in for nothing: it is a model already). */
const MODEL_NAMES: Partial<Record<StackStage, string>> = { segmenter: "SAM 2", describer: "DAM", reasoner: "an LLM" };

/** The notice for the stages that fell back to the offline default, naming those stages only. */
export function offlineDefaultNotice(stages: readonly StackStage[]): string {
  const and = (words: string[]) => (words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words[0] ?? "");
  const names = stages.map((s) => OFFLINE_NAMES[s]).join(", ");
  const models = stages.flatMap((s) => MODEL_NAMES[s] ?? []);
  return `offline default: ${names}${models.length ? ` — see README to plug in ${and(models)}` : ""}`;
}

export const OFFLINE_DEFAULT_NOTICE = offlineDefaultNotice(["segmenter", "describer", "reasoner", "detector"]);

/** The backends that use a detector when the stack has one: they get the default detector unless told otherwise. */
const DETECTOR_USERS: ReadonlySet<string> = new Set(["classic", "attributes"]);

/**
 * Backends whose work is JavaScript on the calling thread: a stack of them prepares images in worker threads
 * when asked to (`workers`). Backends outside this set stay in process: SAM 2 runs ONNX Runtime on its own
 * threads with one copy of the model, and the HTTP backends' concurrency limits are per process.
 */
const CPU_BACKENDS: ReadonlySet<string> = new Set(["classic", "attributes", "nanodet"]);
/** Light backends that may run in a worker beside them (they read files). */
const WORKER_SAFE: ReadonlySet<string> = new Set([...CPU_BACKENDS, "masks", "recorded"]);

/** Whether preparation with these stage specs ("none" for a stage that is off) is worth worker threads. */
export function runsInWorkers(specs: readonly string[]): boolean {
  const names = specs.filter((s) => s !== "none").map((s) => parseSpec(s, "backend").name);
  return names.every((n) => WORKER_SAFE.has(n)) && names.some((n) => CPU_BACKENDS.has(n));
}

/** Whether a stack of these specs gets the default detector when none is chosen. */
export function wantsDefaultDetector(specs: readonly (string | undefined)[]): boolean {
  return specs.some((s) => s !== undefined && s !== "none" && DETECTOR_USERS.has(parseSpec(s, "backend").name));
}

export interface StackSpecs {
  segmenter?: string;
  /** "none": regions only. */
  describer?: string;
  /** "none": no caption. Default: the describer's companion (see above). */
  captioner?: string;
  /** "none": no reasoning (describe only). */
  reasoner?: string;
  /** "none": no detector. Default: NanoDet-g when a backend that uses one is in the stack (see above). */
  detector?: string;
}

export interface StackOptions extends Omit<GearSegOptions, "segmenter" | "describer" | "captioner" | "reasoner"> {
  /** Options per kind, checked against the chosen backend's schema. */
  backendOptions?: Partial<Record<BackendKind, BackendOptions>>;
  /** Where each choice came from (a config file): named in messages, the base of relative paths. */
  sources?: Partial<Record<BackendKind, BackendSource>>;
  cache?: StageCache | null;
  /** Make each backend's cheap check (its server answers) once, before its stage first runs and before the slow
   * stages that come ahead of it; a stage served from the cache needs no server (GearSegOptions.checkServers).
   * Default false. */
  checkServers?: boolean;
  /** Deadline of one stage call (segment, describe, caption, reason), in milliseconds. Default none. */
  stageTimeoutMs?: number;
  /** One line for the person running gear-seg (e.g. that detector weights are being fetched once). */
  notice?: (message: string) => void;
  /** Bytes of a download (model weights on first use) received so far, and its size when known. */
  onDownload?: (what: string, received: number, total: number | undefined) => void;
  /**
   * Worker threads that prepare images (decode, segment, describe, caption) while this thread answers and
   * writes; batch callers and servers keep `agent.parallelism` images in flight. Used when every preparation
   * backend runs on the CPU in JavaScript (classic, attributes, nanodet; masks and recorded beside them);
   * other stacks prepare in process. Default 0: in process.
   */
  workers?: number;
}

export interface Stack extends AsyncDisposable {
  agent: GearSeg;
  /** The detector handed to the backends, when one was chosen. */
  detector: Detector | null;
  /** Which stages fell back to the offline default. */
  offlineDefaults: ("segmenter" | "describer" | "reasoner" | "detector")[];
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
  const { backendOptions = {}, sources = {}, checkServers = false, stageTimeoutMs, notice, onDownload, workers = 0, ...agentOptions } = options;
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`workers must be a whole number ≥ 0, got ${workers}`);
  const captionerSpec = specs.captioner ?? companionCaptioner(describerSpec);
  let detectorSpec = specs.detector;
  if (detectorSpec === undefined && wantsDefaultDetector([segmenterSpec, describerSpec, captionerSpec])) {
    detectorSpec = OFFLINE_DEFAULT.detector;
    offlineDefaults.push("detector");
  }
  // The companion captioner shares the describer's options (its model, its key) and where they came from.
  const captionerOptions = specs.captioner === undefined ? backendOptions.describer : backendOptions.captioner;
  const captionerSource = specs.captioner === undefined ? sources.describer : sources.captioner;

  const built: { close?(): Promise<void> }[] = [];
  const keep = <T extends { close?(): Promise<void> } | null>(backend: T): T => {
    if (backend) built.push(backend);
    return backend;
  };
  try {
    const detector =
      detectorSpec && detectorSpec !== "none" ? keep(await createBackend("detector", detectorSpec, backendOptions.detector, { ...sources.detector, notice, onDownload })) : null;
    const extras = (kind: BackendKind, source = sources[kind]) => ({ ...source, notice, onDownload, ...(detector && { detector }) });
    const segmenter: Segmenter = keep(await createBackend("segmenter", segmenterSpec, backendOptions.segmenter, extras("segmenter")));
    const describer: Describer | null =
      describerSpec === "none" ? null : keep(await createBackend("describer", describerSpec, backendOptions.describer, extras("describer")));
    const captioner: Captioner | null =
      describer === null || captionerSpec === "none" ? null : keep(await createBackend("captioner", captionerSpec, captionerOptions, extras("captioner", captionerSource)));
    const reasoner: Reasoner | null =
      reasonerSpec === "none" ? null : keep(await createBackend("reasoner", reasonerSpec, backendOptions.reasoner, extras("reasoner")));
    const limit = <T extends object>(backend: T, kind: BackendKind, method: string): T =>
      stageTimeoutMs === undefined ? backend : withDeadline(backend, method, `${kind} ${(backend as { spec?: string }).spec ?? ""}`, stageTimeoutMs);
    const preparer =
      workers > 0 && runsInWorkers([segmenterSpec, describerSpec, describer ? captionerSpec : "none", detectorSpec ?? "none"])
        ? keep(
            new PreparationPool({
              workers,
              cache: agentOptions.cache ?? null,
              notice,
              stack: {
                specs: { segmenter: segmenterSpec, describer: describerSpec, captioner: specs.captioner, detector: specs.detector },
                backendOptions,
                sources,
                maxPixels: agentOptions.maxPixels,
                maxRegions: agentOptions.maxRegions,
                maxMasks: agentOptions.maxMasks,
                duplicateOverlap: agentOptions.duplicateOverlap,
                stageTimeoutMs,
                cache: Boolean(agentOptions.cache),
                fingerprints: {
                  segmenter: segmenter.fingerprint ?? segmenter.spec,
                  describer: describer ? (describer.fingerprint ?? describer.spec) : null,
                  captioner: captioner ? (captioner.fingerprint ?? captioner.spec) : null,
                },
              },
            }),
          )
        : null;
    const agent = new GearSeg({
      ...agentOptions,
      preparer,
      checkServers,
      segmenter: limit(segmenter, "segmenter", "segment"),
      describer: describer && limit(describer, "describer", "describe"),
      captioner: captioner && limit(captioner, "captioner", "caption"),
      reasoner: reasoner && limit(reasoner, "reasoner", "reason"),
    });
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

/**
 * The backend with its stage call bounded: past `ms` the call's signal is aborted (backends stop their work on
 * it) and the call fails with a message naming the backend and the deadline, whether or not the work stopped.
 */
export function withDeadline<T extends object>(backend: T, method: string, label: string, ms: number): T {
  const call = (backend as Record<string, unknown>)[method] as (...args: unknown[]) => Promise<unknown>;
  // Where the StageContext goes: segment(image, ctx), describe/caption(image, regions, ctx), reason(request, ctx).
  const ctxIndex = method === "describe" || method === "caption" ? 2 : 1;
  const bounded = async (...args: unknown[]) => {
    const given = (args[ctxIndex] ?? {}) as StageContext;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new GearSegError(`${label}: no result within the stage deadline of ${ms} ms (stageTimeoutMs)`)), ms);
    const signal = given.signal ? AbortSignal.any([given.signal, deadline.signal]) : deadline.signal;
    const expired = new Promise<never>((_, reject) => deadline.signal.addEventListener("abort", () => reject(deadline.signal.reason), { once: true }));
    try {
      return await Promise.race([call.apply(backend, [...args.slice(0, ctxIndex), { ...given, signal }]), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
  return new Proxy(backend, { get: (target, prop, receiver) => (prop === method ? bounded : Reflect.get(target, prop, receiver)) });
}
