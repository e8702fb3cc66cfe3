/**
 * An agent built the way the CLI builds it: the config file (given, or found in the working folder), explicit
 * specs over it, the SQLite stage cache unless disabled. Library users get the same behaviour as the CLI.
 */
import type { BackendOptions } from "../backends.js";
import type { GearSegOptions } from "../pipeline/agent.js";
import { createStack, type Stack, type StackSpecs } from "../pipeline/stack.js";
import type { StageCache } from "../pipeline/stage-cache.js";
import { loadConfig, resolveStage } from "./index.js";

export interface ConfiguredStackOptions extends Pick<GearSegOptions, "onStage"> {
  /** Config file; default: gear-seg.config.json / .yaml in `cwd`, if there is one. */
  configPath?: string;
  cwd?: string;
  /** Specs (or names of backends in the config) that override the config's choices. */
  specs?: StackSpecs;
  maxPixels?: number;
  maxRegions?: number;
  maxMasks?: number;
  /** Options merged over the config's for each stage (e.g. `{ segmenter: { preset: "gear-seg" } }`). */
  backendOptions?: { segmenter?: BackendOptions; describer?: BackendOptions; reasoner?: BackendOptions };
  /** false: neither read nor write the stage cache. */
  cache?: boolean;
  /** Told (one line naming the cache file) when the cache replaced a damaged file or removed a corrupt entry. */
  onCacheNotice?: (message: string) => void;
}

export async function createConfiguredStack(options: ConfiguredStackOptions = {}): Promise<Stack> {
  const config = await loadConfig(options.configPath, options.cwd);
  const specs = options.specs ?? {};
  const segmenter = resolveStage(config, "segmenter", specs.segmenter);
  const describer = resolveStage(config, "describer", specs.describer);
  const reasoner = resolveStage(config, "reasoner", specs.reasoner);
  let cache: StageCache | null = null;
  if (options.cache !== false && config?.cache.enabled !== false) {
    const { SqliteStageCache, defaultCachePath } = await import("../cache/sqlite-cache.js");
    cache = new SqliteStageCache(config?.cache.path ?? defaultCachePath(), { onNotice: options.onCacheNotice });
  }
  try {
    return await createStack(
      { segmenter: segmenter?.spec, describer: describer?.spec, reasoner: reasoner?.spec },
      {
        maxPixels: options.maxPixels ?? config?.maxPixels,
        maxRegions: options.maxRegions ?? config?.maxRegions,
        maxMasks: options.maxMasks ?? config?.maxMasks,
        onStage: options.onStage,
        backendOptions: {
          segmenter: { ...segmenter?.options, ...options.backendOptions?.segmenter },
          describer: { ...describer?.options, ...options.backendOptions?.describer },
          reasoner: { ...reasoner?.options, ...options.backendOptions?.reasoner },
        },
        cache,
      },
    );
  } catch (err) {
    await cache?.close?.();
    throw err;
  }
}
