/**
 * Writes a segmentation run's files into a folder: result.json, mask.png, overlay.png, candidates.png (and the
 * reference's answer/descriptions files on request). Everything is rendered in memory first and each file is
 * written atomically, so a failed run leaves no half-written file.
 */
import { basename, join } from "node:path";
import { renderCandidates, renderMaskPng, renderOverlay } from "../image/index.js";
import type { RgbImage } from "../image/types.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import type { PreparedImage, SegmentationResult } from "./agent.js";
import { preparedToJson, resultToJson, toReferenceAnswer, toReferenceDescriptions } from "./result.js";

export interface OutputOptions {
  /** Also write the GEAR-Seg reference's answer.json and descriptions.json. */
  reference?: boolean;
  /** Skip candidates.png (when several queries share one, it is written once by the caller). */
  candidates?: boolean;
}

export async function writeSegmentationOutputs(
  dir: string,
  result: SegmentationResult,
  image: RgbImage,
  options: OutputOptions = {},
): Promise<string[]> {
  const byId = new Map(result.prepared.regions.map((r) => [r.id, r]));
  const chosen = result.maskIds.map((id) => byId.get(id)!);
  const caption = `${result.query}  →  ${result.maskIds.length ? `mask${result.maskIds.length > 1 ? "s" : ""} ${result.maskIds.join(", ")}` : "no match"}`;
  const files: [string, string | Uint8Array][] = [
    ["result.json", JSON.stringify(resultToJson(result), null, 2) + "\n"],
    ["mask.png", await renderMaskPng(result.mask)],
    ["overlay.png", await renderOverlay(image, chosen, { caption, union: result.mask })],
  ];
  if (options.candidates !== false) files.push(["candidates.png", await renderCandidates(image, result.prepared.regions)]);
  if (options.reference) {
    files.push(["answer.json", JSON.stringify(toReferenceAnswer(result, basename(result.prepared.source)), null, 2) + "\n"]);
    files.push(["descriptions.json", JSON.stringify(toReferenceDescriptions(result.prepared), null, 2) + "\n"]);
  }
  // result.json last: its presence says the folder is complete (a run killed midway leaves no result.json).
  files.push(files.shift()!);
  for (const [name, data] of files) await writeFileAtomic(join(dir, name), data);
  return files.map(([name]) => join(dir, name));
}

/** The sub-folder of the `index`-th (0-based) of several queries: `01-the-red-car`. */
export function queryFolderName(index: number, query: string): string {
  const slug =
    query
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 40) || "query";
  return `${String(index + 1).padStart(2, "0")}-${slug}`;
}

/** The files `writeSegmentationOutputs` writes, relative to the image's folder, for these queries. */
export function plannedOutputFiles(queries: readonly string[], options: OutputOptions = {}): string[] {
  const perQuery = ["result.json", "mask.png", "overlay.png", ...(options.reference ? ["answer.json", "descriptions.json"] : [])];
  if (queries.length === 1) return [...perQuery, "candidates.png"];
  return ["candidates.png", ...queries.flatMap((q, i) => perQuery.map((f) => join(queryFolderName(i, q), f)))];
}

/** `describe` output: regions.json (and candidates.png). */
export async function writePreparedOutputs(dir: string, prepared: PreparedImage, image: RgbImage): Promise<string[]> {
  const candidates = await renderCandidates(image, prepared.regions);
  await writeJsonAtomic(join(dir, "regions.json"), preparedToJson(prepared));
  await writeFileAtomic(join(dir, "candidates.png"), candidates);
  return [join(dir, "regions.json"), join(dir, "candidates.png")];
}
