/**
 * What every command shares: output streams, the error → exit-code convention (2 usage, 1 failure, one line
 * on stderr), progress, and the backend flags.
 */
import { availableParallelism } from "node:os";
import { Command, Option } from "commander";
import type { Stack, StackSpecs } from "../stack/stack.js";
import type { AgentStage } from "../pipeline/agent.js";
import { integer, number, parseWith } from "../config/schema.js";
import { redactText } from "../net/redact.js";
import { GearSegError, describeError } from "../util/errors.js";
import { Progress } from "./progress.js";

export interface GlobalFlags {
  quiet?: boolean;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  progress: Progress;
  quiet: boolean;
}

export function makeIo(flags: GlobalFlags): Io {
  const quiet = flags.quiet === true;
  const progress = Progress.forStderr(quiet);
  return {
    out: (text) => {
      progress.clear();
      process.stdout.write(text.endsWith("\n") ? text : text + "\n");
    },
    err: (text) => {
      progress.clear();
      process.stderr.write(text.endsWith("\n") ? text : text + "\n");
    },
    progress,
    quiet,
  };
}

/** Wrap a command action: errors become one line on stderr and the right exit code. */
/** Library messages name a setting as `option <name>` (the agent's, the server's, an evaluation's); the CLI says
 * how its user sets it. Backend options (`option "timeoutMs"`, `(option maxReplyBytes)`) are set alike in the
 * config file and keep their names. */
const FLAG_FOR_OPTION: Readonly<Record<string, string>> = {
  maxPixels: "--max-pixels",
  llm: "--llm",
  proposalsDir: "--proposals",
  token: "GEAR_SEG_TOKEN, or a variable named with --token-env",
};

/** A library message with its settings named as the CLI's flags. */
export function inCliTerms(message: string): string {
  return message.replace(/\boption (\w+)/g, (phrase, name: string) => FLAG_FOR_OPTION[name] ?? phrase);
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
      // Credentials in URLs never reach the terminal, whatever the message quotes.
      process.stderr.write(`gear-seg: ${redactText(inCliTerms(describeError(err)))}\n`);
      if (process.env.GEAR_SEG_DEBUG && err instanceof Error && err.stack) process.stderr.write(redactText(err.stack) + "\n");
      process.exitCode = err instanceof GearSegError ? err.exitCode : 1;
    }
  };
}

export interface StackFlags {
  segmenter?: string;
  describer?: string;
  captioner?: string;
  reasoner?: string;
  detector?: string;
  /** Seconds for one HTTP attempt of every HTTP backend. */
  timeout?: string;
  /** Seconds for one stage call. */
  stageTimeout?: string;
  maxPixels?: string;
  maxRegions?: string;
  maxMasks?: string;
  /** A config file (default: gear-seg.config.json / .yaml in the working folder). */
  config?: string;
  /** false with --no-cache. */
  cache?: boolean;
  /** sam2: the mask generator's preset. */
  amgPreset?: string;
  /** Preparation worker threads (commands that prepare many images). */
  workers?: string;
}

/** Flags that choose and tune the three stages. */
export function addStackOptions(cmd: Command, { reasoner = true } = {}): Command {
  cmd
    .option("--segmenter <spec>", "segmenter backend (e.g. classic, sam2:<dir>, masks:<dir>)")
    .option("--describer <spec>", "describer backend (e.g. attributes, dam:<url>, recorded:<file>, none)")
    .option("--captioner <spec>", "scene caption backend (e.g. openai-vision:<model>@<url>, none; default: the describer's own when it can caption)")
    .option("--detector <spec>", "object detector handed to the backends that use one (nanodet, or none; default: nanodet when the classic segmenter or the attributes describer is in use)");
  if (reasoner) cmd.option("--reasoner <spec>", "reasoner backend (e.g. wordnet, openai:<model>@<url>, recorded:<file>)");
  return cmd
    .option("--timeout <seconds>", "give up one request to a model server after this many seconds (HTTP backends)")
    .option("--stage-timeout <seconds>", "give up a stage (segment, describe, caption, reason) after this many seconds")
    .addOption(new Option("--max-pixels <n>", "refuse images larger than this many pixels").default(undefined))
    .option("--amg-preset <name>", "sam2 segmenter: mask generator preset, sam2-default or gear-seg (the GEAR-Seg reference's)")
    .option("--max-regions <n>", "keep at most this many regions, largest first (default 200)")
    .option("--max-masks <n>", "at most this many masks per answer (default 6)")
    .option("--config <file>", "config file (default: gear-seg.config.json or .yaml in the working folder)")
    .option("--no-cache", "neither read nor write the regions/descriptions cache ($GEAR_SEG_HOME, default ~/.cache/gear-seg)");
}

/** `--workers` for the commands that prepare many images (batch runs, the server). */
export function addWorkersOption(cmd: Command): Command {
  return cmd.option(
    "--workers <n>",
    "worker threads that prepare images (decode, segment, describe) with the offline default's backends; 0: in the main thread (default: one per core, or the config's workers)",
  );
}

export function integerFlag(value: string | undefined, flag: string, { min = 1 } = {}): number | undefined {
  if (value === undefined) return undefined;
  return parseWith(integer(min), value, flag, { fromText: true });
}

/** Seconds as text → milliseconds. */
export function secondsFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  return Math.round(parseWith(number(0.001, 86_400), value, flag, { fromText: true }) * 1000);
}

const STAGE_LABELS: Record<AgentStage, string> = {
  segment: "segment",
  describe: "describe",
  caption: "caption",
  reason: "reason",
};

/** Build the agent from flags (over the config file), print the offline-default notice once, wire progress
 * (to the terminal, or to `onStage` when given: the server reports it per image). */
export async function stackFromFlags(
  flags: StackFlags,
  io: Io,
  extra: Partial<StackSpecs> = {},
  onStage: (stage: AgentStage, done: number, total: number) => void = (stage, done, total) => io.progress.update(STAGE_LABELS[stage], done, total),
  /** `many`: the command prepares many images (a batch run, the server): it takes --workers, else the config's
   * workers, else one per core. Otherwise images are prepared in process (one image gains nothing from a
   * worker and would pay for its start). */
  { many = false }: { many?: boolean } = {},
): Promise<Stack> {
  // Loaded here, not at start-up: commands without backends (eval coco, cache, models) never pay for them.
  const { createConfiguredStack } = await import("../stack/configured.js");
  const { offlineDefaultNotice } = await import("../stack/stack.js");
  const chosen = { ...flags, ...extra };
  const stack = await createConfiguredStack({
    configPath: flags.config,
    specs: { segmenter: chosen.segmenter, describer: chosen.describer, captioner: chosen.captioner, reasoner: chosen.reasoner, detector: chosen.detector },
    maxPixels: integerFlag(flags.maxPixels, "--max-pixels"),
    maxRegions: integerFlag(flags.maxRegions, "--max-regions"),
    maxMasks: integerFlag(flags.maxMasks, "--max-masks"),
    timeoutMs: secondsFlag(flags.timeout, "--timeout"),
    stageTimeoutMs: secondsFlag(flags.stageTimeout, "--stage-timeout"),
    cache: flags.cache,
    amgPreset: flags.amgPreset,
    workers: many ? integerFlag(flags.workers, "--workers", { min: 0 }) : 0,
    defaultWorkers: many ? availableParallelism() : 0,
    onCacheNotice: (message) => io.quiet || io.err(message),
    onStage,
    notice: (message) => {
      if (!io.quiet) io.err(message);
    },
    onDownload: (what, received, total) => io.progress.update(`${what} (kB)`, Math.round(received / 1024), Math.round((total ?? received) / 1024)),
  });
  if (stack.offlineDefaults.length > 0 && !io.quiet) io.err(offlineDefaultNotice(stack.offlineDefaults));
  return stack;
}
