import { stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { SegmentationResult } from "../../pipeline/agent.js";
import { answerQueries, type QueryOutcome } from "../../pipeline/answers.js";
import { chooseRunFolder, isSegmentRunFolder, runSegmentBatch, segmentBatchSummaryToJson, segmentRunManifest, type SegmentBatchSummary } from "../../pipeline/batch.js";
import { plannedOutputFiles, resultFileJson, type OutputOptions } from "../../pipeline/outputs.js";
import type { QueryMode } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { checkWritableDir, claimFreshDir, makeDir } from "../../util/fs.js";
import { listImageFiles, namesImages, namesManyImages } from "../../util/image-files.js";
import { action, addStackOptions, addWorkersOption, inCliTerms, makeIo, stackFromFlags, type GlobalFlags, type Io, type StackFlags } from "../app.js";
import { outFlag, refuseToReplace, pictureFormatFlag } from "../output-dir.js";
import { formatSeconds } from "../progress.js";

interface SegmentFlags extends StackFlags {
  query?: string[];
  out?: string;
  overwrite?: boolean;
  mode: string;
  json?: boolean;
  reference?: boolean;
  imageFormat: string;
  regionMasks: boolean;
}

export function registerSegment(program: Command): void {
  const cmd = program
    .command("segment")
    .usage("IMAGE \"QUERY\" | IMAGE|DIR|GLOB… -q QUERY [-q QUERY …] [options]")
    .description(
      "segment what a query asks for: writes result.json, mask.png, overlay.png, candidates.png; " +
        "with folders or globs, one folder per image (resumable)",
    )
    .argument("<inputs...>", "an image file and its query, or image files, folders and quoted globs with -q")
    .option("-q, --query <text>", "a query (repeat for several; descriptions are computed once per image)", collect, [])
    .option("-o, --out <dir>", "output folder (default: out/<image or folder name>, or the next free out/<name>-2 …)")
    .option("--overwrite", "replace the results already in the output folder")
    .option("--mode <mode>", "reasoning (implicit queries) or referring (explicit, every instance)", "reasoning")
    .option("--json", "also print result.json on stdout (a list with several queries; the summary for many images)")
    .option("--reference", "also write the GEAR-Seg reference's answer.json and descriptions.json")
    .option("--image-format <format>", "png or jpg: encoding of overlay and candidates (mask.png stays PNG)", "png")
    .option("--no-region-masks", "leave every region's RLE out of result.json (most of its size)");
  addWorkersOption(addStackOptions(cmd)).action(
    action(async (inputs: string[], flags: SegmentFlags, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const { images, queries } = await splitArguments(inputs, flags.query ?? []);
      if (queries.some((q) => !q.trim())) throw new UsageError("the query is empty");
      const mode = parseMode(flags.mode);
      const out = outFlag(flags.out);
      const outputs = outputOptions(flags);
      const many = images.length > 1 || (await namesManyImages(images[0]!));
      if (many) await segmentMany(images, queries, mode, out, flags, outputs, io);
      else await segmentOne(images[0]!, queries, mode, out, flags, outputs, io);
    }),
  );
}

/** `IMAGE QUERY` (one image, one query) or `INPUTS… -q Q …`. */
async function splitArguments(inputs: string[], flagged: string[]): Promise<{ images: string[]; queries: string[] }> {
  if (flagged.length > 0) return { images: inputs, queries: flagged };
  if (inputs.length === 1) throw new UsageError('give a query: gear-seg segment IMAGE "QUERY" (or -q QUERY)');
  if (inputs.length > 2) throw new UsageError("with several images, folders or globs, give the queries with -q QUERY");
  const [image, query] = inputs as [string, string];
  if (query.trim() && (await namesImages(query))) {
    throw new UsageError(`"${query}" names a file, a folder or images, not a query: give the queries with -q QUERY`);
  }
  return { images: [image], queries: [query] };
}

async function segmentOne(
  image: string,
  queries: string[],
  mode: QueryMode,
  out: string | undefined,
  flags: SegmentFlags,
  outputs: OutputOptions,
  io: Io,
): Promise<void> {
  const base = resolve(out ?? join("out", basename(image, extname(image))));
  // An explicit folder is written as given, but never over results without --overwrite; the default one is
  // the next free out/<name>, out/<name>-2 … unless --overwrite says to replace out/<name>.
  const explicit = out !== undefined || flags.overwrite === true;
  if (out !== undefined && !flags.overwrite) refuseToReplace(base, plannedOutputFiles(queries, outputs));
  await checkWritableDir(base);

  const { agent } = await stackFromFlags(flags, io);
  let outcomes: QueryOutcome[];
  try {
    const prepared = await agent.prepare(image);
    outcomes = await answerQueries(agent, prepared, queries, {
      mode,
      ...outputs,
      folder: async () => {
        if (!explicit) return claimFreshDir(base);
        await makeDir(base);
        return base;
      },
      onQuery: (o) => {
        // One query: its failure is the command's error (below), printed once.
        if (!flags.json && (queries.length > 1 || o.error === undefined)) printOutcome(o, queries.length > 1, outputs, io);
      },
    });
  } finally {
    await agent.close();
  }
  if (queries.length === 1 && outcomes[0]!.error !== undefined) throw outcomes[0]!.error;
  const answered = outcomes.filter((o) => o.result).map((o) => resultFileJson(o.result!, outputs));
  if (flags.json) io.out(JSON.stringify(queries.length > 1 ? answered : answered[0], null, 2));
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length > 0) {
    io.err(`gear-seg: ${failed.length} of ${queries.length} queries failed: ${failed.map((o) => `"${o.query}"`).join(", ")}`);
    process.exitCode = 1;
  }
}

function printOutcome(o: QueryOutcome, many: boolean, outputs: OutputOptions, io: Io): void {
  if (o.error !== undefined) {
    io.err(`${o.query}\n  ✗ failed: ${inCliTerms(o.message ?? "")}`);
    return;
  }
  const r = o.result as SegmentationResult;
  const ids = r.maskIds.length ? `mask${r.maskIds.length > 1 ? "s" : ""} ${r.maskIds.join(", ")}` : "no region";
  // The explanation on its own line: it often names the masks itself ("Mask 7: …").
  io.out(`${o.query}\n  → ${ids}${r.explanation ? `\n    ${r.explanation}` : ""}`);
  for (const w of r.warnings) io.out(`  ! ${w}`);
  const f = outputs.imageFormat ?? "png";
  io.out(`  wrote ${o.dir}/{result.json,mask.png,overlay.${f}${many ? "" : `,candidates.${f}`}}`);
}

async function segmentMany(
  inputs: string[],
  queries: string[],
  mode: QueryMode,
  out: string | undefined,
  flags: SegmentFlags,
  outputs: OutputOptions,
  io: Io,
): Promise<void> {
  // Earlier runs' folders (their overlays are images too) are never taken for input.
  const images = await listImageFiles(inputs, { skipFolder: isSegmentRunFolder });
  // One folder: out/<its name>; several inputs or a glob: out/images.
  const single = inputs.length === 1 ? await stat(inputs[0]!).catch(() => null) : null;
  const name = single?.isDirectory() ? basename(resolve(inputs[0]!)) || "images" : "images";
  const base = resolve(out ?? join("out", name));
  await checkWritableDir(base);
  const { agent } = await stackFromFlags(flags, io, {}, undefined, { many: true });
  let summary: SegmentBatchSummary;
  try {
    const manifest = segmentRunManifest(agent, queries, mode, outputs);
    const { dir, resumed } = await chooseRunFolder(base, manifest, { fresh: out === undefined && !flags.overwrite, overwrite: flags.overwrite });
    if (resumed && !io.quiet) io.err(`resuming the run in ${dir}`);
    let resumedImages = 0;
    io.progress.updateOverall("images", 0, images.length);
    summary = await runSegmentBatch({
      agent,
      images,
      queries,
      mode,
      dir,
      ...outputs,
      onProgress: (done, total, _image, wasResumed) => {
        if (wasResumed) resumedImages++;
        io.progress.updateOverall("images", done, total, resumedImages);
      },
      onFailure: (image, message, query) => io.err(`! ${image.id}${query !== undefined ? ` "${query}"` : ""}: ${inCliTerms(message)}`),
    });
  } finally {
    io.progress.finish();
    await agent.close();
  }
  if (flags.json) io.out(JSON.stringify(segmentBatchSummaryToJson(summary), null, 2));
  else printSummary(summary, io);
  if (summary.failed.length > 0) process.exitCode = 1;
}

function printSummary(s: SegmentBatchSummary, io: Io): void {
  const width = Math.min(48, Math.max(5, ...s.queries.map((q) => q.query.length)));
  const cell = (v: string | number, w = 9) => String(v).padStart(w);
  io.out(`${"query".padEnd(width)} ${cell("images")} ${cell("answered")} ${cell("empty")} ${cell("failed")}`);
  for (const q of s.queries) {
    const label = q.query.length > width ? q.query.slice(0, width - 1) + "…" : q.query.padEnd(width);
    io.out(`${label} ${cell(s.images)} ${cell(q.answered)} ${cell(q.empty)} ${cell(q.failed)}`);
  }
  const resumed = s.resumed > 0 ? `, ${s.resumed} resumed` : "";
  io.out(`${s.images} image${s.images === 1 ? "" : "s"}${resumed}, ${s.failed.length} failed, in ${formatSeconds(s.elapsedMs / 1000)} → ${s.dir}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** What the flags ask of the written files (checked before anything is written). */
function outputOptions(flags: SegmentFlags): OutputOptions {
  return { reference: flags.reference, imageFormat: pictureFormatFlag(flags.imageFormat), regionMasks: flags.regionMasks };
}

export function parseMode(mode: string): QueryMode {
  if (mode === "reasoning" || mode === "referring") return mode;
  throw new UsageError(`--mode must be "reasoning" or "referring", got "${mode}"`);
}
