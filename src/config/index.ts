/**
 * The configuration file: `gear-seg.config.json` (or `.yaml` / `.yml`) in the working folder, or the file given
 * by `--config`. It names backends with their options and chooses one per stage; flags override it. Secrets
 * never live here: an HTTP backend names the environment variable that holds its key (`apiKeyEnv`).
 *
 * ```json
 * {
 *   "segmenter": "sam2:/models/sam2.1-tiny",
 *   "describer": "dam",
 *   "reasoner": {"spec": "openai:deepseek-chat@https://api.deepseek.com/v1", "apiKeyEnv": "DEEPSEEK_API_KEY"},
 *   "backends": {
 *     "dam": {"spec": "dam:http://gpu1:8000,http://gpu2:8000", "concurrency": 2, "caption": "openai-vision:llama3.2-vision@http://gpu1:11434/v1"}
 *   },
 *   "cache": {"enabled": true, "path": "/data/gear-seg/cache.sqlite"},
 *   "maxRegions": 200, "maxMasks": 6
 * }
 * ```
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { BackendOptions } from "../stack/registry.js";
import { knownBackends } from "../stack/registry.js";
import { parseSpec } from "../pipeline/spec.js";
import { GearSegError } from "../util/errors.js";

export type Stage = "segmenter" | "describer" | "reasoner";
export const STAGES: readonly Stage[] = ["segmenter", "describer", "reasoner"];
export const CONFIG_FILES = ["gear-seg.config.json", "gear-seg.config.yaml", "gear-seg.config.yml"];

export interface BackendEntry {
  /** The name in `backends`, when it has one. */
  name?: string;
  spec: string;
  options: BackendOptions;
}

export interface GearSegConfig {
  /** The file it came from. */
  path: string;
  stages: Partial<Record<Stage, BackendEntry>>;
  backends: Record<string, BackendEntry & { stage?: Stage }>;
  cache: { enabled?: boolean; path?: string };
  maxRegions?: number;
  maxMasks?: number;
  maxPixels?: number;
}

const TOP_KEYS = ["segmenter", "describer", "reasoner", "backends", "cache", "maxRegions", "maxMasks", "maxPixels"];

class ConfigError extends GearSegError {
  constructor(path: string, message: string) {
    super(`config "${path}": ${message}`, { exitCode: 2 });
  }
}

/** The file given, or the first config file in `cwd`; undefined when there is none. */
export async function loadConfig(explicitPath?: string, cwd = process.cwd()): Promise<GearSegConfig | undefined> {
  let path: string | undefined;
  if (explicitPath !== undefined) path = resolve(cwd, explicitPath);
  else path = CONFIG_FILES.map((f) => join(cwd, f)).find((p) => existsSync(p));
  if (!path) return undefined;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GearSegError(`cannot read config "${path}": ${code === "ENOENT" ? "file not found" : (err as Error).message}`, { exitCode: 2 });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, `not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${(err as Error).message.split("\n")[0]}`);
  }
  return validateConfig(value ?? {}, path);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function validateConfig(value: unknown, path: string): GearSegConfig {
  if (!isRecord(value)) throw new ConfigError(path, "expected an object at the top level");
  for (const key of Object.keys(value)) {
    if (!TOP_KEYS.includes(key)) throw new ConfigError(path, `unknown key "${key}" (known: ${TOP_KEYS.join(", ")})`);
  }
  const config: GearSegConfig = { path, stages: {}, backends: {}, cache: {} };

  if (value.backends !== undefined) {
    if (!isRecord(value.backends)) throw new ConfigError(path, `"backends" must be an object of named backends`);
    for (const [name, entry] of Object.entries(value.backends)) {
      const where = `backends.${name}`;
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new ConfigError(path, `"${where}": a name may hold letters, digits, "_", "." and "-"`);
      const parsed = readEntry(entry, where, path);
      if (parsed.name !== undefined) throw new ConfigError(path, `"${where}": a named backend must give "spec", not another name`);
      const stageValue = parsed.options.stage;
      delete parsed.options.stage;
      let stage: Stage | undefined;
      if (stageValue !== undefined) {
        if (typeof stageValue !== "string" || !STAGES.includes(stageValue as Stage)) {
          throw new ConfigError(path, `"${where}.stage" must be one of ${STAGES.join(", ")}`);
        }
        stage = stageValue as Stage;
      }
      config.backends[name] = { ...parsed, name, stage: stage ?? inferStage(parsed.spec) };
    }
  }

  for (const stage of STAGES) {
    const raw = value[stage];
    if (raw === undefined) continue;
    // A name from "backends" wins over a backend type of the same name.
    const entry = typeof raw === "string" && config.backends[raw.trim()] ? { name: raw.trim(), spec: "", options: {} } : readEntry(raw, stage, path);
    if (entry.name !== undefined) {
      const named = config.backends[entry.name];
      if (!named) throw new ConfigError(path, `"${stage}": no backend named "${entry.name}" in "backends"`);
      config.stages[stage] = { name: entry.name, spec: named.spec, options: { ...named.options } };
    } else {
      config.stages[stage] = entry;
    }
  }

  if (value.cache !== undefined) {
    if (!isRecord(value.cache)) throw new ConfigError(path, `"cache" must be an object such as {"enabled": true, "path": "..."}`);
    for (const [k, v] of Object.entries(value.cache)) {
      if (k === "enabled") {
        if (typeof v !== "boolean") throw new ConfigError(path, `"cache.enabled" must be true or false`);
        config.cache.enabled = v;
      } else if (k === "path") {
        if (typeof v !== "string" || !v.trim()) throw new ConfigError(path, `"cache.path" must be a file path`);
        config.cache.path = resolve(join(path, ".."), v);
      } else throw new ConfigError(path, `unknown key "cache.${k}" (known: enabled, path)`);
    }
  }
  for (const key of ["maxRegions", "maxMasks", "maxPixels"] as const) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new ConfigError(path, `"${key}" must be an integer ≥ 1, got ${JSON.stringify(v)}`);
    config[key] = v;
  }
  return config;
}

/** A stage entry: a spec string, a backend name, or {spec, ...options}. */
function readEntry(entry: unknown, where: string, path: string): BackendEntry {
  if (typeof entry === "string") {
    if (!entry.trim()) throw new ConfigError(path, `"${where}" is empty`);
    // A bare word without ":" that is not a backend type is a name from "backends".
    if (!entry.includes(":") && !isBackendType(entry)) return { name: entry.trim(), spec: "", options: {} };
    checkSpec(entry, where, path);
    return { spec: entry.trim(), options: {} };
  }
  if (!isRecord(entry)) throw new ConfigError(path, `"${where}" must be a spec string or an object with "spec"`);
  const { spec, ...options } = entry;
  if (typeof spec !== "string" || !spec.trim()) throw new ConfigError(path, `"${where}.spec" must be a spec string such as "dam:http://localhost:8000"`);
  for (const secret of ["apiKey", "api_key", "key", "token", "password"]) {
    if (secret in options) {
      throw new ConfigError(path, `"${where}.${secret}": secrets are read only from the environment; set "apiKeyEnv" to the variable's name`);
    }
  }
  checkSpec(spec, where, path);
  return { spec: spec.trim(), options };
}

function checkSpec(spec: string, where: string, path: string): void {
  try {
    parseSpec(spec, where);
  } catch (err) {
    throw new ConfigError(path, `"${where}": ${(err as Error).message}`);
  }
}

function isBackendType(word: string): boolean {
  const k = knownBackends();
  const w = word.trim().toLowerCase();
  return w === "none" || [...k.segmenters, ...k.describers, ...k.reasoners].includes(w);
}

function inferStage(spec: string): Stage | undefined {
  const name = parseSpec(spec, "backend").name;
  const k = knownBackends();
  const stages = STAGES.filter((s) => (s === "segmenter" ? k.segmenters : s === "describer" ? k.describers : k.reasoners).includes(name));
  return stages.length === 1 ? stages[0] : undefined;
}

/**
 * What a stage runs: the flag when given (a spec, or a name from `backends`, which brings its options), else
 * the config's choice, else undefined (the offline default).
 */
export function resolveStage(config: GearSegConfig | undefined, stage: Stage, flag: string | undefined): BackendEntry | undefined {
  if (flag !== undefined) {
    const named = config?.backends[flag.trim()];
    if (named && !flag.includes(":")) return { name: named.name, spec: named.spec, options: { ...named.options } };
    return { spec: flag, options: {} };
  }
  const fromConfig = config?.stages[stage];
  return fromConfig ? { ...fromConfig, options: { ...fromConfig.options } } : undefined;
}
