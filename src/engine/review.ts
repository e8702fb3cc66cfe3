/**
 * Reviewing a reasoning dataset by hand: accept or reject an item, or change which of the image's regions it
 * targets (its union mask, area and box are recomputed from those regions). Each change is written into the
 * image's record durably (temporary file, fsync, rename) — so exports and stats, which read records, see the
 * reviewed state; the summary is marked stale, so the next one reads every record — and appended to
 * `review.jsonl`, an append-only log of who changed what when (one JSON object per line).
 *
 * What a record gains (the only change to the format): an item may carry
 *   "review": { "status": "accepted" | "rejected", "at": ISO time, "region_ids_before"?: number[] }
 * where `region_ids_before` keeps the generated ids once a reviewer changed them. An item without `review`
 * is unreviewed. Readers that do not know the field keep working.
 */
import { dirname, join, relative } from "node:path";
import { area as rleArea, merge, toBbox, toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { appendDurable, writeJsonDurable } from "../util/durable.js";
import { isRecord, readJsonFile } from "../util/json.js";
import { recordPath, type ReasoningItem, type ReasoningRecord } from "../datasets/gear-seg.js";
import { markSummaryStale } from "./summary-state.js";

export type ReviewStatus = "accepted" | "rejected";

export interface ItemReview {
  status: ReviewStatus;
  at: string;
  /** The generated region ids, kept once a reviewer changed them. */
  region_ids_before?: number[];
}

export type ReviewedItem = ReasoningItem & { review?: ItemReview };

export interface ReviewChange {
  /** "unreviewed" takes a decision back. */
  status?: ReviewStatus | "unreviewed";
  /** The item's new target regions (ids of the image's regions). */
  regionIds?: number[];
}

/** The image's regions by id, as they were when the item was generated (needed to change region ids). */
export type RegionSource = (record: ReasoningRecord) => Promise<ReadonlyMap<number, Rle>>;

export interface ReviewLogEntry {
  at: string;
  item: string;
  image_id: string;
  status?: ReviewStatus | "unreviewed";
  region_ids?: number[];
  before: { status: ReviewStatus | "unreviewed"; region_ids: number[] };
}

export const REVIEW_LOG = "review.jsonl";

/** The image id of an item id (`<image-id>#<k>`). */
export function imageIdOfItem(itemId: string): string {
  const hash = itemId.lastIndexOf("#");
  if (hash <= 0) throw new UsageError(`item id "${itemId}" is not of the form <image-id>#<k>`);
  return itemId.slice(0, hash);
}

export const reviewStatusOf = (item: ReviewedItem): ReviewStatus | "unreviewed" => item.review?.status ?? "unreviewed";

/** One change at a time per dataset in this process (reviews, answers saved from the web app): a change is a
 * read-modify-write of a record. */
const locks = new Map<string, Promise<unknown>>();
export function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = locks.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
}

async function readRecordOf(datasetDir: string, imageId: string): Promise<{ path: string; record: ReasoningRecord }> {
  const path = recordPath(datasetDir, imageId);
  // The id comes from outside (a URL): its record must lie in the records folder.
  const rel = relative(join(datasetDir, "records"), dirname(path));
  if (rel !== "" || /[\\/]/.test(imageId)) throw new UsageError(`image id "${imageId}" is not a record name`);
  const json = await readJsonFile(path, "image record");
  if (!isRecord(json) || json.kind !== "reasoning" || !Array.isArray(json.items)) {
    throw new GearSegError(`image record "${path}" is not a reasoning record`);
  }
  return { path, record: json as unknown as ReasoningRecord };
}

/**
 * Applies `change` to one item and returns it as written. Region ids must name regions of the image (from
 * `regions`); at least one is needed. An item whose regions a reviewer changed counts as accepted unless the
 * same change rejects it (or it was rejected before).
 */
export async function reviewItem(
  datasetDir: string,
  itemId: string,
  change: ReviewChange,
  options: { regions?: RegionSource; now?: () => Date } = {},
): Promise<ReviewedItem> {
  if (change.status === undefined && change.regionIds === undefined) throw new UsageError("a review changes the status, the region ids, or both");
  const imageId = imageIdOfItem(itemId);
  return serialised(datasetDir, async () => {
    const { path, record } = await readRecordOf(datasetDir, imageId);
    const item = record.items.find((i) => i.id === itemId) as ReviewedItem | undefined;
    if (!item) throw new GearSegError(`no item "${itemId}" in the record of image "${imageId}"`);
    const at = (options.now?.() ?? new Date()).toISOString();
    const before = { status: reviewStatusOf(item), region_ids: [...item.region_ids] };

    if (change.regionIds !== undefined) {
      const ids = [...new Set(change.regionIds)];
      if (ids.length === 0) throw new UsageError(`item "${itemId}": give at least one region id (reject the item to drop it)`);
      if (!options.regions) throw new UsageError("changing region ids needs the image's regions");
      const regions = await options.regions(record);
      const unknown = ids.filter((id) => !regions.has(id));
      if (unknown.length) throw new UsageError(`item "${itemId}": no region ${unknown.join(", ")} in image "${imageId}"`);
      const union: Rle = merge(ids.map((id) => regions.get(id)!), false);
      const firstIds = item.review?.region_ids_before ?? item.region_ids;
      item.region_ids = ids;
      item.mask = toCocoRle(union);
      item.area = rleArea(union);
      item.bbox = toBbox(union);
      const status = item.review?.status ?? "accepted";
      item.review = { status, at, ...(sameIds(firstIds, ids) ? {} : { region_ids_before: firstIds }) };
    }
    if (change.status === "unreviewed") {
      if (item.review?.region_ids_before) throw new UsageError(`item "${itemId}" has edited region ids: restore them (${item.review.region_ids_before.join(", ")}) before taking the review back`);
      delete item.review;
    } else if (change.status !== undefined) {
      item.review = { ...item.review, status: change.status, at };
    }

    await writeJsonDurable(path, record);
    await markSummaryStale(datasetDir);
    const entry: ReviewLogEntry = {
      at,
      item: itemId,
      image_id: imageId,
      ...(change.status !== undefined && { status: change.status }),
      ...(change.regionIds !== undefined && { region_ids: item.region_ids }),
      before,
    };
    await appendReviewLog(datasetDir, entry);
    return item;
  });
}

/** Appends one entry to the dataset's review log, on disk before this returns (a review the user saw saved
 * survives a power cut). One short line per append (O_APPEND): concurrent writers never interleave within a line. */
export async function appendReviewLog(datasetDir: string, entry: object): Promise<void> {
  await appendDurable(join(datasetDir, REVIEW_LOG), JSON.stringify(entry) + "\n");
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
