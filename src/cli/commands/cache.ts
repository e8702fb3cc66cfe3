// `gear-seg cache stats|clear`: the stage cache under $GEAR_SEG_HOME (default ~/.cache/gear-seg).
import type { Command } from "commander";
import type { SqliteStageCache } from "../../cache/sqlite-cache.js";
import { loadConfig } from "../../config/index.js";
import { action, makeIo, type GlobalFlags, type Io } from "../app.js";

interface CacheFlags {
  config?: string;
  json?: boolean;
}

async function openCache(flags: CacheFlags, io: Io): Promise<SqliteStageCache> {
  const config = await loadConfig(flags.config);
  // Loaded here so that other commands never load the SQLite addon.
  const { SqliteStageCache, defaultCachePath } = await import("../../cache/sqlite-cache.js");
  // A damaged file is moved aside and named on stderr even with --quiet: the user asked about the cache.
  return new SqliteStageCache(config?.cache.path ?? defaultCachePath(), { maxBytes: config?.cache.maxBytes, onNotice: (message) => io.err(message) });
}

export function registerCache(program: Command): void {
  const cache = program.command("cache").description("inspect or empty the cache of regions, descriptions and captions");
  cache
    .command("stats")
    .description("what the cache holds, its size and its limit")
    .option("--config <file>", "config file (its cache.path)")
    .option("--json", "print JSON")
    .action(
      action(async (flags: CacheFlags, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const c = await openCache(flags, io);
        try {
          const s = c.stats();
          if (flags.json) {
            const { cacheStatsToJson } = await import("../../cache/sqlite-cache.js");
            return io.out(JSON.stringify(cacheStatsToJson(s), null, 2));
          }
          const row = (label: string, v: { entries: number; bytes: number }, what: string) =>
            io.out(`${label.padEnd(13)}${String(v.entries).padStart(7)} ${what.padEnd(22)}${formatBytes(v.bytes).padStart(10)}`);
          io.out(`cache        ${s.path}`);
          row("images", s.stages.image, "file → pixel keys");
          row("regions", s.stages.regions, `region sets (${s.images} image${s.images === 1 ? "" : "s"})`);
          row("descriptions", s.stages.descriptions, "description sets");
          row("captions", s.stages.caption, "scene captions");
          io.out(`size         ${formatBytes(s.payloadBytes)} of entries, limit ${formatBytes(s.maxBytes)} (least recently used go first); ${formatBytes(s.fileBytes)} on disk`);
          if (s.oldestUse !== null && s.newestUse !== null) {
            io.out(`last used    ${new Date(s.oldestUse).toISOString().slice(0, 16)} … ${new Date(s.newestUse).toISOString().slice(0, 16)} (UTC)`);
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
        const c = await openCache(flags, io);
        try {
          const { entries } = c.clear();
          io.out(`cleared ${c.path}: ${entries} entr${entries === 1 ? "y" : "ies"}`);
        } finally {
          await c.close();
        }
      }),
    );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
