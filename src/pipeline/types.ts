/**
 * The ports of GEAR-Seg: the stage interfaces (segmenter, describer, captioner, reasoner, and the auxiliary
 * detector) and the typed factory through which the composition root (src/stack) builds a backend. Every
 * backend (SAM 2 on ONNX, DAM over HTTP, an LLM, the offline algorithms, recorded files) implements a port,
 * lives in its own folder under src/segmenters, src/describers, src/reasoners or src/detectors, and imports
 * only this leaf and shared leaves — never the registry, never another backend.
 */
import type { RgbImage } from "../image/types.js";
import type { BBox, Rle } from "../masks/types.js";

/** Cancellation and progress for long stage calls. */
export interface StageContext {
  signal?: AbortSignal;
  /** Called as work advances: `done` of `total` units (regions, points, requests). */
  onProgress?: (done: number, total: number) => void;
}

/** What every backend may offer besides its stage call. */
export interface BackendLifecycle {
  /** One cheap call showing the backend can work (its server answers and accepts the key); the stack makes
   * it before the slow stages start, so a dead server is found before hundreds of regions are described. */
  check?(signal?: AbortSignal): Promise<void>;
  /** Releases sessions, workers and connections. */
  close?(): Promise<void>;
}

/** One class-agnostic region proposal. */
export interface Region {
  /** The number the describer and the reasoner see. Assigned by the agent (0 = largest) unless the
   * segmenter is `recorded`, in which case the segmenter's ids are kept. */
  id: number;
  rle: Rle;
  /** [x, y, w, h] of the mask, as COCO's toBbox. */
  bbox: BBox;
  area: number;
  /** SAM's predicted IoU, or a segmenter's own confidence in [0, 1]. */
  predictedIou?: number;
  /** SAM's stability score in [0, 1]; the duplicate rule keeps the more stable mask. */
  stabilityScore?: number;
  /** The prompt point(s) that produced the mask, in image pixels. */
  pointCoords?: [number, number][];
  /** [x, y, w, h] of the crop the mask was predicted in. */
  cropBox?: BBox;
}

export interface Segmenter extends BackendLifecycle {
  /** The spec string this backend was built from, e.g. `classic` or `sam2:/models/sam2.1-tiny`. */
  readonly spec: string;
  /** True when regions are read from files: the agent keeps their ids and order (no dedup, no re-sort), so
   * recorded runs replay exactly. */
  readonly recorded?: boolean;
  /** Identifies everything that determines the output (spec, options, model file hashes); the cache keys on
   * it. Defaults to `spec`. */
  readonly fingerprint?: string;
  segment(image: RgbImage, ctx?: StageContext): Promise<Region[]>;
}

/** A click on the image for an interactive prompt, in image pixels: label 1 = on the object, 0 = not on it. */
export interface PromptPoint {
  x: number;
  y: number;
  label: 0 | 1;
}

/** Points and/or a box ([x0, y0, x1, y1] corners in image pixels) that select one object. */
export interface RegionPrompt {
  points?: PromptPoint[];
  box?: [number, number, number, number];
}

/**
 * Optional capability of a segmenter: one region from point/box prompts (SAM 2's prompt decoder, as in
 * interactive correction), reusing the image's embedding across prompts on the same image.
 */
export interface PromptableSegmenter extends Segmenter {
  segmentPrompt(image: RgbImage, prompt: RegionPrompt, ctx?: StageContext): Promise<Region>;
}

export interface Describer extends BackendLifecycle {
  readonly spec: string;
  /** As for Segmenter: the cache keys on it; defaults to `spec`. */
  readonly fingerprint?: string;
  /** One dense description per region, in the same order as `regions`. */
  describe(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]>;
}

/** Reasoning: implicit queries ("what powers this ship?"); referring: explicit attributes, every instance. */
export type QueryMode = "reasoning" | "referring";

/** What the reasoner knows of a region: its number, its description, and its geometry (for words such as
 * "largest" or "leftmost" that text alone cannot settle). */
export interface RegionFacts {
  id: number;
  description: string;
  bbox: BBox;
  area: number;
}

export interface ReasonRequest {
  query: string;
  mode: QueryMode;
  /** The whole-scene caption ("" when there is none). */
  scene: string;
  regions: readonly RegionFacts[];
  imageWidth: number;
  imageHeight: number;
  /** At most this many ids should be chosen (GEAR-Seg: 6). */
  maxMasks: number;
}

export interface TokenUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

export interface ReasonAnswer {
  /** The chosen region ids, as the reasoner gave them (the agent drops ids that do not exist). */
  maskIds: number[];
  explanation: string;
  /** 0..1 when the reasoner gives one. */
  confidence?: number;
  usage?: TokenUsage;
  /** Model name that answered, when known. */
  model?: string;
  /** Notes the reasoner wants in the result (e.g. duplicate ids it removed). */
  warnings?: string[];
}

export interface Reasoner extends BackendLifecycle {
  readonly spec: string;
  /** As for Segmenter: identifies everything that shapes its answers (model, server, prompt, sampling and
   * selection options); run and batch fingerprints use it. Defaults to `spec`. */
  readonly fingerprint?: string;
  reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer>;
}

/**
 * The whole-scene caption as a stage of its own (the reference's `whole`): built by the stack and injected, so
 * any vision backend can caption whatever describes the regions.
 */
export interface Captioner extends BackendLifecycle {
  readonly spec: string;
  /** As for Segmenter: the cache keys on it; defaults to `spec`. */
  readonly fingerprint?: string;
  caption(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string>;
}

/** One object found by a closed-vocabulary detector. */
export interface Detection {
  /** The detector's class name, e.g. "car" (COCO's 80 names for NanoDet). */
  label: string;
  /** Index of `label` in the detector's `labels`. */
  classId: number;
  /** Confidence in [0, 1]. */
  score: number;
  /** [x, y, w, h] in image pixels. */
  bbox: BBox;
}

/**
 * A closed-vocabulary object detector (e.g. NanoDet on COCO). Describers use it to name what their regions
 * are; segmenters may use it to propose object-level regions. It never claims a class outside `labels`.
 */
export interface Detector extends BackendLifecycle {
  readonly spec: string;
  readonly fingerprint?: string;
  /** Every class it can report, in class-id order. */
  readonly labels: readonly string[];
  detect(image: RgbImage, ctx?: StageContext): Promise<Detection[]>;
}

/** The kinds of backend a stack is built from, and the port each implements. */
export interface BackendPorts {
  segmenter: Segmenter;
  describer: Describer;
  captioner: Captioner;
  reasoner: Reasoner;
  detector: Detector;
}

export type BackendKind = keyof BackendPorts;

/** What the composition root gives a factory besides the spec argument and the validated options. */
export interface FactoryContext {
  /** The spec string the backend is built from, credentials redacted: use it as the backend's `spec`. */
  readonly spec: string;
  /** Names the backend in messages, e.g. `describer dam:http://gpu1:8000`. */
  readonly label: string;
  /** A path from the spec or the options, made absolute: relative to the config file's folder when the
   * backend is configured there, else to the working folder. */
  resolvePath(path: string): string;
  /** The stack's detector, when one is configured: built once and shared by every backend that uses it. */
  readonly detector?: Detector;
  /** One line for the person running gear-seg (e.g. that weights are being fetched once). */
  readonly notice?: (message: string) => void;
  /** Bytes of a download (model weights on first use) received so far, and its size when known. */
  readonly onDownload?: (what: string, received: number, total: number | undefined) => void;
}

/**
 * Builds one backend of a kind from the spec argument (the text after `name:`, credentials intact) and its
 * options, already checked against the options schema the backend declares next to its factory.
 */
export type BackendFactory<Port, Options> = (arg: string, options: Options, context: FactoryContext) => Promise<Port>;
