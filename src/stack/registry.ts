/**
 * The table of backends, chosen by spec string (`name` or `name:argument`), one table per kind. Each entry
 * pairs the backend's options schema (declared next to its factory, in a light `options.ts`) with a loader
 * that imports the backend's module only when it is built, so a process that does not use ONNX Runtime or
 * SQLite never loads them. The schema's output type is the factory's options type: the compiler checks each
 * pair.
 *
 * To add a backend: write src/<kind>s/<name>/options.ts (its schema) and index.ts (its factory, a
 * `BackendFactory`), then add one line here.
 */
import type { z } from "zod";
import { optionsSchema, parseWith, type LazySchema } from "../config/schema.js";
import { zod } from "../config/zod.js";
import { attributesOptions } from "../describers/attributes/options.js";
import { damOptions } from "../describers/dam/options.js";
import { openAiVisionOptions } from "../describers/openai-vision/options.js";
import { redactText } from "../net/redact.js";
import { parseSpec } from "../pipeline/spec.js";
import type { BackendFactory, BackendKind, BackendPorts, Detector, FactoryContext } from "../pipeline/types.js";
import { embeddingReasonerOptions } from "../reasoners/embedding/options.js";
import { openAiReasonerOptions } from "../reasoners/openai/options.js";
import { wordnetOptions } from "../reasoners/wordnet/options.js";
import { classicOptions } from "../segmenters/classic/options.js";
import { nanodetOptions } from "../detectors/nanodet/options.js";
import { sam2Options } from "../segmenters/sam2/options.js";
import { UsageError } from "../util/errors.js";
import { resolve } from "node:path";

interface Entry<K extends BackendKind, S extends z.ZodType> {
  /** Built when options are to be checked (an empty options object needs no schema). */
  readonly options: LazySchema<S>;
  readonly load: () => Promise<BackendFactory<BackendPorts[K], z.output<S>>>;
  /** It speaks HTTP: it takes the shared HTTP options (net/options.ts), a timeout among them. */
  readonly http?: boolean;
}

const of =
  <K extends BackendKind>() =>
  <S extends z.ZodType>(options: LazySchema<S>, load: Entry<K, S>["load"], http = false): Entry<K, S> => ({ options, load, http });
const segmenter = of<"segmenter">();
const describer = of<"describer">();
const captioner = of<"captioner">();
const reasoner = of<"reasoner">();
const detector = of<"detector">();

/** Backends whose spec argument is all they need. */
const noOptions = optionsSchema(() => zod().strictObject({}));

export const BACKENDS = {
  segmenter: {
    classic: segmenter(classicOptions, async () => (await import("../segmenters/classic/index.js")).createClassicSegmenter),
    sam2: segmenter(sam2Options, async () => (await import("../segmenters/sam2/index.js")).createSam2Segmenter),
    masks: segmenter(noOptions, async () => (await import("../segmenters/masks/index.js")).createMaskFolderSegmenter),
  },
  describer: {
    attributes: describer(attributesOptions, async () => (await import("../describers/attributes/index.js")).createAttributesDescriber),
    dam: describer(damOptions, async () => (await import("../describers/dam/index.js")).createDamDescriber, true),
    "openai-vision": describer(openAiVisionOptions, async () => (await import("../describers/openai-vision/index.js")).createOpenAiVision, true),
    recorded: describer(noOptions, async () => (await import("../describers/recorded/index.js")).createRecordedDescriber),
  },
  captioner: {
    attributes: captioner(attributesOptions, async () => (await import("../describers/attributes/index.js")).createAttributesDescriber),
    "openai-vision": captioner(openAiVisionOptions, async () => (await import("../describers/openai-vision/index.js")).createOpenAiVision, true),
    recorded: captioner(noOptions, async () => (await import("../describers/recorded/index.js")).createRecordedDescriber),
  },
  reasoner: {
    wordnet: reasoner(wordnetOptions, async () => (await import("../reasoners/wordnet/index.js")).createWordnetReasoner),
    openai: reasoner(openAiReasonerOptions, async () => (await import("../reasoners/openai/index.js")).createOpenAiReasoner, true),
    embedding: reasoner(embeddingReasonerOptions, async () => (await import("../reasoners/embedding/index.js")).createEmbeddingReasoner, true),
    recorded: reasoner(noOptions, async () => (await import("../reasoners/recorded/index.js")).createRecordedReasoner),
  },
  detector: {
    nanodet: detector(nanodetOptions, async () => (await import("../detectors/nanodet/index.js")).createNanodetDetector),
  },
} as const;

type Table = typeof BACKENDS;

/** The options each backend takes, by kind and name, as a library caller writes them. */
export type BackendOptionsMap = { [K in BackendKind]: { [N in keyof Table[K]]: Table[K][N] extends Entry<K, infer S> ? z.input<S> : never } };

/** Options for any backend: checked against the chosen backend's schema when it is built. */
export type BackendOptions = Record<string, unknown>;

export const BACKEND_KINDS = Object.keys(BACKENDS) as BackendKind[];

/** Where a backend's choice came from: named in messages; relative paths resolve against `baseDir`. */
export interface BackendSource {
  /** e.g. `config "/work/gear-seg.config.json": backends.dam`. */
  where?: string;
  /** Default: the working folder. */
  baseDir?: string;
}

export interface BuildExtras extends BackendSource, Pick<FactoryContext, "notice" | "onDownload"> {
  /** The stack's detector, for the backends that use one. */
  detector?: Detector;
}

function lookup(kind: BackendKind, text: string, source: BackendSource = {}) {
  const prefix = source.where ? `${source.where}: ` : "";
  let spec;
  try {
    spec = parseSpec(text, kind);
  } catch (err) {
    throw new UsageError(`${prefix}${redactText((err as Error).message)}`);
  }
  const table = BACKENDS[kind] as Record<string, Entry<BackendKind, z.ZodType>>;
  const entry = table[spec.name];
  if (!entry) {
    throw new UsageError(`${prefix}unknown ${kind} "${spec.name}" in "${redactText(spec.text)}" (known: ${Object.keys(table).sort().join(", ")})`);
  }
  const shown = redactText(spec.text);
  return { spec, shown, entry, label: `${kind} ${shown}`, prefix };
}

/** Checks options against the backend's schema without building it; returns the options as validated. */
export function checkBackendOptions(kind: BackendKind, text: string, options: unknown = {}, source: BackendSource = {}): unknown {
  const { entry, label, prefix } = lookup(kind, text, source);
  return parseWith(entry.options, options ?? {}, `${prefix}${label}`);
}

/** Builds one backend of `kind` from its spec string and options. */
export async function createBackend<K extends BackendKind>(kind: K, text: string, options: unknown = {}, extras: BuildExtras = {}): Promise<BackendPorts[K]> {
  const { spec, shown, entry, label, prefix } = lookup(kind, text, extras);
  const validated = parseWith(entry.options, options ?? {}, `${prefix}${label}`);
  const factory = (await entry.load()) as BackendFactory<BackendPorts[K], unknown>;
  const baseDir = extras.baseDir ?? process.cwd();
  return factory(spec.arg, validated, {
    spec: shown,
    label,
    resolvePath: (p) => resolve(baseDir, p),
    detector: extras.detector,
    notice: extras.notice,
    onDownload: extras.onDownload,
  });
}

/** The names of every backend, per kind. */
export function knownBackends(): Record<BackendKind, string[]> {
  return Object.fromEntries(BACKEND_KINDS.map((k) => [k, Object.keys(BACKENDS[k]).sort()])) as Record<BackendKind, string[]>;
}

/** The options schema of one backend (for a server's request validation and its OpenAPI description). */
export function backendOptionsSchema(kind: BackendKind, name: string): z.ZodType | undefined {
  return (BACKENDS[kind] as Record<string, Entry<BackendKind, z.ZodType>>)[name]?.options.schema;
}

/** Whether a backend speaks HTTP (takes the shared HTTP options, `timeoutMs` among them); known without building its schema. */
export function speaksHttp(kind: BackendKind, name: string): boolean {
  return (BACKENDS[kind] as Record<string, Entry<BackendKind, z.ZodType>>)[name]?.http === true;
}
