/**
 * Reasoning-segmentation predictions, in either of two forms:
 * - the GEAR-Seg reference's answer files (`answers/json/<name>.json`: `answer_mask_id`, `explanation`,
 *   `shapes[0].counts` = the union of the chosen masks as a COCO compressed RLE string, sized like the image);
 * - gear-seg result folders (`<name>/result.json`, schema in src/pipeline/result.ts: `mask: {size, counts}`,
 *   `mask_ids`, and every region's `segmentation`).
 * A prediction folder may hold either, per sample: `<dir>/<id>.json`, `<dir>/<id>/result.json`, or the same
 * under `<dir>/samples/` (what `gear-seg eval run` writes).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { encode, fromCocoRle, rleFromString } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { expectArray, expectInteger, expectObject, expectString, isObject, jsonError, readDatasetJson } from "./json-check.js";

export interface Proposal {
  id: number;
  rle: Rle;
}

export interface ReasonPrediction {
  /** The predicted mask (the union of the chosen regions). */
  mask: Rle;
  /** The chosen region ids, when the file says. */
  maskIds?: number[];
  /** Every proposal the reasoner could choose from, when the file has them (result.json). */
  proposals?: Proposal[];
  file: string;
}

async function exists(path: string, kind: "file" | "dir"): Promise<boolean> {
  try {
    const s = await stat(path);
    return kind === "file" ? s.isFile() : s.isDirectory();
  } catch {
    return false;
  }
}

/** A predictions folder must exist: a mistyped path must not score as "every prediction empty". */
export async function checkPredictionFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new GearSegError(`predictions folder "${dir}" does not exist`);
  if (!info.isDirectory()) throw new GearSegError(`predictions folder "${dir}" is a file, not a folder`);
}

/** The file holding sample `id`'s prediction, or undefined. */
export async function findPredictionFile(dir: string, id: string): Promise<string | undefined> {
  const roots = (await exists(join(dir, "samples"), "dir")) ? [join(dir, "samples"), dir] : [dir];
  for (const root of roots) {
    for (const f of [join(root, `${id}.json`), join(root, id, "result.json")]) if (await exists(f, "file")) return f;
  }
  return undefined;
}

/**
 * Reads one prediction file of either form. `height` × `width` is the image's size: the reference's answer
 * strings carry no size.
 */
export async function readReasonPrediction(file: string, height: number, width: number): Promise<ReasonPrediction> {
  const json = expectObject(await readDatasetJson(file), file, "");
  if (isObject(json.mask)) return parseResultJson(json, file);
  if (Array.isArray(json.shapes)) return parseReferenceAnswer(json, file, height, width);
  throw jsonError(file, "", "neither a gear-seg result.json (mask) nor a reference answer file (shapes[0].counts)");
}

function parseIds(v: unknown, file: string, path: string): number[] {
  return expectArray(v, file, path).map((x, i) => {
    const n = typeof x === "string" && /^\d+$/.test(x.trim()) ? Number(x.trim()) : x;
    return expectInteger(n, file, `${path}[${i}]`);
  });
}

function parseReferenceAnswer(json: Record<string, unknown>, file: string, height: number, width: number): ReasonPrediction {
  const shapes = expectArray(json.shapes, file, "shapes");
  if (shapes.length === 0) throw jsonError(file, "shapes", "empty list: no predicted mask");
  const shape = expectObject(shapes[0], file, "shapes[0]");
  const counts = expectString(shape.counts, file, "shapes[0].counts");
  let mask: Rle;
  try {
    mask = rleFromString(counts, height, width);
  } catch (err) {
    throw jsonError(file, "shapes[0].counts", `${(err as Error).message} (image is ${width}x${height})`);
  }
  const out: ReasonPrediction = { mask, file };
  if (json.answer_mask_id !== undefined) out.maskIds = parseIds(json.answer_mask_id, file, "answer_mask_id");
  return out;
}

function parseResultJson(json: Record<string, unknown>, file: string): ReasonPrediction {
  let mask: Rle;
  try {
    mask = fromCocoRle(json.mask, "mask");
  } catch (err) {
    throw jsonError(file, "mask", (err as Error).message);
  }
  const out: ReasonPrediction = { mask, file };
  if (json.mask_ids !== undefined) out.maskIds = parseIds(json.mask_ids, file, "mask_ids");
  if (json.regions !== undefined) {
    out.proposals = expectArray(json.regions, file, "regions").map((r, i) => {
      const region = expectObject(r, file, `regions[${i}]`);
      const id = expectInteger(region.id, file, `regions[${i}].id`);
      try {
        return { id, rle: fromCocoRle(region.segmentation, "segmentation") };
      } catch (err) {
        throw jsonError(file, `regions[${i}].segmentation`, (err as Error).message);
      }
    });
  }
  return out;
}

/**
 * The reference's SAM proposals for one image: `<dir>/mask_<i>.png` (0/255 PNGs, `i` = region id). Returns
 * undefined when the folder does not exist.
 */
export async function readProposalFolder(dir: string): Promise<Proposal[] | undefined> {
  if (!(await exists(dir, "dir"))) return undefined;
  const files = (await readdir(dir)).filter((f) => /^mask_\d+\.png$/i.test(f));
  // The PNG decoder (sharp) is loaded only when there are masks to read.
  const { loadMaskPng } = await import("../image/decode.js");
  const out: Proposal[] = [];
  for (const f of files) {
    const id = Number(/\d+/.exec(f)![0]);
    out.push({ id, rle: encode(await loadMaskPng(join(dir, f))) });
  }
  return out.sort((a, b) => a.id - b.id);
}

/** Throws a one-line error when a prediction's size differs from its image's. */
export function checkPredictionSize(pred: ReasonPrediction, height: number, width: number): void {
  if (pred.mask.height !== height || pred.mask.width !== width) {
    throw new GearSegError(`prediction "${pred.file}" is ${pred.mask.width}x${pred.mask.height} but its image is ${width}x${height}`);
  }
}
