import { resolve } from "node:path";
import type { Command } from "commander";
import { writePreparedOutputs } from "../../pipeline/outputs.js";
import { preparedToJson } from "../../pipeline/result.js";
import { action, addStackOptions, makeIo, stackFromFlags, type GlobalFlags, type StackFlags } from "../app.js";
import { checkWritableDir } from "../../util/fs.js";
import { outFlag, pictureFormatFlag, refuseToReplace } from "../output-dir.js";

interface DescribeFlags extends StackFlags {
  out?: string;
  overwrite?: boolean;
  json?: boolean;
  imageFormat?: string;
}

export function registerDescribe(program: Command): void {
  const cmd = program
    .command("describe")
    .description("propose and describe regions (no reasoning); --describer none for regions only")
    .argument("<image>", "image file")
    .option("-o, --out <dir>", "also write regions.json and candidates.png into this folder")
    .option("--overwrite", "replace regions.json and candidates.png already in that folder")
    .option("--image-format <format>", "png or jpg: encoding of candidates", "png")
    .option("--json", "print the regions as JSON");
  addStackOptions(cmd, { reasoner: false }).action(
    action(async (image: string, flags: DescribeFlags, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const out = outFlag(flags.out);
      const outDir = out !== undefined ? resolve(out) : undefined;
      const imageFormat = pictureFormatFlag(flags.imageFormat);
      const candidates = `candidates.${imageFormat}`;
      if (outDir) {
        if (!flags.overwrite) refuseToReplace(outDir, ["regions.json", candidates]);
        await checkWritableDir(outDir);
      }
      const { agent } = await stackFromFlags(flags, io, { reasoner: "none" });
      try {
        const prepared = await agent.prepare(image);
        if (outDir) await writePreparedOutputs(outDir, prepared, prepared.image, { imageFormat });
        if (flags.json) {
          io.out(JSON.stringify(preparedToJson(prepared), null, 2));
          return;
        }
        io.out(`${prepared.source}: ${prepared.width}×${prepared.height}, ${prepared.regions.length} regions`);
        if (prepared.scene) io.out(`scene: ${prepared.scene}`);
        prepared.regions.forEach((r, i) => {
          const d = prepared.descriptions[i];
          io.out(`[${r.id}] area ${r.area} bbox ${r.bbox.join(",")}${d ? `: ${d}` : ""}`);
        });
        if (outDir) io.out(`wrote ${outDir}/{regions.json,${candidates}}`);
      } finally {
        await agent.close();
      }
    }),
  );
}
