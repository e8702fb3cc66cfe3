import { resolve } from "node:path";
import type { Command } from "commander";
import { EXPORT_FORMATS, exportDataset, importLabelMe } from "../../export/index.js";
import { UsageError } from "../../util/errors.js";
import { action, makeIo, type GlobalFlags } from "../app.js";
import { ensureWritableDir } from "../output-dir.js";

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("export a gear-seg dataset folder for training or review")
    .argument("<dataset-dir>", "a folder written by engine generate or label")
    .requiredOption("--format <format>", `one of ${EXPORT_FORMATS.join(", ")}`)
    .requiredOption("-o, --out <dir>", "output folder")
    .option("--polygons", "coco: polygons instead of RLE")
    .option("--name <name>", "reasonseg: the dataset name for LISA's --reason_seg_data \"<name>|train\"", "GearSeg")
    .action(
      action(async (dir: string, flags: { format: string; out: string; polygons?: boolean; name: string }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        if (!(EXPORT_FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}, got "${flags.format}"`);
        const out = resolve(flags.out);
        await ensureWritableDir(out);
        io.out(await exportDataset(resolve(dir), flags.format, out, { polygons: flags.polygons, name: flags.name }));
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
        if (format !== "labelme") throw new UsageError(`import: only "labelme" is supported, got "${format}"`);
        const s = await importLabelMe(resolve(dir), resolve(flags.into));
        for (const w of s.warnings) io.err(`warning: ${w}`);
        io.out(`${s.files} files, ${s.images} images updated: ${s.changed} annotations changed, ${s.deleted} deleted, ${s.added} added`);
      }),
    );
}
