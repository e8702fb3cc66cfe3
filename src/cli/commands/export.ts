import { resolve } from "node:path";
import type { Command } from "commander";
import { importIntoDataset } from "../../engine/status.js";
import { EXPORT_FORMATS, exportDataset } from "../../export/index.js";
import { UsageError } from "../../util/errors.js";
import { action, makeIo, type GlobalFlags } from "../app.js";

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("export a gear-seg dataset folder (or a folder of segment runs) for training or review; replaces an earlier export in --out as a whole")
    .argument("<dir>", "a folder written by engine generate or label, or a folder of segment results (result.json files)")
    .requiredOption("--format <format>", `one of ${EXPORT_FORMATS.join(", ")} (segment runs: coco, yolo, labelme)`)
    .requiredOption("-o, --out <dir>", "output folder: new, empty, or an earlier gear-seg export (replaced atomically)")
    .option("--polygons", "coco: polygons instead of RLE")
    .option("--name <name>", "reasonseg: the dataset name for LISA's --reason_seg_data \"<name>|train\"", "GearSeg")
    .option("--json", "print what was written as JSON")
    .action(
      action(async (dir: string, flags: { format: string; out: string; polygons?: boolean; name: string; json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}, got "${flags.format}"`);
        if (!flags.out.trim()) throw new UsageError("--out is empty");
        const r = await exportDataset(resolve(dir), flags.format, resolve(flags.out), { polygons: flags.polygons, name: flags.name });
        for (const d of r.damaged) io.err(`damaged record ${d.file} (${d.reason}) moved to ${d.movedTo}; rerun the engine to redo its image`);
        io.out(flags.json ? JSON.stringify(r, null, 2) : r.summary);
      }),
    );

  program
    .command("import")
    .description("read corrected annotations back into a dataset")
    .argument("<format>", "labelme")
    .argument("<dir>", "folder of LabelMe JSON files (as written by export --format labelme)")
    .requiredOption("--into <dataset-dir>", "the dataset to update")
    .action(
      action(async (format: string, dir: string, flags: { into: string }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const s = await importIntoDataset(format, resolve(dir), resolve(flags.into));
        for (const w of s.warnings) io.err(`warning: ${w}`);
        io.out(`${s.files} files, ${s.images} images updated: ${s.changed} annotations changed, ${s.deleted} deleted, ${s.added} added`);
      }),
    );
}
