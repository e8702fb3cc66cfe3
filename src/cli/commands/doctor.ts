// `gear-seg doctor`: one tiny real call to every configured backend, in a table; exit 1 when one fails.
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { formatDoctorTable, runDoctor } from "../../stack/doctor.js";
import { action, makeIo, type GlobalFlags } from "../app.js";

interface DoctorFlags {
  config?: string;
  segmenter?: string;
  describer?: string;
  captioner?: string;
  reasoner?: string;
  detector?: string;
  json?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check that every configured backend is reachable and working (one tiny real call each)")
    .option("--config <file>", "config file (default: gear-seg.config.json or .yaml in the working folder)")
    .option("--segmenter <spec>", "also check this segmenter (overrides the config's)")
    .option("--describer <spec>", "also check this describer (overrides the config's)")
    .option("--captioner <spec>", "also check this captioner (overrides the config's)")
    .option("--reasoner <spec>", "also check this reasoner (overrides the config's)")
    .option("--detector <spec>", "also check this detector (overrides the config's)")
    .option("--json", "print the rows as JSON")
    .action(
      action(async (flags: DoctorFlags, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const config = await loadConfig(flags.config);
        if (!config && !io.quiet) io.err("no config file: checking the flags' backends and the offline defaults");
        const { segmenter, describer, captioner, reasoner, detector } = flags;
        const rows = await runDoctor(config, { segmenter, describer, captioner, reasoner, detector });
        io.out(flags.json ? JSON.stringify(rows, null, 2) : formatDoctorTable(rows));
        const failed = rows.filter((r) => !r.ok).length;
        if (failed > 0) {
          if (!flags.json) io.out(`${failed} of ${rows.length} backend(s) failed`);
          process.exitCode = 1;
        }
      }),
    );
}
