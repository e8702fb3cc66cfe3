/**
 * COCO instances JSON from an export source: images, categories (1-based ids, in the source's order),
 * annotations with RLE segmentations (exact) or polygons (`polygons: true`: pycocotools' pixel-corner polygons,
 * outer contours only — COCO polygons cannot hold holes). Reasoning items keep their questions, explanation,
 * answer labels and region ids as extra annotation fields (COCO readers ignore fields they do not know).
 *
 * Written as a stream: annotations go to disk as they are made, then the images and the categories (JSON
 * objects have no key order, and pycocotools reads them in any order), so a file of any size is written in
 * flat memory.
 */
import { join } from "node:path";
import type { Split } from "../datasets/gear-seg.js";
import { area as rleArea, rleToPolygons, toBbox, toCocoRle } from "../masks/index.js";
import type { CocoRle, FlatPolygon } from "../masks/types.js";
import { DurableWriter } from "../util/durable.js";
import type { ExportImage, ExportSource } from "./model.js";

export interface CocoExportOptions {
  polygons?: boolean;
}

export interface CocoFileTarget {
  path: string;
  /** Only images of this split (default: every image). */
  split?: Split;
}

export interface CocoFileSummary {
  path: string;
  images: number;
  annotations: number;
}

class CocoFileWriter {
  private images: string[] = [];
  private annotations = 0;
  private constructor(
    private readonly writer: DurableWriter,
    readonly target: CocoFileTarget,
  ) {}

  static async open(target: CocoFileTarget, source: ExportSource): Promise<CocoFileWriter> {
    const w = new CocoFileWriter(await DurableWriter.open(target.path), target);
    await w.writer.write(`{"info":${JSON.stringify(source.info)},"annotations":[`);
    return w;
  }

  async addImage(img: ExportImage, source: ExportSource, options: CocoExportOptions): Promise<void> {
    const imageId = this.images.length + 1;
    this.images.push(JSON.stringify({ id: imageId, file_name: img.rel, width: img.width, height: img.height, split: img.split, gear_seg_id: img.id }));
    for (const a of img.annotations) {
      let segmentation: CocoRle | FlatPolygon[];
      if (options.polygons) {
        segmentation = rleToPolygons(a.rle).map((p) => p.outer);
        if (segmentation.length === 0) continue;
      } else {
        segmentation = toCocoRle(a.rle);
      }
      const ann = {
        id: ++this.annotations,
        image_id: imageId,
        category_id: source.categories.indexOf(a.category) + 1,
        segmentation,
        area: rleArea(a.rle),
        bbox: toBbox(a.rle),
        iscrowd: 0,
        gear_seg_id: a.id,
        ...(a.item && { questions: a.item.questions, explanation: a.item.explanation, answer_labels: a.item.answer_labels, region_ids: a.item.region_ids, confidence: a.item.confidence }),
        ...(a.instance && { region_id: a.instance.region_id }),
      };
      await this.writer.write((this.annotations > 1 ? "," : "") + JSON.stringify(ann));
    }
  }

  async commit(source: ExportSource): Promise<CocoFileSummary> {
    const categories = source.categories.names.map((name, i) => ({ id: i + 1, name, supercategory: source.supercategory }));
    await this.writer.write(`],"images":[`);
    for (let i = 0; i < this.images.length; i++) await this.writer.write((i ? "," : "") + this.images[i]);
    await this.writer.write(`],"categories":${JSON.stringify(categories)}}\n`);
    await this.writer.commit();
    return { path: this.target.path, images: this.images.length, annotations: this.annotations };
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}

/**
 * Streams the source once into every target file. Targets for a split no image belongs to are not written.
 */
export async function writeCocoFiles(source: ExportSource, targets: readonly CocoFileTarget[], options: CocoExportOptions = {}): Promise<CocoFileSummary[]> {
  const open = new Map<CocoFileTarget, CocoFileWriter>();
  try {
    for (const t of targets) if (!t.split) open.set(t, await CocoFileWriter.open(t, source));
    for await (const img of source.images()) {
      for (const t of targets) {
        if (t.split && t.split !== img.split) continue;
        let w = open.get(t);
        if (!w) open.set(t, (w = await CocoFileWriter.open(t, source)));
        await w.addImage(img, source, options);
      }
    }
    const out: CocoFileSummary[] = [];
    for (const t of targets) {
      const w = open.get(t);
      if (w) out.push(await w.commit(source));
    }
    return out;
  } catch (err) {
    for (const w of open.values()) await w.abort();
    throw err;
  }
}

/** `annotations/instances_all.json` and `annotations/instances_<split>.json` for each split with images. */
export async function exportCoco(source: ExportSource, outDir: string, options: CocoExportOptions = {}): Promise<CocoFileSummary[]> {
  const targets: CocoFileTarget[] = [{ path: join(outDir, "annotations", "instances_all.json") }];
  for (const split of ["train", "val", "test"] as const) targets.push({ path: join(outDir, "annotations", `instances_${split}.json`), split });
  return writeCocoFiles(source, targets, options);
}
