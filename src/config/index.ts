/**
 * The configuration file: `gear-seg.config.json` or `gear-seg.config.yaml` (`.yml`) in the working folder (two
 * of them there is an error, not a silent pick), or the file a caller names. It chooses a backend per kind and
 * may name backends with their options; explicit choices override it. Relative paths in it (spec arguments,
 * options, the cache path) are relative to the file's folder. Secrets never live here: an HTTP backend names
 * the environment variable that holds its key (`apiKeyEnv`).
 *
 * ```json
 * {
 *   "segmenter": "sam2:models/sam2.1-tiny",
 *   "describer": "dam",
 *   "captioner": {"spec": "openai-vision:llama3.2-vision@http://gpu1:11434/v1"},
 *   "reasoner": {"spec": "openai:deepseek-chat@https://api.deepseek.com/v1", "apiKeyEnv": "DEEPSEEK_API_KEY"},
 *   "backends": {
 *     "dam": {"spec": "dam:http://gpu1:8000,http://gpu2:8000", "concurrency": 2}
 *   },
 *   "cache": {"enabled": true, "path": "/data/gear-seg/cache.sqlite", "maxBytes": 4000000000},
 *   "timeoutMs": 60000, "maxRegions": 200, "maxMasks": 6, "workers": 2
 * }
 * ```
 *
 * This module checks the file's shape; each backend's options are checked against that backend's schema when
 * the stack is built (src/stack), with messages that name this file and the entry.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { z } from "zod";
import type { BackendKind } from "../pipeline/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { flag, integer, isSecretName, LazySchema, oneOf, parseWith, SECRET_HINT, text } from "./schema.js";
import { zod } from "./zod.js";

export const BACKEND_KINDS: readonly BackendKind[] = ["segmenter", "describer", "captioner", "reasoner", "detector"];
export const CONFIG_FILES = ["gear-seg.config.json", "gear-seg.config.yaml", "gear-seg.config.yml"];

/** Where an entry of the file is, for messages; and the folder its relative paths start from. */
export interface EntrySource {
  where: string;
  baseDir: string;
}

export interface BackendEntry {
  /** The name in `backends`, when it has one. */
  name?: string;
  spec: string;
  options: Record<string, unknown>;
  /** Set for entries of a config file. */
  source?: EntrySource;
}

export interface GearSegConfig {
  /** The file it came from. */
  path: string;
  stages: Partial<Record<BackendKind, BackendEntry>>;
  backends: Record<string, BackendEntry & { stage?: BackendKind }>;
  /** The stage cache: on or off, its file, and its size limit in bytes (least recently used entries go). */
  cache: { enabled?: boolean; path?: string; maxBytes?: number };
  maxRegions?: number;
  maxMasks?: number;
  maxPixels?: number;
  /** Default timeout of one HTTP attempt, for every HTTP backend without its own `timeoutMs`. */
  timeoutMs?: number;
  /** Deadline of one stage call (segment, describe, caption, reason) of the agent. */
  stageTimeoutMs?: number;
  /** Worker threads that prepare images in batch runs and the server (0: in the main thread). */
  workers?: number;
}

const SPEC_HINT = 'a spec string such as "dam:http://localhost:8000", or an object with "spec"';

/** The config file's schema (built, and zod loaded, when a file is read: a run without one loads neither). */
export const configSchema = new LazySchema(() => {
  const z = zod();
  /** A spec, a name from `backends`, or {spec, ...options}; the options are the backend's to check. */
  const entrySchema = z.union([text(SPEC_HINT), z.looseObject({ spec: text(SPEC_HINT) })], { error: `must be ${SPEC_HINT}` });
  const backendName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'must be a name of letters, digits, "_", "." and "-"' });
  return z.strictObject({
    segmenter: entrySchema.optional(),
    describer: entrySchema.optional(),
    captioner: entrySchema.optional(),
    reasoner: entrySchema.optional(),
    detector: entrySchema.optional(),
    backends: z
      .record(backendName, z.looseObject({ spec: text(SPEC_HINT), stage: oneOf(BACKEND_KINDS as [BackendKind, ...BackendKind[]]).optional() }), {
        error: "must be an object of named backends",
      })
      .optional(),
    cache: z
      .strictObject(
        { enabled: flag().optional(), path: text("a file path").optional(), maxBytes: integer(1).optional() },
        { error: 'must be an object such as {"enabled": true, "path": "...", "maxBytes": 4000000000}' },
      )
      .optional(),
    maxRegions: integer(1).optional(),
    maxMasks: integer(1).optional(),
    maxPixels: integer(1).optional(),
    timeoutMs: integer(1).optional(),
    stageTimeoutMs: integer(1).optional(),
    workers: integer(0, 256).optional(),
  });
});

export type ConfigFile = z.input<typeof configSchema.schema>;

/** The file given (relative to `cwd`), or the config file in `cwd`; undefined when there is none. */
export async function loadConfig(explicitPath?: string, cwd = process.cwd()): Promise<GearSegConfig | undefined> {
  let path: string | undefined;
  if (explicitPath !== undefined) {
    if (!explicitPath.trim()) throw new UsageError("the config file path is empty");
    path = resolve(cwd, explicitPath);
  } else {
    const found = CONFIG_FILES.map((f) => join(cwd, f)).filter((p) => existsSync(p));
    if (found.length > 1) {
      throw new UsageError(`config: ${found.map((p) => `"${p}"`).join(" and ")} are both present; keep one, or name the one to use`);
    }
    path = found[0];
  }
  if (!path) return undefined;
  let content: string;
  try {
    content = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read config "${path}": ${code === "ENOENT" ? "file not found" : code === "EISDIR" ? "it is a folder" : (err as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let value: unknown;
  try {
    // The YAML parser is loaded only for a YAML file (tens of milliseconds of every command's start-up otherwise).
    value = yaml ? (await import("yaml")).parse(content) : JSON.parse(content);
  } catch (err) {
    throw new UsageError(`config "${path}": not valid ${yaml ? "YAML" : "JSON"}: ${(err as Error).message.split("\n")[0]}`);
  }
  return validateConfig(value ?? {}, path);
}

export function validateConfig(value: unknown, path: string): GearSegConfig {
  const where = `config "${path}"`;
  const file = parseWith(configSchema, value, where, { noun: "key" });
  const baseDir = dirname(path);
  const fail = (message: string) => new GearSegError(`${where}: ${message}`, { exitCode: 2 });
  const config: GearSegConfig = {
    path,
    stages: {},
    backends: {},
    cache: {
      enabled: file.cache?.enabled,
      ...(file.cache?.path !== undefined && { path: resolve(baseDir, file.cache.path) }),
      ...(file.cache?.maxBytes !== undefined && { maxBytes: file.cache.maxBytes }),
    },
    maxRegions: file.maxRegions,
    maxMasks: file.maxMasks,
    maxPixels: file.maxPixels,
    timeoutMs: file.timeoutMs,
    stageTimeoutMs: file.stageTimeoutMs,
    workers: file.workers,
  };

  const entry = (raw: string | { spec: string; [k: string]: unknown }, key: string): BackendEntry => {
    const source = { where: `${where}: ${key}`, baseDir };
    if (typeof raw === "string") return { spec: raw.trim(), options: {}, source };
    const { spec, ...options } = raw;
    for (const name of Object.keys(options)) {
      if (isSecretName(name) && name !== "apiKeyEnv" && name !== "apiKeyHeader") throw fail(`"${key}.${name}": ${SECRET_HINT}`);
    }
    return { spec: spec.trim(), options, source };
  };

  for (const [name, raw] of Object.entries(file.backends ?? {})) {
    const { stage, ...rest } = raw;
    config.backends[name] = { ...entry(rest as { spec: string }, `backends.${name}`), name, ...(stage !== undefined && { stage }) };
  }
  for (const kind of BACKEND_KINDS) {
    const raw = file[kind];
    if (raw === undefined) continue;
    // A bare word naming an entry of "backends" is that entry; any other string is a spec.
    const named = typeof raw === "string" && !raw.includes(":") ? config.backends[raw.trim()] : undefined;
    config.stages[kind] = named ? copy(named) : entry(raw, kind);
  }
  return config;
}

function copy(entry: BackendEntry): BackendEntry {
  return { ...(entry.name !== undefined && { name: entry.name }), spec: entry.spec, options: { ...entry.options }, ...(entry.source && { source: entry.source }) };
}

/**
 * What a kind runs: the explicit choice when given (a spec, or a name from `backends`, which brings its
 * options), else the config's choice, else undefined (the default).
 */
export function resolveStage(config: GearSegConfig | undefined, kind: BackendKind, choice: string | undefined): BackendEntry | undefined {
  if (choice !== undefined) {
    const named = choice.includes(":") ? undefined : config?.backends[choice.trim()];
    return named ? copy(named) : { spec: choice, options: {} };
  }
  const fromConfig = config?.stages[kind];
  return fromConfig ? copy(fromConfig) : undefined;
}
