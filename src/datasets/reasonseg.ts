/**
 * ReasonSeg (LISA, dvlab-research/LISA): LabelMe-style JSON per image with `text` (queries), `is_sentence`
 * and `shapes` (polygons labelled `target`, `ignore`, `flag`).
 *
 * Layouts: LISA's (`X.jpg` + `X.json` side by side) and the GEAR-Seg reference's (`images/X.jpg` +
 * `questions/X.json`).
 *
 * Ground truth is rasterised exactly as LISA's `get_mask_from_json` (dvlab-research/LISA
 * `utils/data_processing.py`): skip shapes whose label is `flag`; measure each polygon as the number of pixels
 * that `cv2.polylines` + `cv2.fillPoly` set; paint polygons from the largest to the smallest (`np.argsort(area)
 * [::-1]`; on equal areas the later polygon first, as a stable sort reversed), each with a closed 1-pixel
 * polyline and then a fill, points truncated to integers, value 255 when the label contains "ignore" and 1
 * otherwise.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { GearSegError } from "../util/errors.js";
import { imageSize } from "./image-size.js";
import { expectArray, expectNumber, expectObject, expectString, jsonError, readDatasetJson } from "./json-check.js";
import { fillPoly, polylines, truncatePoints, type LabelImage } from "./raster.js";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"];

/** Value of ignored ground-truth pixels (excluded from every metric). */
export const IGNORE_VALUE = 255;

export interface ReasonSegShape {
  label: string;
  /** [x, y] pairs as in the file (floats). */
  points: [number, number][];
}

export interface ReasonSegAnnotation {
  texts: string[];
  isSentence: boolean;
  shapes: ReasonSegShape[];
}

export interface ReasonSegSample extends ReasonSegAnnotation {
  /** The file name without extension, e.g. `3417356_b6f97b6b6e_o`. */
  name: string;
  imagePath: string;
  annotationPath: string;
}

/** Parses and validates one ReasonSeg annotation file. */
export async function readReasonSegAnnotation(file: string): Promise<ReasonSegAnnotation> {
  return parseReasonSegAnnotation(await readDatasetJson(file), file);
}

export function parseReasonSegAnnotation(json: unknown, file: string): ReasonSegAnnotation {
  const top = expectObject(json, file, "");
  const textRaw = top.text;
  let texts: string[];
  if (typeof textRaw === "string") texts = [textRaw];
  else texts = expectArray(textRaw, file, "text").map((t, i) => expectString(t, file, `text[${i}]`));
  const isSentence = top.is_sentence === undefined ? false : top.is_sentence;
  if (typeof isSentence !== "boolean") throw jsonError(file, "is_sentence", "expected true or false");
  const shapes = expectArray(top.shapes, file, "shapes").map((s, i): ReasonSegShape => {
    const shape = expectObject(s, file, `shapes[${i}]`);
    const label = expectString(shape.label, file, `shapes[${i}].label`);
    const points = expectArray(shape.points, file, `shapes[${i}].points`).map((p, j): [number, number] => {
      const path = `shapes[${i}].points[${j}]`;
      if (!Array.isArray(p) || p.length !== 2) throw jsonError(file, path, "expected [x, y]");
      return [expectNumber(p[0], file, `${path}[0]`), expectNumber(p[1], file, `${path}[1]`)];
    });
    if (points.length === 0 && label.toLowerCase() !== "flag") throw jsonError(file, `shapes[${i}].points`, "polygon has no points");
    return { label, points };
  });
  return { texts, isSentence, shapes };
}

/** LISA's ground-truth label map: 0 background, 1 target, 255 ignore. */
export function rasterizeReasonSeg(shapes: readonly ReasonSegShape[], height: number, width: number): LabelImage {
  const valid: { pts: Int32Array; label: string; area: number }[] = [];
  const scratch = { width, height, data: new Uint8Array(width * height) };
  for (const shape of shapes) {
    if (shape.label.toLowerCase() === "flag") continue;
    const pts = truncatePoints(shape.points);
    scratch.data.fill(0);
    polylines(scratch, pts, true, 1);
    fillPoly(scratch, pts, 1);
    let area = 0;
    for (let k = 0; k < scratch.data.length; k++) area += scratch.data[k]!;
    valid.push({ pts, label: shape.label, area });
  }
  // np.argsort(area)[::-1]: ascending (stable), reversed → largest first, later index first on ties.
  const order = valid.map((_, i) => i).sort((a, b) => valid[a]!.area - valid[b]!.area || a - b).reverse();
  const mask = { width, height, data: new Uint8Array(width * height) };
  for (const i of order) {
    const { pts, label } = valid[i]!;
    const value = label.toLowerCase().includes("ignore") ? IGNORE_VALUE : 1;
    polylines(mask, pts, true, value);
    fillPoly(mask, pts, value);
  }
  return mask;
}

/** Rasterised ground truth of a sample, at the image's size (read from the image header). */
export async function reasonSegGroundTruth(sample: ReasonSegSample): Promise<LabelImage> {
  const { width, height } = await imageSize(sample.imagePath);
  return rasterizeReasonSeg(sample.shapes, height, width);
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GearSegError(`cannot read dataset folder "${dir}": ${code === "ENOENT" ? "not found" : code === "ENOTDIR" ? "not a folder" : (err as Error).message}`);
  }
}

function findImage(names: Set<string>, dir: string, stem: string): string | undefined {
  for (const ext of IMAGE_EXTENSIONS) {
    for (const e of [ext, ext.toUpperCase()]) if (names.has(stem + e)) return join(dir, stem + e);
  }
  return undefined;
}

/**
 * Every sample of a ReasonSeg folder, sorted by name. Accepts `images/` + `questions/` or `X.jpg` + `X.json`
 * side by side. An annotation without its image is an error naming both.
 */
export async function loadReasonSeg(dir: string): Promise<ReasonSegSample[]> {
  let annDir = dir;
  let imgDir = dir;
  if ((await isDir(join(dir, "questions"))) && (await isDir(join(dir, "images")))) {
    annDir = join(dir, "questions");
    imgDir = join(dir, "images");
  } else if (!(await isDir(dir))) {
    throw new GearSegError(`cannot read dataset folder "${dir}": not found or not a folder`);
  }
  const annNames = (await listDir(annDir)).filter((f) => extname(f).toLowerCase() === ".json");
  const imgNames = new Set(await listDir(imgDir));
  if (annNames.length === 0) {
    throw new GearSegError(`no ReasonSeg annotations in "${dir}" (expected X.jpg + X.json, or images/ + questions/)`);
  }
  const samples: ReasonSegSample[] = [];
  for (const f of annNames) {
    const name = basename(f, extname(f));
    const annotationPath = join(annDir, f);
    const imagePath = findImage(imgNames, imgDir, name);
    if (!imagePath) throw new GearSegError(`ReasonSeg annotation "${annotationPath}" has no image ${join(imgDir, name)}.jpg (or .png)`);
    samples.push({ name, imagePath, annotationPath, ...(await readReasonSegAnnotation(annotationPath)) });
  }
  return samples;
}
