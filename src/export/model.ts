/**
 * What every exporter reads: a gear-seg dataset folder as images with their annotations (one per reasoning
 * item, or one per labelled instance), each with its mask, category and split.
 */
import { join } from "node:path";
import { readManifest, readRecords, type ImageRecord, type InstanceLabel, type Manifest, type ReasoningItem } from "../engine/dataset.js";
import { REASONING_TYPES } from "../engine/prompt.js";
import type { Split } from "../engine/splits.js";
import { fromCocoRle } from "../masks/index.js";
import type { BBox, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";

export interface ExportAnnotation {
  /** `<image-id>#<k>` (reasoning) or `<image-id>#<region id>` (instances). */
  id: string;
  category: string;
  rle: Rle;
  area: number;
  bbox: BBox;
  item?: ReasoningItem;
  instance?: InstanceLabel;
}

export interface ExportImage {
  id: string;
  /** Relative to the images root, "/" separators. */
  rel: string;
  /** Absolute path of the source image. */
  file: string;
  width: number;
  height: number;
  split: Split;
  annotations: ExportAnnotation[];
}

export interface ExportDataset {
  dir: string;
  manifest: Manifest;
  /** In a stable order: the five reasoning types, or the label classes. */
  categories: string[];
  images: ExportImage[];
}

export async function loadDataset(dir: string): Promise<ExportDataset> {
  const manifest = await readManifest(dir);
  return loadDatasetFrom(dir, manifest, await readRecords(dir));
}

export async function loadDatasetFrom(dir: string, manifest: Manifest, records: readonly ImageRecord[]): Promise<ExportDataset> {
  const categories: string[] = manifest.kind === "reasoning" ? [...REASONING_TYPES] : [...(manifest.labels?.classes ?? [])];
  const images: ExportImage[] = records.map((r) => {
    const where = `record ${join(dir, "records", r.image_id + ".json")}`;
    const annotations: ExportAnnotation[] =
      r.kind === "reasoning"
        ? r.items.map((item) => ({
            id: item.id,
            category: item.reasoning_type,
            rle: fromCocoRle(item.mask, `${where} item ${item.id} mask`),
            area: item.area,
            bbox: item.bbox,
            item,
          }))
        : r.instances.map((inst) => {
            if (!categories.includes(inst.category)) categories.push(inst.category);
            return {
              id: inst.id,
              category: inst.category,
              rle: fromCocoRle(inst.mask, `${where} instance ${inst.id} mask`),
              area: inst.area,
              bbox: inst.bbox,
              instance: inst,
            };
          });
    for (const a of annotations) {
      if (a.rle.height !== r.height || a.rle.width !== r.width) {
        throw new GearSegError(`${where}: mask of ${a.id} is ${a.rle.width}×${a.rle.height}, the image is ${r.width}×${r.height}`);
      }
    }
    return { id: r.image_id, rel: r.image, file: join(manifest.images_root, r.image), width: r.width, height: r.height, split: r.split, annotations };
  });
  return { dir, manifest, categories, images };
}
