/**
 * The gear-seg dataset folder: its record format and how to read it. A leaf shared by the data engine (which
 * writes datasets), the exporters and the review API (which read and amend them); it imports nothing from any
 * of them.
 *
 *   manifest.json             what the folder is: kind, image roots, generation settings, file list, counts
 *   records/<image-id>.json   one file per finished image (durable: fsync before rename; a rerun skips it)
 *   failures/<image-id>.json  one file per image that failed (retried a bounded number of times, then parked)
 *   damaged/                  records that could not be read, moved aside (their images are redone)
 *   items.jsonl               (reasoning) every kept item, one JSON record per line
 *   annotations.json          (instances) COCO instances
 *   stats.json, DATASET.md, categories.png
 *   summary-state.json        the record totals the summary files are updated from (src/engine/summary-state.ts)
 *   summary.stale             left by a writer that changed records outside an engine run (the next summary
 *                             reads every record)
 *
 * Version 2 (this one) gives images short unique ids that keep their names readable, records the image root
 * of every record (a dataset may gather several image folders) and the image's content hash (splits are keyed
 * on it), and lets a reviewer reject items. Version 1 folders are read as they are: one root, ids from paths.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename } from "node:fs/promises";
import { extname, isAbsolute, join, resolve } from "node:path";
import type { BBox, CocoRle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { textLines } from "../util/fs.js";
import { isRecord, readJsonFile } from "../util/json.js";

export const DATASET_FORMAT = "gear-seg-dataset";
export const DATASET_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

export type DatasetKind = "reasoning" | "instances";

/** GEAR-Seg's five reasoning categories, in the order every export numbers them. */
export const REASONING_TYPES = ["commonsense", "functional", "manipulation", "part", "attribute"] as const;
export type ReasoningType = (typeof REASONING_TYPES)[number];

export type Split = "train" | "val" | "test";
export const SPLITS: readonly Split[] = ["train", "val", "test"];

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/** The one place the default split (90/5/5) is written down. */
export const DEFAULT_SPLITS: SplitFractions = { train: 0.9, val: 0.05, test: 0.05 };

/** Filters in the order they are applied to an architect reply; each counts the items it dropped. */
export const FILTERS = ["malformed", "unknown_ids", "low_confidence", "tiny_target", "duplicate", "same_target", "over_limit"] as const;
export type FilterName = (typeof FILTERS)[number];

export interface FilterCounts {
  /** Items the replies proposed. */
  proposed: number;
  /** Items dropped, by filter. */
  dropped: Record<FilterName, number>;
  /** Questions removed from kept items because they repeated (or nearly repeated) another question. */
  duplicate_questions: number;
}

export interface GenerationInfo {
  segmenter: string;
  describer: string | null;
  /** The LLM spec and the model names servers reported. */
  llm: string;
  models: string[];
  prompt_version: string;
}

/** A reviewer's decision on one item or instance (written by the review API; exports leave rejected ones out). */
export interface ReviewMark {
  status: "accepted" | "rejected";
  at: string;
  /** The generated region ids, kept once a reviewer changed them (src/engine/review.ts). */
  region_ids_before?: number[];
}

/** One reasoning item: a base pair (target mask) with its questions. */
export interface ReasoningItem {
  /** `<image-id>#<k>`. */
  id: string;
  image_id: string;
  /** Path of the image relative to its images root, with "/" separators. */
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
  review?: ReviewMark;
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
  review?: ReviewMark;
}

export interface TokenCounts {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
}

interface RecordBase {
  image_id: string;
  image: string;
  /** Index into the manifest's `images_roots` (absent in version 1: root 0). */
  root?: number;
  /** sha256 of the image file's bytes (absent in version 1). */
  image_sha256?: string;
  width: number;
  height: number;
  split: Split;
  regions: number;
  /** The segmenter whose regions the ids name, when it is not the manifest's (an answer saved from the web app
   * with the server's segmenter); a review that changes ids recomputes the regions with it. */
  segmenter?: string;
  model: string | null;
  usage?: TokenCounts;
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
  root?: number;
  stage: string;
  error: string;
  at: string;
  /** How many runs tried this image and failed (version 1 notes: absent = 1). */
  attempts?: number;
  /** Set once `attempts` reached the limit: later runs skip the image until failures are retried. */
  parked?: boolean;
}

export interface Manifest {
  format: typeof DATASET_FORMAT;
  version: number;
  kind: DatasetKind;
  /** Absolute paths of the image folders this dataset was built from; a record names its root by index. */
  images_roots: string[];
  created: string;
  updated: string;
  generation: GenerationInfo;
  /** `key`: what the split hash reads: the image content (version 2) or the image id (version 1). */
  splits: { seed: string; fractions: SplitFractions; key?: "content" | "id" };
  /** Auto-labelling: the keyword and the classes. A class keeps its position (its id in every export) once it
   * is listed; discovered classes are appended. */
  labels?: { keyword: string; classes: string[]; discovered: boolean };
  files: Record<string, string>;
  counts: { images: number; failed: number; parked?: number; pending: number; items: number; questions?: number };
}

/*
 * Image ids. An id names its record file, so it must be short whatever the path (a file name over ~255 bytes
 * cannot be created), unique (two photos must never share a record) and readable (a person looks for
 * `records/草莓-….json`): a slug of the relative path, cut to a few dozen bytes, plus a hash of the full path.
 */
const SLUG_BYTES = 60;
const HASH_HEX = 10;

/** Letters and digits of any script are kept; everything else becomes "_"; folders are joined by "__". */
function slug(rel: string): string {
  const noExt = rel.slice(0, rel.length - extname(rel).length).normalize("NFC");
  let s = noExt
    .split("/")
    .map((p) => p.replace(/[^\p{L}\p{N}._-]+/gu, "_"))
    .join("__")
    .replace(/^[._]+/, "");
  // Cut at a character boundary so that the UTF-8 form stays under SLUG_BYTES.
  if (Buffer.byteLength(s) > SLUG_BYTES) {
    const chars = [...s];
    let bytes = 0;
    let n = 0;
    while (n < chars.length && bytes + Buffer.byteLength(chars[n]!) <= SLUG_BYTES) bytes += Buffer.byteLength(chars[n++]!);
    s = chars.slice(0, n).join("");
  }
  return s || "image";
}

/** `<slug>-<10 hex of sha256(root key + relative path)>`: at most 71 bytes. Root 0 hashes the path alone. */
export function imageIdFor(rel: string, root = 0): string {
  const key = root === 0 ? rel : `${root}:${rel}`;
  return `${slug(rel)}-${createHash("sha256").update(key).digest("hex").slice(0, HASH_HEX)}`;
}

export const recordPath = (dir: string, imageId: string) => join(dir, "records", `${imageId}.json`);
export const failurePath = (dir: string, imageId: string) => join(dir, "failures", `${imageId}.json`);

/** The kept items or instances of a record: everything a reviewer has not rejected. */
export function keptItems(record: ReasoningRecord): ReasoningItem[];
export function keptItems(record: InstancesRecord): InstanceLabel[];
export function keptItems(record: ImageRecord): (ReasoningItem | InstanceLabel)[];
export function keptItems(record: ImageRecord): (ReasoningItem | InstanceLabel)[] {
  const all: (ReasoningItem | InstanceLabel)[] = record.kind === "reasoning" ? record.items : record.instances;
  return all.filter((i) => i.review?.status !== "rejected");
}

/** Where a record's image is: its root (by index) joined with its relative path. */
export function imageFileOf(manifest: Manifest, record: { image: string; root?: number }): string {
  const root = manifest.images_roots[record.root ?? 0];
  if (root === undefined) throw new GearSegError(`record of "${record.image}" names images root ${record.root}, but the manifest lists ${manifest.images_roots.length}`);
  return join(root, record.image);
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, "manifest.json");
  const json = await readJsonFile(path, "dataset manifest");
  if (!isRecord(json) || json.format !== DATASET_FORMAT) {
    throw new GearSegError(`"${path}" is not a gear-seg dataset manifest (format is not "${DATASET_FORMAT}")`);
  }
  if (!READABLE_VERSIONS.includes(json.version as number)) throw new GearSegError(`"${path}": dataset version ${String(json.version)} is not supported (want ${DATASET_VERSION})`);
  if (json.kind !== "reasoning" && json.kind !== "instances") throw new GearSegError(`"${path}": kind must be "reasoning" or "instances"`);
  const manifest = json as unknown as Manifest & { images_root?: string };
  if (!Array.isArray(manifest.images_roots)) {
    // Version 1: one root, splits keyed on the image id.
    manifest.images_roots = typeof manifest.images_root === "string" ? [manifest.images_root] : [];
    delete manifest.images_root;
    manifest.splits = { ...manifest.splits, key: manifest.splits.key ?? "id" };
  }
  // Roots written relative (a moved copy edited by hand) are relative to the dataset folder.
  manifest.images_roots = manifest.images_roots.map((r) => (isAbsolute(r) ? r : resolve(dir, r)));
  return manifest;
}

/** Names of the record files, sorted (by image id). Hidden and temporary files are not records. */
export async function recordNames(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, "records")).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
}

/** Why a record file cannot be used, or undefined when it can. */
function recordProblem(json: unknown): string | undefined {
  if (!isRecord(json)) return "not a JSON object";
  if (json.kind !== "reasoning" && json.kind !== "instances") return "kind is neither reasoning nor instances";
  if (typeof json.image_id !== "string" || typeof json.image !== "string") return "no image_id or image";
  if (json.kind === "reasoning" ? !Array.isArray(json.items) : !Array.isArray(json.instances)) return "no items list";
  return undefined;
}

export interface DamagedRecord {
  /** The file as it was found. */
  file: string;
  /** Where it was moved. */
  movedTo: string;
  reason: string;
}

/** Moves a damaged file into `<dir>/damaged/` (never deleted: a person may want to look at it). */
export async function moveAside(dir: string, file: string, name: string): Promise<string> {
  const target = join(dir, "damaged", `${name}.${new Date().toISOString().replace(/[:.]/g, "-")}`);
  await mkdir(join(dir, "damaged"), { recursive: true });
  await rename(file, target);
  return target;
}

/** Reads one record file; undefined (and the reason) when it is damaged: empty, truncated, not a record. */
export async function readRecordFile(path: string): Promise<{ record?: ImageRecord; problem?: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { problem: "file not found" };
    throw new GearSegError(`cannot read image record "${path}": ${(err as Error).message}`);
  }
  if (text.length === 0) return { problem: "empty file (a write cut short, e.g. by a power cut)" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { problem: `not valid JSON (${(err as Error).message})` };
  }
  const problem = recordProblem(json);
  return problem ? { problem } : { record: json as ImageRecord };
}

export interface EachRecordOptions {
  /** A damaged record was moved aside (default: throw naming it). */
  onDamaged?: (damaged: DamagedRecord) => void;
}

/**
 * Every finished record, one at a time, sorted by image id: memory stays flat whatever the dataset's size. A
 * damaged record is moved aside into `damaged/` and reported (its image counts as not done), or, without
 * `onDamaged`, is an error naming the file.
 */
export async function* eachRecord(dir: string, options: EachRecordOptions = {}): AsyncGenerator<ImageRecord> {
  for (const name of await recordNames(dir)) {
    const path = join(dir, "records", name);
    const { record, problem } = await readRecordFile(path);
    if (record) {
      yield record;
      continue;
    }
    if (problem === "file not found") continue; // replaced or removed meanwhile
    if (!options.onDamaged) throw new GearSegError(`image record "${path}" is damaged: ${problem}`);
    const movedTo = await moveAside(dir, path, name);
    options.onDamaged({ file: path, movedTo, reason: problem! });
  }
}

/** Every failure note, one at a time (a note that cannot be read is skipped: the image is retried anyway). */
export async function* eachFailure(dir: string): AsyncGenerator<FailureRecord> {
  const names = (await readdir(join(dir, "failures")).catch(() => [] as string[])).filter((n) => n.endsWith(".json") && !n.startsWith(".")).sort();
  for (const name of names) {
    try {
      const v = JSON.parse(await readFile(join(dir, "failures", name), "utf8")) as FailureRecord;
      if (isRecord(v) && typeof v.image_id === "string") yield v;
    } catch {
      // unreadable note: the image is simply retried
    }
  }
}

/** The lines of a JSON-lines file, streamed. */
export async function* jsonLines(path: string): AsyncGenerator<unknown> {
  for await (const text of textLines(path)) {
    const line = text.trim();
    if (line) yield JSON.parse(line) as unknown;
  }
}
