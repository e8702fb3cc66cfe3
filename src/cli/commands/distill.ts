import { resolve } from "node:path";
import type { Command } from "commander";
import { distillCommands, runIfInstalled } from "../../export/distill.js";
import { UsageError } from "../../util/errors.js";
import { action, makeIo, type GlobalFlags } from "../app.js";

export function registerDistill(program: Command): void {
  program
    .command("distill")
    .description("train a student on a dataset: exports it, then runs the trainer if installed or prints the exact commands")
    .argument("<student>", "yolo (ultralytics YOLOv8-seg) or lisa")
    .argument("<dataset-dir>", "a gear-seg dataset folder")
    .option("-o, --out <dir>", "where the export goes (default: <dataset-dir>/export-<student>)")
    .option("--model <weights>", "yolo: starting weights", "yolov8s-seg.pt")
    .option("--epochs <n>", "yolo: epochs", "100")
    .option("--imgsz <n>", "yolo: image size", "640")
    .option("--name <name>", "lisa: dataset name", "GearSeg")
    .option("--print", "only print the commands, even if the trainer is installed")
    .action(
      action(async (student: string, dir: string, flags: { out?: string; model: string; epochs: string; imgsz: string; name: string; print?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        if (student !== "yolo" && student !== "lisa") throw new UsageError(`distill: the student must be yolo or lisa, got "${student}"`);
        const out = resolve(flags.out ?? resolve(dir, `export-${student}`));
        const plan = await distillCommands(student, resolve(dir), out, flags);
        io.out(plan.exported);
        if (!flags.print && plan.run) {
          const ran = await runIfInstalled(plan.run, io.err);
          if (ran !== undefined) {
            if (ran !== 0) process.exitCode = 1;
            return;
          }
          io.out(`${plan.run.command} is not installed here; run this on a machine that has it:`);
        } else {
          io.out("run these commands:");
        }
        for (const line of plan.commands) io.out(`  ${line}`);
      }),
    );
}
