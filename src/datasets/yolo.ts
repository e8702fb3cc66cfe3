/**
 * YOLO segmentation datasets (Ultralytics layout): `data.yaml` with `path`, `train`/`val`/`test` (image
 * folders, relative to `path` or to the yaml) and `names` (list or {id: name}); one label file per image in the
 * parallel `labels/` folder (`images/` → `labels/` in the path, `.txt`), one instance per line:
 * `class x1 y1 x2 y2 ...`, coordinates normalised to [0, 1]. Polygons are rasterised as Ultralytics does when
 * it trains (ultralytics/data/utils.py `polygon2mask`: points cast to int32, then cv2.fillPoly), with our port
 * of OpenCV's fillPoly, so that what we read is what a YOLO student learns from.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { encode } from "../masks/index.js";
import { fillPoly, truncatePoints } from "./raster.js";
import { GearSegError } from "../util/errors.js";
import { imageSize } from "./image-size.js";
import type { Instance, InstanceImage } from "./instances.js";
import { IMAGE_EXTENSIONS } from "./reasonseg.js";

export interface YoloDataset {
  names: string[];
  images: InstanceImage[];
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GearSegError(`cannot read ${what} "${file}": ${code === "ENOENT" ? "file not found" : (err as Error).message}`);
  }
}

export function parseYoloNames(v: unknown, file: string): string[] {
  if (Array.isArray(v)) return v.map((n, i) => {
    if (typeof n !== "string") throw new GearSegError(`bad dataset file "${file}" at names[${i}]: expected a string`);
    return n;
  });
  if (typeof v === "object" && v !== null) {
    const out: string[] = [];
    for (const [k, n] of Object.entries(v)) {
      if (!/^\d+$/.test(k) || typeof n !== "string") throw new GearSegError(`bad dataset file "${file}" at names.${k}: expected id: name`);
      out[Number(k)] = n;
    }
    return Array.from(out, (n, i) => n ?? String(i));
  }
  throw new GearSegError(`bad dataset file "${file}" at names: expected a list or a map of class names`);
}

/** Parses one label file (`class x1 y1 ...` per line, normalised) into instances at width × height. */
export function parseYoloLabels(text: string, file: string, names: readonly string[], width: number, height: number): Instance[] {
  const out: Instance[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const parts = line.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) return;
    const where = `bad label file "${file}" at line ${i + 1}`;
    const cls = Number(parts[0]);
    if (!Number.isInteger(cls) || cls < 0 || cls >= names.length) throw new GearSegError(`${where}: class "${parts[0]}" is not one of 0..${names.length - 1}`);
    const coords = parts.slice(1).map(Number);
    if (coords.length < 6 || coords.length % 2 !== 0) throw new GearSegError(`${where}: expected a polygon of at least 3 points (x y pairs), got ${coords.length} numbers`);
    if (coords.some((c) => !Number.isFinite(c))) throw new GearSegError(`${where}: coordinates must be numbers`);
    const points: [number, number][] = [];
    for (let j = 0; j < coords.length; j += 2) points.push([coords[j]! * width, coords[j + 1]! * height]);
    const data = new Uint8Array(width * height);
    fillPoly({ width, height, data }, truncatePoints(points), 1);
    out.push({ label: names[cls]!, rle: encode({ width, height, data }) });
  });
  return out;
}

/** Loads one split ("train", "val", "test") of a YOLO segmentation dataset described by `yamlFile`. */
export async function loadYoloSegmentation(yamlFile: string, split = "val"): Promise<YoloDataset> {
  let data: unknown;
  try {
    data = parseYaml(await readText(yamlFile, "data.yaml"));
  } catch (err) {
    if (err instanceof GearSegError) throw err;
    throw new GearSegError(`data.yaml "${yamlFile}" is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  if (typeof data !== "object" || data === null) throw new GearSegError(`bad dataset file "${yamlFile}": expected a mapping`);
  const y = data as Record<string, unknown>;
  const names = parseYoloNames(y.names, yamlFile);
  const base = typeof y.path === "string" ? resolve(dirname(yamlFile), y.path) : dirname(yamlFile);
  const rel = y[split];
  if (typeof rel !== "string") throw new GearSegError(`bad dataset file "${yamlFile}" at ${split}: expected the image folder of split "${split}"`);
  const imgDir = resolve(base, rel);
  const labelDir = imgDir.split(sep).map((p) => (p === "images" ? "labels" : p)).join(sep);
  let files: string[];
  try {
    files = (await readdir(imgDir)).filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())).sort();
  } catch {
    throw new GearSegError(`cannot read image folder "${imgDir}" (split "${split}" of "${yamlFile}")`);
  }
  const images: InstanceImage[] = [];
  for (const f of files) {
    const imagePath = join(imgDir, f);
    const { width, height } = await imageSize(imagePath);
    const labelFile = join(labelDir, f.slice(0, f.length - extname(f).length) + ".txt");
    let text = "";
    try {
      text = await readFile(labelFile, "utf8");
    } catch {
      text = ""; // no label file: an image without instances (YOLO's convention)
    }
    images.push({ imagePath, source: labelFile, width, height, instances: parseYoloLabels(text, labelFile, names, width, height) });
  }
  return { names, images };
}
