/**
 * LabelMe JSON (`shapes` of `polygon` / `rectangle`, `imageWidth`, `imageHeight`, `imagePath`). Shapes are
 * rasterised with our port of OpenCV's polylines + fillPoly (as LISA draws LabelMe-style ReasonSeg files);
 * shapes sharing a `group_id` and label form one instance.
 */
import { readdir } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { encode } from "../masks/index.js";
import { GearSegError } from "../util/errors.js";
import type { InstanceImage } from "./instances.js";
import { expectArray, expectInteger, expectNumber, expectObject, expectString, jsonError, readDatasetJson } from "./json-check.js";
import { fillPoly, polylines, truncatePoints } from "./raster.js";

export function parseLabelMe(json: unknown, file: string): InstanceImage {
  const top = expectObject(json, file, "");
  const width = expectInteger(top.imageWidth, file, "imageWidth", 1);
  const height = expectInteger(top.imageHeight, file, "imageHeight", 1);
  const groups = new Map<string, { label: string; data: Uint8Array }>();
  expectArray(top.shapes, file, "shapes").forEach((s, i) => {
    const shape = expectObject(s, file, `shapes[${i}]`);
    const label = expectString(shape.label, file, `shapes[${i}].label`);
    const type = shape.shape_type === undefined ? "polygon" : expectString(shape.shape_type, file, `shapes[${i}].shape_type`);
    const pts = expectArray(shape.points, file, `shapes[${i}].points`).map((p, j): [number, number] => {
      if (!Array.isArray(p) || p.length !== 2) throw jsonError(file, `shapes[${i}].points[${j}]`, "expected [x, y]");
      return [expectNumber(p[0], file, `shapes[${i}].points[${j}][0]`), expectNumber(p[1], file, `shapes[${i}].points[${j}][1]`)];
    });
    let poly: [number, number][];
    if (type === "polygon") {
      if (pts.length < 3) throw jsonError(file, `shapes[${i}].points`, "a polygon needs at least 3 points");
      poly = pts;
    } else if (type === "rectangle") {
      if (pts.length !== 2) throw jsonError(file, `shapes[${i}].points`, "a rectangle needs 2 corner points");
      const [[x1, y1], [x2, y2]] = pts as [[number, number], [number, number]];
      poly = [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
    } else throw jsonError(file, `shapes[${i}].shape_type`, `"${type}" is not supported (polygon or rectangle)`);
    const key = shape.group_id === null || shape.group_id === undefined ? `#${i}` : `${label}\u0000${String(shape.group_id)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { label, data: new Uint8Array(width * height) }));
    const img = { width, height, data: g.data };
    const ipts = truncatePoints(poly);
    polylines(img, ipts, true, 1);
    fillPoly(img, ipts, 1);
  });
  const imagePath = typeof top.imagePath === "string" ? resolve(dirname(file), top.imagePath) : undefined;
  return {
    ...(imagePath && { imagePath }),
    source: file,
    width,
    height,
    instances: [...groups.values()].map((g) => ({ label: g.label, rle: encode({ width, height, data: g.data }) })),
  };
}

export async function loadLabelMeFile(file: string): Promise<InstanceImage> {
  return parseLabelMe(await readDatasetJson(file), file);
}

/** Every `*.json` of a folder, sorted. */
export async function loadLabelMe(dir: string): Promise<InstanceImage[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => extname(f).toLowerCase() === ".json").sort();
  } catch {
    throw new GearSegError(`cannot read LabelMe folder "${dir}"`);
  }
  const out: InstanceImage[] = [];
  for (const f of files) out.push(await loadLabelMeFile(join(dir, f)));
  return out;
}
