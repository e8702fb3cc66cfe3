#!/usr/bin/env node
// The gear-seg command line: parses, calls the library, prints. Each command lives in ./commands.
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { registerDescribe } from "./commands/describe.js";
import { registerSegment } from "./commands/segment.js";
import { registerModels } from "./commands/models.js";
import { registerCache } from "./commands/cache.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerEngine } from "./commands/engine.js";
import { registerExport } from "./commands/export.js";
import { registerLabel } from "./commands/engine.js";
import { registerDistill } from "./commands/distill.js";
import { registerEval } from "./commands/eval.js";
import { registerQueue, registerWorker } from "./commands/queue.js";
import { registerServe } from "./commands/serve.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

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

registerSegment(program);
registerModels(program);
registerDescribe(program);
registerCache(program);
registerDoctor(program);
registerEngine(program);
registerExport(program);
registerLabel(program);
registerDistill(program);
registerEval(program);
registerWorker(program);
registerQueue(program);
registerServe(program);

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
