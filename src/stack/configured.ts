/**
 * An agent built the way the CLI builds it: the config file (given, or found in the working folder), explicit
 * choices over it, the SQLite stage cache unless disabled. Library users get the same behaviour as the CLI.
 * Every backend the file names is checked against its schema first, used or not, so a mistake in the file is
 * found on the first run.
 */
import type { GearSegOptions } from "../pipeline/agent.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import type { BackendKind } from "../pipeline/types.js";
import { BACKEND_KINDS, loadConfig, resolveStage, type BackendEntry, type GearSegConfig } from "../config/index.js";
import { UsageError } from "../util/errors.js";
import { BACKENDS, checkBackendOptions, speaksHttp, type BackendOptions, type BackendSource } from "./registry.js";
import { createStack, OFFLINE_DEFAULT, type Stack, type StackSpecs } from "./stack.js";

export interface ConfiguredStackOptions extends Pick<GearSegOptions, "onStage"> {
  /** Config file; default: gear-seg.config.json / .yaml in `cwd`, if there is one. */
  configPath?: string;
  cwd?: string;
  /** Specs (or names of backends in the config) that override the config's choices. */
  specs?: StackSpecs;
  maxPixels?: number;
  maxRegions?: number;
  maxMasks?: number;
  /** Options merged over the config's for each kind (e.g. `{ describer: { concurrency: 2 } }`). */
  backendOptions?: Partial<Record<BackendKind, BackendOptions>>;
  /** The SAM 2 mask generator's preset (`sam2-default` or `gear-seg`); an error with any other segmenter. */
  amgPreset?: string;
  /** Timeout of one HTTP attempt for every HTTP backend (over the config's `timeoutMs` and the backends' own). */
  timeoutMs?: number;
  /** Deadline of one stage call (over the config's `stageTimeoutMs`). */
  stageTimeoutMs?: number;
  /** false: neither read nor write the stage cache. */
  cache?: boolean;
  /** Check that a model server answers before its stage first runs, unless the cache holds that stage's work
   * (default true; see GearSegOptions.checkServers). */
  checkServers?: boolean;
  /** Told (one line naming the cache file) when the cache replaced a damaged file or removed a corrupt entry. */
  onCacheNotice?: (message: string) => void;
  /** One line for the person running gear-seg (e.g. that detector weights are being fetched once). */
  notice?: (message: string) => void;
  /** Bytes of a download (model weights on first use) received so far, and its size when known. */
  onDownload?: (what: string, received: number, total: number | undefined) => void;
  /** Worker threads that prepare images (see `StackOptions.workers`), over the config's `workers`. */
  workers?: number;
  /** Workers when neither `workers` nor the config says (default 0: in process). */
  defaultWorkers?: number;
}

/** Every backend of the file, checked against its schema (nothing is built). */
export function checkConfigBackends(config: GearSegConfig): void {
  const entries: [BackendKind | undefined, BackendEntry][] = [
    ...Object.values(config.backends).map((e): [BackendKind | undefined, BackendEntry] => [e.stage, e]),
    ...BACKEND_KINDS.map((k): [BackendKind, BackendEntry | undefined] => [k, config.stages[k]]).filter((p): p is [BackendKind, BackendEntry] => p[1] !== undefined),
  ];
  for (const [kind, entry] of entries) {
    if (entry.spec === "none") continue;
    const kinds = kind ? [kind] : kindsOf(entry.spec);
    if (kinds.length === 0) {
      throw new UsageError(`${entry.source?.where ?? "config"}: "${entry.spec}" names no backend (give "stage" if it is of a kind gear-seg does not know by that name)`);
    }
    for (const k of kinds) checkBackendOptions(k, entry.spec, entry.options, entry.source);
  }
}

/** The kinds that have a backend of this spec's name. */
export function kindsOf(spec: string): BackendKind[] {
  const name = specName(spec);
  return BACKEND_KINDS.filter((k) => name in BACKENDS[k]);
}

const specName = (spec: string) => spec.trim().split(":")[0]!.toLowerCase();

/** Whether the backend takes a timeout (it speaks HTTP). */
function takesTimeout(kind: BackendKind, spec: string): boolean {
  return speaksHttp(kind, specName(spec));
}

export async function createConfiguredStack(options: ConfiguredStackOptions = {}): Promise<Stack> {
  const config = await loadConfig(options.configPath, options.cwd);
  if (config) checkConfigBackends(config);
  const specs = options.specs ?? {};
  const entries = Object.fromEntries(BACKEND_KINDS.map((k) => [k, resolveStage(config, k, specs[k])])) as Record<BackendKind, BackendEntry | undefined>;

  if (options.amgPreset !== undefined) {
    const segmenter = entries.segmenter?.spec ?? OFFLINE_DEFAULT.segmenter;
    if (!/^sam2(:|$)/i.test(segmenter.trim())) {
      throw new UsageError(`the AMG preset "${options.amgPreset}" applies to the sam2 segmenter, not to "${segmenter.split(":")[0]}"`);
    }
  }
  const backendOptions: Partial<Record<BackendKind, BackendOptions>> = {};
  const sources: Partial<Record<BackendKind, BackendSource>> = {};
  for (const kind of BACKEND_KINDS) {
    const entry = entries[kind];
    const merged: BackendOptions = { ...entry?.options, ...options.backendOptions?.[kind] };
    if (kind === "segmenter" && options.amgPreset !== undefined) merged.preset = options.amgPreset;
    if (entry && takesTimeout(kind, entry.spec)) {
      // The caller's timeout over the backend's own, the backend's own over the file's default.
      if (options.timeoutMs !== undefined) merged.timeoutMs = options.timeoutMs;
      else if (merged.timeoutMs === undefined && config?.timeoutMs !== undefined) merged.timeoutMs = config.timeoutMs;
    }
    backendOptions[kind] = merged;
    if (entry?.source) sources[kind] = entry.source;
  }
  // A companion captioner (none chosen) is built with the describer's options, timeout included.

  let cache: StageCache | null = null;
  if (options.cache !== false && config?.cache.enabled !== false) {
    const { SqliteStageCache, defaultCachePath } = await import("../cache/sqlite-cache.js");
    cache = new SqliteStageCache(config?.cache.path ?? defaultCachePath(), { maxBytes: config?.cache.maxBytes, onNotice: options.onCacheNotice });
  }
  try {
    return await createStack(
      Object.fromEntries(BACKEND_KINDS.map((k) => [k, entries[k]?.spec])) as StackSpecs,
      {
        maxPixels: options.maxPixels ?? config?.maxPixels,
        maxRegions: options.maxRegions ?? config?.maxRegions,
        maxMasks: options.maxMasks ?? config?.maxMasks,
        onStage: options.onStage,
        notice: options.notice,
        onDownload: options.onDownload,
        backendOptions,
        sources,
        cache,
        checkServers: options.checkServers ?? true,
        stageTimeoutMs: options.stageTimeoutMs ?? config?.stageTimeoutMs,
        workers: options.workers ?? config?.workers ?? options.defaultWorkers ?? 0,
      },
    );
  } catch (err) {
    await cache?.close?.();
    throw err;
  }
}
