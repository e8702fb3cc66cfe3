#!/bin/sh
//bin/true; export GLIBC_TUNABLES="glibc.malloc.hugetlb=1${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"; [ "$(nproc 2>/dev/null)" = 1 ] && exec node --no-concurrent-recompilation "$0" "$@"; exec node "$0" "$@"
// The gear-seg command line: parses, calls the library, prints. Each command lives in ./commands.
//
// Run as a program (the `gear-seg` bin), the file is first a shell script of the two lines above (to Node, the
// first is a hashbang and the second a comment; to the shell, `//bin/true` is /bin/true): it runs Node on this
// same file with glibc's malloc on transparent huge pages. Fresh memory is what a run pays most for (a page
// fault per 4 KB page, about 3 ms of CPU per fresh megabyte on a virtual machine): the offline default took
// 49,000 page faults and 26,000 with it, 190 ms less CPU on one core. A user's own GLIBC_TUNABLES come after
// ours, so they win; `node main.js`, and C libraries other than glibc, run as before.
// On a single core (`nproc`: the CPUs the process may run on) V8 compiles optimised code on the main thread:
// compiled on a background thread that shares the one core, it arrives later and the main thread runs the
// interpreter's code meanwhile; the offline default took 2.36 s of CPU and 1.93 s with it (medians of 5, pinned,
// idle). On two cores and more the background thread is kept (wall 1.42 s against 1.64 s, unpinned).
import { Command, CommanderError } from "commander";
import { packageVersion } from "../util/dist-files.js";

type Register = (program: Command) => void;

/**
 * Every top-level command and the module that defines it. A run loads only the module of the command it names
 * (start-up is most of a short command's time: `eval coco` never loads sharp or the backends); help, a missing
 * or an unknown command loads them all, so commander can list them and suggest the right one.
 */
const COMMANDS: [names: string[], load: () => Promise<Register>][] = [
  [["segment"], async () => (await import("./commands/segment.js")).registerSegment],
  [["models"], async () => (await import("./commands/models.js")).registerModels],
  [["describe"], async () => (await import("./commands/describe.js")).registerDescribe],
  [["cache"], async () => (await import("./commands/cache.js")).registerCache],
  [["doctor"], async () => (await import("./commands/doctor.js")).registerDoctor],
  [["engine"], async () => (await import("./commands/engine.js")).registerEngine],
  [["export", "import"], async () => (await import("./commands/export.js")).registerExport],
  [["label"], async () => (await import("./commands/engine.js")).registerLabel],
  [["distill"], async () => (await import("./commands/distill.js")).registerDistill],
  [["eval"], async () => (await import("./commands/eval.js")).registerEval],
  [["worker"], async () => (await import("./commands/queue.js")).registerWorker],
  [["queue"], async () => (await import("./commands/queue.js")).registerQueue],
  [["serve"], async () => (await import("./commands/serve.js")).registerServe],
];

/** The command named on the command line: the first word that is not an option (the global ones take no value). */
function commandName(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith("-"));
}

const version = packageVersion();

// A closed stdout (`gear-seg … --json | head`) is no error: the output ends quietly, the command's work
// (files being written) still completes.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
});

const program = new Command("gear-seg")
  .description("Grounded, explainable reasoning segmentation: propose, describe, deduce.")
  .version(version)
  .option("--quiet", "no progress or notices on stderr")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

const named = commandName(process.argv);
const wanted = COMMANDS.filter(([names]) => named !== undefined && names.includes(named));
// `--version` alone needs no command at all; help, a missing or an unknown command needs them all.
const versionOnly = named === undefined && process.argv.slice(2).some((a) => a === "-V" || a === "--version");
const registers = versionOnly ? [] : await Promise.all((wanted.length > 0 ? wanted : COMMANDS).map(([, load]) => load()));
for (const register of registers) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every parse error is a usage error (2). Commander printed the message.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`gear-seg: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
