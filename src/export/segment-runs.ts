/**
 * A folder of `gear-seg segment` runs as an export source: every `result.json` below it (one per image and
 * query, whatever the folder layout) is one annotation: the answer's union mask, its category the query. The
 * runs of one image become one exported image. So a user can open the answers in the labelling tool they
 * already use (LabelMe) or train on them (COCO, YOLO). Answers with no mask are left out.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fromCocoRle, toBbox, area as rleArea } from "../masks/index.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { isRecord } from "../util/json.js";
import { imageIdFor } from "../datasets/gear-seg.js";
import { CategoryList, type ExportImage, type ExportSource } from "./model.js";

interface RunFile {
  file: string;
  query: string;
}

async function findResults(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await findResults(p, out);
    else if (e.isFile() && e.name === "result.json") out.push(p);
  }
}

async function readResult(file: string): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new GearSegError(`segment result "${file}" cannot be read: ${(err as Error).message}`);
  }
  if (!isRecord(json) || typeof json.image !== "string" || typeof json.query !== "string" || !Number.isInteger(json.width) || !Number.isInteger(json.height)) {
    throw new GearSegError(`"${file}" is not a gear-seg segment result (needs image, query, width, height, mask)`);
  }
  return json;
}

/** The image a result names: absolute, or relative to where segment ran (tried: the working folder, the runs
 * folder and its parent). */
function locateImage(image: string, runsDir: string): string {
  if (isAbsolute(image)) return image;
  for (const base of [process.cwd(), runsDir, dirname(runsDir)]) {
    const p = resolve(base, image);
    if (existsSync(p)) return p;
  }
  return resolve(image);
}

/** True when `dir` holds segment results rather than a dataset (no manifest.json, some result.json). */
export async function isSegmentRunsFolder(dir: string): Promise<boolean> {
  if (existsSync(join(dir, "manifest.json"))) return false;
  const found: string[] = [];
  await findResults(dir, found).catch(() => undefined);
  return found.length > 0;
}

export async function openSegmentRunsSource(dir: string): Promise<ExportSource> {
  const files: string[] = [];
  await findResults(dir, files).catch((err: Error) => {
    throw new UsageError(`segment runs folder "${dir}" cannot be read: ${err.message}`);
  });
  // First pass: which runs belong to which image (only the small fields are kept).
  const byImage = new Map<string, { width: number; height: number; runs: RunFile[] }>();
  const categories = new CategoryList([]);
  for (const file of files) {
    const r = await readResult(file);
    const image = locateImage(r.image as string, dir);
    let g = byImage.get(image);
    if (!g) byImage.set(image, (g = { width: r.width as number, height: r.height as number, runs: [] }));
    g.runs.push({ file, query: r.query as string });
  }
  const seen = { annotations: 0 };
  const groups = [...byImage.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return {
    dir,
    kind: "segment-runs",
    description: `gear-seg export of the segment runs in ${dir}`,
    info: { description: "gear-seg segment answers", source: dir },
    supercategory: "query",
    categories,
    imageCount: groups.length,
    damaged: [],
    seen,
    images: async function* () {
      for (const [image, g] of groups) {
        const annotations: ExportImage["annotations"] = [];
        for (const run of g.runs) {
          const r = await readResult(run.file);
          if (!isRecord(r.mask)) continue;
          const rle = fromCocoRle(r.mask, `"${run.file}" mask`);
          if (rle.height !== g.height || rle.width !== g.width) throw new GearSegError(`"${run.file}": the mask is ${rle.width}×${rle.height}, the image ${g.width}×${g.height}`);
          const a = rleArea(rle);
          if (a === 0) continue;
          categories.indexOf(run.query);
          annotations.push({ id: `${run.file}`, category: run.query, rle, area: a, bbox: toBbox(rle) });
        }
        seen.annotations += annotations.length;
        const rel = image.split("/").pop()!;
        yield { id: imageIdFor(image), rel, file: image, width: g.width, height: g.height, split: "train", annotations };
      }
    },
  };
}
