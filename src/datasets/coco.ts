/**
 * COCO instances files and COCO results lists, indexed the way pycocotools' `COCO` class does it
 * (cocodataset/cocoapi `PythonAPI/pycocotools/coco.py`: createIndex, getAnnIds order, annToRLE, loadRes).
 *
 * loadRes semantics kept exactly, because they change the numbers:
 * - results must be a list, and every image_id must exist in the ground truth;
 * - when the FIRST result has a non-empty `bbox`, every result's `area` is bbox w·h (even for segm), a
 *   missing `segmentation` becomes the box polygon; otherwise (`segmentation` results) `area` is the mask area
 *   and a missing `bbox` is the mask's box;
 * - result ids are 1, 2, 3, ... in list order and iscrowd is 0.
 * Beyond pycocotools (which would crash), results may give polygons or uncompressed RLE, and an empty
 * results list evaluates as "no detections".
 */
import { area as rleArea, fromCocoRle, fromPolygons, toBbox } from "../masks/index.js";
import type { BBox, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { expectArray, expectInteger, expectNumber, expectObject, expectString, isObject, jsonError, readDatasetJson } from "./json-check.js";

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  iscrowd: boolean;
  area: number;
  bbox: BBox;
  /** As in the file: polygons, RLE object, or undefined. */
  segmentation?: unknown;
  /** Detections only. */
  score?: number;
  /** The parsed mask, kept when loading already had to parse it (loadRes's area and box), so evaluation does not parse it again. */
  rle?: Rle;
  /** Where the annotation came from, for messages: `file at path`. */
  where: string;
}

export interface CocoIndex {
  file: string;
  images: Map<number, CocoImage>;
  /** Image ids in file order (getImgIds). */
  imageIds: number[];
  categories: CocoCategory[];
  annotations: CocoAnnotation[];
  /** imgToAnns, in file order. */
  byImage: Map<number, CocoAnnotation[]>;
  /**
   * Results only: what is legal for pycocotools but probably a mistake (boxes of negative size, categories the
   * ground truth does not have). Scored exactly as pycocotools scores them; a caller shows these to the user.
   */
  warnings?: string[];
}

function parseBbox(v: unknown, file: string, path: string): BBox {
  const a = expectArray(v, file, path);
  if (a.length !== 4) throw jsonError(file, path, "expected [x, y, width, height]");
  return a.map((x, i) => expectNumber(x, file, `${path}[${i}]`)) as BBox;
}

function checkSegmentation(v: unknown, file: string, path: string): void {
  if (Array.isArray(v)) {
    v.forEach((poly, i) => {
      const p = expectArray(poly, file, `${path}[${i}]`);
      p.forEach((x, j) => expectNumber(x, file, `${path}[${i}][${j}]`));
    });
    return;
  }
  const o = expectObject(v, file, path);
  if (typeof o.counts !== "string" && !Array.isArray(o.counts)) throw jsonError(file, `${path}.counts`, "expected an RLE string or a list of run lengths");
  const size = expectArray(o.size, file, `${path}.size`);
  if (size.length !== 2) throw jsonError(file, `${path}.size`, "expected [height, width]");
  size.forEach((x, i) => expectInteger(x, file, `${path}.size[${i}]`));
}

function buildIndex(file: string, images: CocoImage[], categories: CocoCategory[], annotations: CocoAnnotation[]): CocoIndex {
  const imageMap = new Map<number, CocoImage>();
  for (const img of images) imageMap.set(img.id, img);
  const byImage = new Map<number, CocoAnnotation[]>();
  for (const a of annotations) {
    let list = byImage.get(a.image_id);
    if (!list) byImage.set(a.image_id, (list = []));
    list.push(a);
  }
  return { file, images: imageMap, imageIds: [...imageMap.keys()], categories, annotations, byImage };
}

/** Parses a COCO instances file (images, annotations, categories). */
export function parseCocoGroundTruth(json: unknown, file: string): CocoIndex {
  const top = expectObject(json, file, "");
  const images = expectArray(top.images, file, "images").map((v, i): CocoImage => {
    const o = expectObject(v, file, `images[${i}]`);
    const img: CocoImage = {
      id: expectInteger(o.id, file, `images[${i}].id`, Number.MIN_SAFE_INTEGER),
      width: expectInteger(o.width, file, `images[${i}].width`, 1),
      height: expectInteger(o.height, file, `images[${i}].height`, 1),
    };
    if (typeof o.file_name === "string") img.file_name = o.file_name;
    return img;
  });
  const categories = expectArray(top.categories ?? [], file, "categories").map((v, i): CocoCategory => {
    const o = expectObject(v, file, `categories[${i}]`);
    const c: CocoCategory = {
      id: expectInteger(o.id, file, `categories[${i}].id`, Number.MIN_SAFE_INTEGER),
      name: o.name === undefined ? String(o.id) : expectString(o.name, file, `categories[${i}].name`),
    };
    if (typeof o.supercategory === "string") c.supercategory = o.supercategory;
    return c;
  });
  const imageIds = new Set(images.map((im) => im.id));
  const annotations = expectArray(top.annotations ?? [], file, "annotations").map((v, i): CocoAnnotation => {
    const path = `annotations[${i}]`;
    const o = expectObject(v, file, path);
    const image_id = expectInteger(o.image_id, file, `${path}.image_id`, Number.MIN_SAFE_INTEGER);
    if (!imageIds.has(image_id)) throw jsonError(file, `${path}.image_id`, `image ${image_id} is not in images`);
    if (o.segmentation !== undefined) checkSegmentation(o.segmentation, file, `${path}.segmentation`);
    const ann: CocoAnnotation = {
      id: expectInteger(o.id, file, `${path}.id`, Number.MIN_SAFE_INTEGER),
      image_id,
      category_id: expectInteger(o.category_id, file, `${path}.category_id`, Number.MIN_SAFE_INTEGER),
      iscrowd: o.iscrowd === undefined ? false : Boolean(expectNumber(typeof o.iscrowd === "boolean" ? Number(o.iscrowd) : o.iscrowd, file, `${path}.iscrowd`)),
      area: o.area === undefined ? NaN : expectNumber(o.area, file, `${path}.area`),
      bbox: o.bbox === undefined ? [0, 0, 0, 0] : parseBbox(o.bbox, file, `${path}.bbox`),
      segmentation: o.segmentation,
      where: `"${file}" at ${path}`,
    };
    return ann;
  });
  const index = buildIndex(file, images, categories, annotations);
  // Ground truth without `area` (hand-made files): the mask's area, as the evaluator needs one.
  for (const a of annotations) {
    if (Number.isNaN(a.area)) {
      if (a.segmentation === undefined) throw jsonError(file, `annotations[${annotations.indexOf(a)}]`, "needs area or segmentation");
      a.area = rleArea(annotationRle(a, index));
    }
  }
  return index;
}

/** Reads and parses a COCO instances file. */
export async function loadCocoGroundTruth(file: string): Promise<CocoIndex> {
  return parseCocoGroundTruth(await readDatasetJson(file), file);
}

/** annToRLE: polygons → frPyObjects + merge at the image's size; uncompressed RLE → runs; RLE as is. */
export function annotationRle(ann: CocoAnnotation, index: CocoIndex): Rle {
  if (ann.rle) return ann.rle;
  const seg = ann.segmentation;
  if (seg === undefined) throw new GearSegError(`annotation ${ann.where} has no segmentation`);
  try {
    if (Array.isArray(seg)) {
      const img = index.images.get(ann.image_id);
      if (!img) throw new GearSegError(`image ${ann.image_id} is not in the ground truth`);
      return fromPolygons(seg as number[][], img.height, img.width);
    }
    return fromCocoRle(seg, "segmentation");
  } catch (err) {
    throw new GearSegError(`bad segmentation in ${ann.where}: ${(err as Error).message}`);
  }
}

/** loadRes: a COCO results list evaluated against `gt`. */
export function parseCocoResults(gt: CocoIndex, json: unknown, file: string): CocoIndex {
  const list = expectArray(json, file, "");
  const index = buildIndex(file, [...gt.images.values()], gt.categories.map((c) => ({ ...c })), []);
  if (list.length === 0) return index;
  const first = expectObject(list[0], file, "[0]");
  const bboxMode = Array.isArray(first.bbox) && first.bbox.length > 0;
  if (!bboxMode && first.segmentation === undefined) throw jsonError(file, "[0]", "a result needs bbox or segmentation");
  const anns = list.map((v, i): CocoAnnotation => {
    const path = `[${i}]`;
    const o = expectObject(v, file, path);
    const image_id = expectInteger(o.image_id, file, `${path}.image_id`, Number.MIN_SAFE_INTEGER);
    if (!gt.images.has(image_id)) throw jsonError(file, `${path}.image_id`, `image ${image_id} is not in the ground truth (results do not correspond to this COCO set)`);
    const ann: CocoAnnotation = {
      id: i + 1,
      image_id,
      category_id: expectInteger(o.category_id, file, `${path}.category_id`, Number.MIN_SAFE_INTEGER),
      iscrowd: false,
      area: 0,
      bbox: [0, 0, 0, 0],
      score: expectNumber(o.score, file, `${path}.score`),
      where: `"${file}" at ${path}`,
    };
    if (bboxMode) {
      const bb = parseBbox(o.bbox, file, `${path}.bbox`);
      ann.bbox = bb;
      const [x1, y1] = bb;
      const x2 = bb[0] + bb[2];
      const y2 = bb[1] + bb[3];
      if (o.segmentation === undefined) ann.segmentation = [[x1, y1, x1, y2, x2, y2, x2, y1]];
      else {
        checkSegmentation(o.segmentation, file, `${path}.segmentation`);
        ann.segmentation = o.segmentation;
      }
      ann.area = bb[2] * bb[3];
    } else {
      if (o.segmentation === undefined) throw jsonError(file, `${path}.segmentation`, "missing (the first result has a segmentation, so every result needs one)");
      checkSegmentation(o.segmentation, file, `${path}.segmentation`);
      ann.segmentation = o.segmentation;
      const rle = annotationRle(ann, index);
      ann.rle = rle;
      ann.area = rleArea(rle);
      ann.bbox = isObject(o) && o.bbox !== undefined ? parseBbox(o.bbox, file, `${path}.bbox`) : toBbox(rle);
    }
    return ann;
  });
  const out = buildIndex(file, [...gt.images.values()], index.categories, anns);
  out.warnings = resultWarnings(gt, list, anns, file);
  return out;
}

/** Up to five places, then how many more. */
function places(paths: string[]): string {
  const shown = paths.slice(0, 5).join(", ");
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/**
 * Results pycocotools scores without a word although they are almost certainly wrong: a box with a negative
 * width or height (its area is negative or its IoU meaningless), and a category the ground truth does not have
 * (never evaluated: the categories come from the ground truth).
 */
function resultWarnings(gt: CocoIndex, list: unknown[], anns: CocoAnnotation[], file: string): string[] {
  const warnings: string[] = [];
  const negative: string[] = [];
  anns.forEach((a, i) => {
    const given = (list[i] as { bbox?: unknown }).bbox !== undefined;
    if (given && (a.bbox[2] < 0 || a.bbox[3] < 0)) negative.push(`[${i}]`);
  });
  if (negative.length > 0) {
    const one = negative.length === 1;
    warnings.push(
      `${negative.length} result${one ? "" : "s"} in "${file}" ${one ? "has" : "have"} a box with a negative width or height ` +
        `(at ${places(negative)}); scored as pycocotools scores ${one ? "it" : "them"}`,
    );
  }
  const known = new Set(gt.categories.map((c) => c.id));
  const unknown = new Map<number, number>();
  for (const a of anns) if (!known.has(a.category_id)) unknown.set(a.category_id, (unknown.get(a.category_id) ?? 0) + 1);
  if (unknown.size > 0) {
    const n = [...unknown.values()].reduce((x, y) => x + y, 0);
    const ids = [...unknown.keys()].sort((x, y) => x - y);
    const one = n === 1;
    warnings.push(
      `${n} result${one ? "" : "s"} in "${file}" ${one ? "has a category id" : "have category ids"} the ground truth does not have ` +
        `(${places(ids.map(String))}); evaluation by category leaves ${one ? "it" : "them"} out`,
    );
  }
  return warnings;
}

export async function loadCocoResults(gt: CocoIndex, file: string): Promise<CocoIndex> {
  return parseCocoResults(gt, await readDatasetJson(file), file);
}
