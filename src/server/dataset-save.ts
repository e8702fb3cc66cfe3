/**
 * An answer given in the web app (corrected by hand or as the reasoner gave it) saved into a gear-seg reasoning
 * dataset as a new item, so a person's corrections become training data the exporters read:
 *
 * - the image is copied into the dataset's `images/` folder, named by its content (saving the same image again
 *   reuses the file and its record), and that folder joins the manifest's image roots;
 * - the image's record gains the item: the query as its question, the chosen regions' ids, their union as the
 *   mask, confidence 10 and the review mark `accepted` (a person chose it), its split from the dataset's own rule;
 * - the change is appended to the dataset's review log (`review.jsonl`), like a review, and the dataset's summary
 *   is marked stale (its next summary reads every record).
 *
 * Region ids name the regions of the server's segmenter, which need not be the one the dataset was generated
 * with: the record says which (`segmenter`), and a later review that changes the ids recomputes those regions.
 * Every file is written durably (temporary file, fsync, rename); the dataset's writer lock keeps an engine run
 * out while the item is saved, and reviews of the same dataset in this process wait their turn.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { pathExists } from "../util/fs.js";
import { join } from "node:path";
import {
  DATASET_VERSION,
  DEFAULT_SPLITS,
  imageIdFor,
  readManifest,
  readRecordFile,
  recordPath,
  type Manifest,
  type ReasoningRecord,
  type ReasoningType,
} from "../datasets/gear-seg.js";
import { emptyFilterCounts } from "../engine/filters.js";
import { appendReviewLog, serialised, type ReviewedItem } from "../engine/review.js";
import { assignSplit } from "../engine/splits.js";
import { lockDataset, openDataset } from "../engine/store.js";
import { markSummaryStale } from "../engine/summary-state.js";
import { area, toBbox, toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { writeDurable, writeJsonDurable } from "../util/durable.js";
import { GearSegError } from "../util/errors.js";
import { HttpError } from "./http-error.js";

/** Where saved images go, inside the dataset's folder. */
export const SAVED_IMAGES = "images";

/** File extensions of the upload formats (sharp's names; sharp calls AVIF "heif"). */
const EXTENSIONS: Record<string, string> = { jpeg: ".jpg", png: ".png", webp: ".webp", tiff: ".tiff", gif: ".gif", heif: ".avif", avif: ".avif" };

export interface SavedAnswer {
  /** The uploaded file's bytes, its name and format (sharp's name), and its size. */
  image: { bytes: Uint8Array; name: string; format: string; width: number; height: number };
  /** How many regions the server's segmenter gave the image (the ids run from 0). */
  regions: number;
  query: string;
  maskIds: number[];
  explanation: string;
  mask: Rle;
  reasoningType: ReasoningType;
  /** The server's segmenter and describer, and who chose the regions: "manual", or the reasoner and its model. */
  segmenter: string;
  describer: string | null;
  chosenBy: string;
  model: string | null;
}

export interface SaveOptions {
  /** Start the dataset when its folder holds none. */
  create?: boolean;
  now?: () => Date;
}

/** Saves the answer as a new item of the dataset in `dir`; returns the item as written. */
export async function saveAnswerItem(dir: string, answer: SavedAnswer, options: SaveOptions = {}): Promise<{ item: ReviewedItem; created: boolean }> {
  if (answer.maskIds.length === 0) throw new HttpError(400, "the answer chooses no region: a dataset item needs at least one");
  const added = answer.maskIds.filter((id) => id >= answer.regions);
  if (added.length) throw new HttpError(400, `the answer uses regions added by prompts (${added.join(", ")}): a dataset item names the image's own regions`);
  const ext = EXTENSIONS[answer.image.format];
  if (!ext) throw new HttpError(400, `images of format ${answer.image.format} cannot be saved into a dataset`);
  const exists = await pathExists(join(dir, "manifest.json"));
  if (!exists && !options.create) throw new HttpError(404, `no dataset in "${dir}" (ask to create it)`);

  return serialised(dir, async () => {
    let lock;
    try {
      lock = await lockDataset(dir);
    } catch (err) {
      throw new HttpError(409, (err as Error).message);
    }
    try {
      const at = (options.now?.() ?? new Date()).toISOString();
      const imagesRoot = join(dir, SAVED_IMAGES);
      const generation = { segmenter: answer.segmenter, describer: answer.describer, llm: answer.chosenBy, models: answer.model ? [answer.model] : [], prompt_version: "web app" };
      const { manifest, root } = exists
        ? await withImagesRoot(dir, imagesRoot, at)
        : await openDataset(dir, { kind: "reasoning", imagesRoot, seed: "0", fractions: DEFAULT_SPLITS, generation });

      // Named by content: the same photo saved twice is one file and one record.
      const sha = createHash("sha256").update(answer.image.bytes).digest("hex");
      const stem = answer.image.name.replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/[^\p{L}\p{N}._-]+/gu, "_").slice(0, 60) || "image";
      const rel = `${stem}-${sha.slice(0, 12)}${ext}`;
      const file = join(imagesRoot, rel);
      if (!(await stat(file).then((s) => s.isFile(), () => false))) await writeDurable(file, answer.image.bytes);

      const imageId = imageIdFor(rel, root);
      const path = recordPath(dir, imageId);
      const found = await readRecordFile(path);
      if (found.record && found.record.kind !== "reasoning") throw new HttpError(409, `the record of "${rel}" in this dataset is not a reasoning record`);
      const record: ReasoningRecord = (found.record as ReasoningRecord | undefined) ?? {
        kind: "reasoning",
        image_id: imageId,
        image: rel,
        root,
        image_sha256: sha,
        width: answer.image.width,
        height: answer.image.height,
        split: assignSplit(manifest.splits.key === "id" ? imageId : sha, manifest.splits.seed, manifest.splits.fractions),
        regions: answer.regions,
        segmenter: answer.segmenter,
        model: null,
        notes: ["items saved from the gear-seg web app"],
        finished: at,
        items: [],
        filters: emptyFilterCounts(),
      };
      const segmenterOfRecord = record.segmenter ?? manifest.generation.segmenter;
      if (segmenterOfRecord !== answer.segmenter || record.regions !== answer.regions) {
        throw new HttpError(
          409,
          `image "${rel}" was saved with the segmenter ${segmenterOfRecord} (${record.regions} regions); this server's ${answer.segmenter} gives ${answer.regions}: region ids would not agree`,
        );
      }
      const k = record.items.reduce((m, it) => Math.max(m, Number(it.id.slice(it.id.lastIndexOf("#") + 1)) + 1), 0);
      const item: ReviewedItem = {
        id: `${imageId}#${k}`,
        image_id: imageId,
        image: rel,
        width: record.width,
        height: record.height,
        split: record.split,
        reasoning_type: answer.reasoningType,
        questions: [answer.query],
        explanation: answer.explanation,
        answer_labels: [],
        region_ids: [...answer.maskIds],
        confidence: 10,
        mask: toCocoRle(answer.mask),
        area: area(answer.mask),
        bbox: toBbox(answer.mask),
        generation: { segmenter: answer.segmenter, describer: answer.describer, llm: answer.chosenBy, model: answer.model, prompt_version: "web app" },
        review: { status: "accepted", at },
      };
      record.items.push(item);
      await writeJsonDurable(path, record);
      await markSummaryStale(dir);
      await appendReviewLog(dir, { at, item: item.id, image_id: imageId, added: "web app", status: "accepted", region_ids: item.region_ids, query: answer.query });
      return { item, created: !exists };
    } finally {
      await lock.release();
    }
  });
}

/** The manifest with the saved-images folder among its roots (added, and the manifest rewritten, when new). */
async function withImagesRoot(dir: string, imagesRoot: string, at: string): Promise<{ manifest: Manifest; root: number }> {
  let manifest: Manifest;
  try {
    manifest = await readManifest(dir);
  } catch (err) {
    throw new HttpError(409, err instanceof GearSegError ? err.message : String(err));
  }
  if (manifest.kind !== "reasoning") throw new HttpError(409, `dataset "${dir}" holds ${manifest.kind}, not reasoning items`);
  if (manifest.version !== DATASET_VERSION) {
    throw new HttpError(409, `dataset "${dir}" is of version ${manifest.version}: the data engine brings it to version ${DATASET_VERSION} when it next writes it`);
  }
  let root = manifest.images_roots.indexOf(imagesRoot);
  if (root < 0) {
    root = manifest.images_roots.length;
    manifest = { ...manifest, images_roots: [...manifest.images_roots, imagesRoot], updated: at };
    await writeJsonDurable(join(dir, "manifest.json"), manifest);
  }
  return { manifest, root };
}
