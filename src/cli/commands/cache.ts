// `gear-seg cache stats|clear`: the regions/descriptions cache under $GEAR_SEG_HOME (default ~/.cache/gear-seg).
import type { Command } from "commander";
import type { SqliteStageCache } from "../../cache/sqlite-cache.js";
import { loadConfig } from "../../config/index.js";
import { action, makeIo, type GlobalFlags } from "../app.js";

interface CacheFlags {
  config?: string;
  json?: boolean;
}

async function openCache(flags: CacheFlags): Promise<SqliteStageCache> {
  const config = await loadConfig(flags.config);
  // Loaded here so that other commands never load the SQLite addon.
  const { SqliteStageCache, defaultCachePath } = await import("../../cache/sqlite-cache.js");
  return new SqliteStageCache(config?.cache.path ?? defaultCachePath());
}

export function registerCache(program: Command): void {
  const cache = program.command("cache").description("inspect or empty the cache of regions and descriptions");
  cache
    .command("stats")
    .description("entries and size of the cache")
    .option("--config <file>", "config file (its cache.path)")
    .option("--json", "print JSON")
    .action(
      action(async (flags: CacheFlags, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const c = await openCache(flags);
        try {
          const s = c.stats();
          if (flags.json) io.out(JSON.stringify(s, null, 2));
          else {
            io.out(`cache        ${s.path}`);
            io.out(`regions      ${s.regionEntries} image(s)`);
            io.out(`descriptions ${s.descriptionEntries} set(s)`);
            io.out(`size         ${formatBytes(s.fileBytes)} on disk (${formatBytes(s.payloadBytes)} of entries)`);
          }
        } finally {
          await c.close();
        }
      }),
    );
  cache
    .command("clear")
    .description("remove every cached entry")
    .option("--config <file>", "config file (its cache.path)")
    .action(
      action(async (flags: CacheFlags, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const c = await openCache(flags);
        try {
          const { regions, descriptions } = c.clear();
          io.out(`cleared ${c.path}: ${regions} region set(s), ${descriptions} description set(s)`);
        } finally {
          await c.close();
        }
      }),
    );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
