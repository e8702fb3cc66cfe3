/**
 * COCO instances JSON from a dataset: images, categories (1-based ids, in the dataset's order), annotations
 * with RLE segmentations (exact) or polygons (`polygons: true`: pycocotools' pixel-corner polygons, outer
 * contours only — COCO polygons cannot hold holes). Reasoning items keep their questions, explanation, answer
 * labels and region ids as extra annotation fields (COCO readers ignore fields they do not know).
 */
import { join } from "node:path";
import { area as rleArea, decode, maskToPolygons, toBbox, toCocoRle } from "../masks/index.js";
import type { CocoRle, FlatPolygon } from "../masks/types.js";
import { writeJsonAtomic } from "../util/fs.js";
import type { ExportDataset } from "./model.js";

export interface CocoExportOptions {
  polygons?: boolean;
}

export interface CocoInstances {
  info: Record<string, unknown>;
  images: { id: number; file_name: string; width: number; height: number; split: string; gear_seg_id: string }[];
  categories: { id: number; name: string; supercategory: string }[];
  annotations: {
    id: number;
    image_id: number;
    category_id: number;
    segmentation: CocoRle | FlatPolygon[];
    area: number;
    bbox: [number, number, number, number];
    iscrowd: 0;
    [extra: string]: unknown;
  }[];
}

export function buildCocoInstances(ds: ExportDataset, options: CocoExportOptions = {}): CocoInstances {
  const catId = new Map(ds.categories.map((c, i) => [c, i + 1]));
  const out: CocoInstances = {
    info: {
      description: `gear-seg ${ds.manifest.kind} dataset`,
      generation: ds.manifest.generation,
      created: ds.manifest.updated,
    },
    images: [],
    categories: ds.categories.map((name, i) => ({ id: i + 1, name, supercategory: ds.manifest.kind === "reasoning" ? "reasoning" : (ds.manifest.labels?.keyword ?? "object") })),
    annotations: [],
  };
  let annId = 1;
  ds.images.forEach((img, i) => {
    const imageId = i + 1;
    out.images.push({ id: imageId, file_name: img.rel, width: img.width, height: img.height, split: img.split, gear_seg_id: img.id });
    for (const a of img.annotations) {
      let segmentation: CocoRle | FlatPolygon[];
      if (options.polygons) {
        segmentation = maskToPolygons(decode(a.rle)).map((p) => p.outer);
        if (segmentation.length === 0) continue;
      } else {
        segmentation = toCocoRle(a.rle);
      }
      out.annotations.push({
        id: annId++,
        image_id: imageId,
        category_id: catId.get(a.category)!,
        segmentation,
        area: rleArea(a.rle),
        bbox: toBbox(a.rle),
        iscrowd: 0,
        gear_seg_id: a.id,
        ...(a.item && {
          questions: a.item.questions,
          explanation: a.item.explanation,
          answer_labels: a.item.answer_labels,
          region_ids: a.item.region_ids,
          confidence: a.item.confidence,
        }),
        ...(a.instance && { region_id: a.instance.region_id }),
      });
    }
  });
  return out;
}

/** Writes `annotations/instances_<split>.json` per split with images, and `annotations/instances_all.json`. */
export async function exportCoco(ds: ExportDataset, outDir: string, options: CocoExportOptions = {}): Promise<string[]> {
  const files: string[] = [];
  const all = buildCocoInstances(ds, options);
  const path = join(outDir, "annotations", "instances_all.json");
  await writeJsonAtomic(path, all);
  files.push(path);
  for (const split of ["train", "val", "test"] as const) {
    const images = ds.images.filter((i) => i.split === split);
    if (!images.length) continue;
    const p = join(outDir, "annotations", `instances_${split}.json`);
    await writeJsonAtomic(p, buildCocoInstances({ ...ds, images }, options));
    files.push(p);
  }
  return files;
}
