/**
 * Writes a segmentation run's files into a folder: result.json, mask.png, overlay.png, candidates.png (and the
 * reference's answer/descriptions files on request). Everything is rendered in memory first and each file is
 * written atomically, so a failed run leaves no half-written file.
 */
import { basename, join } from "node:path";
import { encodeGreyPng, maskGrey, renderCandidates, renderOverlay, type PictureFormat } from "../image/index.js";
import type { RgbImage } from "../image/types.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/fs.js";
import type { PreparedImage, SegmentationResult } from "./agent.js";
import { preparedToJson, resultToJson, toReferenceAnswer, toReferenceDescriptions } from "./result.js";

export interface OutputOptions {
  /** Also write the GEAR-Seg reference's answer.json and descriptions.json. */
  reference?: boolean;
  /** Skip candidates.png (when several queries share one, it is written once by the caller). */
  candidates?: boolean;
  /** Encoding of overlay and candidates (default png; jpg is a tenth of the size). mask.png stays PNG. */
  imageFormat?: PictureFormat;
  /** false: result.json leaves out every region's RLE (`regions[].segmentation`), its largest part. */
  regionMasks?: boolean;
}

export async function writeSegmentationOutputs(
  dir: string,
  result: SegmentationResult,
  image: RgbImage,
  options: OutputOptions = {},
): Promise<string[]> {
  const byId = new Map(result.prepared.regions.map((r) => [r.id, r]));
  const chosen = result.maskIds.map((id) => byId.get(id)!);
  const format = options.imageFormat ?? "png";
  // Each picture is painted on this thread and encoded on libuv's: the next one is painted while the last
  // one encodes (the same bytes as one after the other). The answer's mask is decoded once, for mask.png
  // and for what the overlay dims.
  const union = maskGrey(result.mask);
  const [mask, overlay, candidates] = await Promise.all([
    encodeGreyPng(union),
    renderOverlay(image, chosen, { ...answerCaption(result), union, format }),
    options.candidates !== false ? renderCandidates(image, result.prepared.regions, { format }) : undefined,
  ]);
  const files: [string, string | Uint8Array][] = [
    ["result.json", JSON.stringify(resultFileJson(result, options), null, 2) + "\n"],
    ["mask.png", mask],
    [`overlay.${format}`, overlay],
  ];
  if (candidates) files.push([`candidates.${format}`, candidates]);
  if (options.reference) {
    files.push(["answer.json", JSON.stringify(toReferenceAnswer(result, basename(result.prepared.source)), null, 2) + "\n"]);
    files.push(["descriptions.json", JSON.stringify(toReferenceDescriptions(result.prepared), null, 2) + "\n"]);
  }
  // result.json last: its presence says the folder is complete (a run killed midway leaves no result.json).
  files.push(files.shift()!);
  for (const [name, data] of files) await writeFileAtomic(join(dir, name), data);
  return files.map(([name]) => join(dir, name));
}

/** result.json's content: `resultToJson`, without the regions' RLE when `regionMasks` is false. */
export function resultFileJson(result: SegmentationResult, options: Pick<OutputOptions, "regionMasks"> = {}) {
  const json = resultToJson(result);
  if (options.regionMasks !== false) return json;
  return { ...json, regions: json.regions.map(({ segmentation: _, ...region }) => region) };
}

/** The overlay's caption: the query, then the answer ("masks 3, 8"), which is shown whole however long the
 * query is. */
export function answerCaption(result: Pick<SegmentationResult, "query" | "maskIds">): { caption: string; captionTail: string } {
  const n = result.maskIds.length;
  return { caption: result.query, captionTail: n ? `mask${n > 1 ? "s" : ""} ${result.maskIds.join(", ")}` : "no match" };
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
  const format = options.imageFormat ?? "png";
  const perQuery = ["result.json", "mask.png", `overlay.${format}`, ...(options.reference ? ["answer.json", "descriptions.json"] : [])];
  if (queries.length === 1) return [...perQuery, `candidates.${format}`];
  return [`candidates.${format}`, ...queries.flatMap((q, i) => perQuery.map((f) => join(queryFolderName(i, q), f)))];
}

/** `describe` output: regions.json and candidates.png (or .jpg). */
export async function writePreparedOutputs(dir: string, prepared: PreparedImage, image: RgbImage, options: Pick<OutputOptions, "imageFormat"> = {}): Promise<string[]> {
  const format = options.imageFormat ?? "png";
  const candidates = await renderCandidates(image, prepared.regions, { format });
  const files = [join(dir, `candidates.${format}`), join(dir, "regions.json")];
  await writeFileAtomic(files[0]!, candidates);
  // regions.json last: its presence says the folder is complete.
  await writeJsonAtomic(files[1]!, preparedToJson(prepared));
  return files;
}
