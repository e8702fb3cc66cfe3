/**
 * The on-disk layout of a gear-seg dataset folder, shared by the engine (writer), the auto-labeller and the
 * exporters (readers):
 *
 *   manifest.json            what the folder is: kind, images root, generation settings, file list, counts
 *   records/<image-id>.json  one file per finished image (written atomically: a rerun skips these)
 *   failures/<image-id>.json one file per image that failed (retried by the next run)
 *   items.jsonl              (reasoning) every item, one JSON record per line
 *   annotations.json         (instances) COCO instances
 *   stats.json, DATASET.md, categories.png
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, resolve, sep } from "node:path";
import type { BBox, CocoRle } from "../masks/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { isRecord, readJsonFile } from "../util/json.js";
import type { FilterCounts } from "./filters.js";
import type { ReasoningType } from "./prompt.js";
import type { Split, SplitFractions } from "./splits.js";

export const DATASET_FORMAT = "gear-seg-dataset";
export const DATASET_VERSION = 1;

export type DatasetKind = "reasoning" | "instances";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".avif", ".gif"];

export interface GenerationInfo {
  segmenter: string;
  describer: string | null;
  /** The LLM spec and the model name servers reported. */
  llm: string;
  models: string[];
  prompt_version: string;
}

/** One reasoning item: a base pair (target mask) with its questions. */
export interface ReasoningItem {
  /** `<image-id>#<k>`. */
  id: string;
  image_id: string;
  /** Path of the image relative to the images root, with "/" separators. */
  image: string;
  width: number;
  height: number;
  split: Split;
  reasoning_type: ReasoningType;
  questions: string[];
  explanation: string;
  answer_labels: string[];
  region_ids: number[];
  confidence: number;
  /** Union of the target regions, COCO compressed RLE. */
  mask: CocoRle;
  area: number;
  bbox: BBox;
  generation: { segmenter: string; describer: string | null; llm: string; model: string | null; prompt_version: string };
}

/** One labelled instance (auto-labelling). */
export interface InstanceLabel {
  /** `<image-id>#<region id>`. */
  id: string;
  category: string;
  region_id: number;
  /** The LLM's reason for the class, when it gave one. */
  note?: string;
  mask: CocoRle;
  area: number;
  bbox: BBox;
}

interface RecordBase {
  image_id: string;
  image: string;
  width: number;
  height: number;
  split: Split;
  regions: number;
  model: string | null;
  usage?: { promptTokens?: number; completionTokens?: number; totalTokens?: number };
  notes: string[];
  finished: string;
}

export interface ReasoningRecord extends RecordBase {
  kind: "reasoning";
  items: ReasoningItem[];
  filters: FilterCounts;
}

export interface InstancesRecord extends RecordBase {
  kind: "instances";
  instances: InstanceLabel[];
  /** Instances dropped because they lie inside a larger instance of the same class. */
  parts_dropped: number;
  /** Regions the LLM left without a class. */
  unlabelled: number;
}

export type ImageRecord = ReasoningRecord | InstancesRecord;

export interface FailureRecord {
  image_id: string;
  image: string;
  stage: string;
  error: string;
  at: string;
}

export interface Manifest {
  format: typeof DATASET_FORMAT;
  version: number;
  kind: DatasetKind;
  /** Absolute path of the images folder the run read. */
  images_root: string;
  created: string;
  updated: string;
  generation: GenerationInfo;
  splits: { seed: string; fractions: SplitFractions };
  /** Auto-labelling: the keyword and the classes (given or discovered). */
  labels?: { keyword: string; classes: string[]; discovered: boolean };
  files: Record<string, string>;
  counts: { images: number; failed: number; pending: number; items: number; questions?: number };
}

export const recordPath = (dir: string, imageId: string) => join(dir, "records", `${imageId}.json`);
export const failurePath = (dir: string, imageId: string) => join(dir, "failures", `${imageId}.json`);

export interface ImageEntry {
  /** Stable id: the path relative to the root without its extension, "/" → "__", unsafe characters → "_". */
  id: string;
  /** Relative path with "/" separators. */
  rel: string;
  abs: string;
}

export function imageIdFor(rel: string): string {
  const noExt = rel.slice(0, rel.length - extname(rel).length);
  return noExt
    .split("/")
    .map((p) => p.replace(/[^A-Za-z0-9._-]/g, "_"))
    .join("__");
}

/** Every image under `root` (recursively, hidden entries skipped), sorted by relative path. Two images that
 * would share an id are refused: the ids name the record files. */
export async function listImages(root: string): Promise<ImageEntry[]> {
  const abs = resolve(root);
  const info = await stat(abs).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`images folder "${root}" does not exist or is not a folder`);
  const found: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const p = join(dir, e.name);
      // Symbolic links are followed (folders of linked images are common); a dangling one is skipped.
      const kind = e.isSymbolicLink() ? await stat(p).catch(() => null) : e;
      if (!kind) continue;
      if (kind.isDirectory()) await walk(p);
      else if (kind.isFile() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) found.push(p);
    }
  };
  await walk(abs);
  const entries = found
    .map((p) => relative(abs, p).split(sep).join("/"))
    .sort()
    .map((rel) => ({ id: imageIdFor(rel), rel, abs: join(abs, rel) }));
  const seen = new Map<string, string>();
  for (const e of entries) {
    const other = seen.get(e.id);
    if (other) throw new UsageError(`images "${other}" and "${e.rel}" would share the id "${e.id}": rename one`);
    seen.set(e.id, e.rel);
  }
  return entries;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  const json = await readJsonFile(path, "dataset manifest");
  if (!isRecord(json) || json.format !== DATASET_FORMAT) {
    throw new GearSegError(`"${path}" is not a gear-seg dataset manifest (format is not "${DATASET_FORMAT}")`);
  }
  if (json.version !== DATASET_VERSION) throw new GearSegError(`"${path}": dataset version ${String(json.version)} is not supported (want ${DATASET_VERSION})`);
  if (json.kind !== "reasoning" && json.kind !== "instances") throw new GearSegError(`"${path}": kind must be "reasoning" or "instances"`);
  return json as unknown as Manifest;
}

/** Every finished record, sorted by image id. A record file that cannot be read is an error naming it: a
 * record is written atomically, so a bad one means outside damage. */
export async function readRecords(dir: string): Promise<ImageRecord[]> {
  const folder = join(dir, "records");
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  const out: ImageRecord[] = [];
  for (const name of names) {
    const path = join(folder, name);
    const json = await readJsonFile(path, "image record");
    if (!isRecord(json) || (json.kind !== "reasoning" && json.kind !== "instances") || typeof json.image_id !== "string") {
      throw new GearSegError(`image record "${path}" is not a gear-seg record`);
    }
    out.push(json as unknown as ImageRecord);
  }
  return out;
}

export async function readFailures(dir: string): Promise<FailureRecord[]> {
  const folder = join(dir, "failures");
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  const out: FailureRecord[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(await readFile(join(folder, name), "utf8")) as FailureRecord);
    } catch {
      // A failure note that cannot be read is not worth failing over: the image is retried anyway.
    }
  }
  return out;
}
