import { basename, extname, join, resolve } from "node:path";
import type { Command } from "commander";
import { writeSegmentationOutputs } from "../../pipeline/outputs.js";
import { resultToJson } from "../../pipeline/result.js";
import { writeFileAtomic } from "../../util/fs.js";
import { renderCandidates, type PictureFormat } from "../../image/index.js";
import type { QueryMode } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { action, addStackOptions, makeIo, stackFromFlags, type GlobalFlags, type StackFlags } from "../app.js";
import { ensureWritableDir } from "../output-dir.js";

interface SegmentFlags extends StackFlags {
  query?: string[];
  out?: string;
  mode: string;
  json?: boolean;
  reference?: boolean;
  imageFormat: string;
  regionMasks: boolean;
}

export function registerSegment(program: Command): void {
  const cmd = program
    .command("segment")
    .description("segment what a query asks for: writes result.json, mask.png, overlay.png, candidates.png")
    .argument("<image>", "image file (JPEG, PNG, WebP, TIFF)")
    .argument("[query]", "the question or description, e.g. \"what powers this ship?\"")
    .option("-q, --query <text>", "a query (repeat for several; descriptions are computed once)", collect, [])
    .option("-o, --out <dir>", "output folder (default: out/<image name>)")
    .option("--mode <mode>", "reasoning (implicit queries) or referring (explicit, every instance)", "reasoning")
    .option("--json", "also print result.json on stdout")
    .option("--reference", "also write the GEAR-Seg reference's answer.json and descriptions.json")
    .option("--image-format <format>", "png or jpg: encoding of overlay and candidates (mask.png stays PNG)", "png")
    .option("--no-region-masks", "leave every region's RLE out of result.json (most of its size)");
  addStackOptions(cmd).action(
    action(async (image: string, query: string | undefined, flags: SegmentFlags, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const queries = [...(query !== undefined ? [query] : []), ...(flags.query ?? [])];
      if (queries.length === 0) throw new UsageError("give a query: gear-seg segment IMAGE \"QUERY\" (or -q QUERY)");
      if (queries.some((q) => !q.trim())) throw new UsageError("the query is empty");
      const mode = parseMode(flags.mode);
      const format = parseImageFormat(flags.imageFormat);
      const outDir = resolve(flags.out ?? join("out", basename(image, extname(image))));
      await ensureWritableDir(outDir);

      const { agent } = await stackFromFlags(flags, io);
      try {
        const prepared = await agent.prepare(image);
        const results = [];
        const many = queries.length > 1;
        if (many) await writeFileAtomic(join(outDir, `candidates.${format}`), await renderCandidates(prepared.image, prepared.regions, { format }));
        for (const [i, q] of queries.entries()) {
          const result = await agent.ask(prepared, q, { mode });
          const dir = many ? join(outDir, `${String(i + 1).padStart(2, "0")}-${slug(q)}`) : outDir;
          const files = await writeSegmentationOutputs(dir, result, prepared.image, {
            reference: flags.reference,
            candidates: !many,
            imageFormat: format,
            regionMasks: flags.regionMasks,
          });
          results.push(resultToJson(result, { regionMasks: flags.regionMasks }));
          if (!flags.json) {
            const ids = result.maskIds.length ? `mask${result.maskIds.length > 1 ? "s" : ""} ${result.maskIds.join(", ")}` : "no region";
            io.out(`${q}\n  → ${ids}: ${result.explanation}`);
            for (const w of result.warnings) io.out(`  ! ${w}`);
            io.out(`  wrote ${dir}/{${files.map((f) => basename(f)).join(",")}}`);
          }
        }
        if (flags.json) io.out(JSON.stringify(many ? results : results[0], null, 2));
      } finally {
        await agent.close();
      }
    }),
  );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseMode(mode: string): QueryMode {
  if (mode === "reasoning" || mode === "referring") return mode;
  throw new UsageError(`--mode must be "reasoning" or "referring", got "${mode}"`);
}

function parseImageFormat(format: string): PictureFormat {
  if (format === "png" || format === "jpg") return format;
  if (format === "jpeg") return "jpg";
  throw new UsageError(`--image-format must be "png" or "jpg", got "${format}"`);
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 40) || "query"
  );
}
