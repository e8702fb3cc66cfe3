/**
 * What every exporter reads: a stream of images with their annotations (one per kept reasoning item, or per
 * kept labelled instance; items a reviewer rejected are left out), each with its mask, category and split.
 * Images are produced one at a time, so an export's memory does not grow with the dataset. Two sources: a
 * gear-seg dataset folder, and a folder of `segment` runs (see segment-runs.ts).
 */
import { join } from "node:path";
import {
  eachRecord,
  imageFileOf,
  keptItems,
  readManifest,
  REASONING_TYPES,
  recordNames,
  type DamagedRecord,
  type DatasetKind,
  type InstanceLabel,
  type Manifest,
  type ReasoningItem,
  type Split,
} from "../datasets/gear-seg.js";
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
  /** Relative to its images root, "/" separators. */
  rel: string;
  /** Absolute path of the source image. */
  file: string;
  width: number;
  height: number;
  split: Split;
  annotations: ExportAnnotation[];
}

/** Categories in a stable order; a category first met while streaming is appended (and keeps its index). */
export class CategoryList {
  readonly names: string[];
  private readonly index = new Map<string, number>();
  constructor(initial: readonly string[]) {
    this.names = [];
    for (const n of initial) this.indexOf(n);
  }
  indexOf(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.index.set(name, i);
    }
    return i;
  }
}

export interface ExportSource {
  /** The folder read. */
  dir: string;
  kind: DatasetKind | "segment-runs";
  /** One line saying what the source is, for file headers. */
  description: string;
  /** Free-form provenance for COCO's `info`. */
  info: Record<string, unknown>;
  /** The keyword (instances) or "reasoning" / "query": COCO's supercategory. */
  supercategory: string;
  categories: CategoryList;
  /** How many images the stream will give (known before streaming; 0 = nothing to export). */
  imageCount: number;
  images(): AsyncGenerator<ExportImage>;
  /** Damaged records found while streaming (moved aside; their images are redone by the next run). */
  damaged: DamagedRecord[];
  /** Annotations streamed so far (all passes). */
  seen: { annotations: number };
}

export async function openDatasetSource(dir: string): Promise<ExportSource & { manifest: Manifest }> {
  const manifest = await readManifest(dir);
  const categories = new CategoryList(manifest.kind === "reasoning" ? REASONING_TYPES : (manifest.labels?.classes ?? []));
  const damaged: DamagedRecord[] = [];
  const seen = { annotations: 0 };
  const imageCount = (await recordNames(dir)).length;
  return {
    dir,
    manifest,
    kind: manifest.kind,
    description: `gear-seg export of ${dir} (${manifest.kind})`,
    info: { description: `gear-seg ${manifest.kind} dataset`, generation: manifest.generation, created: manifest.updated },
    supercategory: manifest.kind === "reasoning" ? "reasoning" : (manifest.labels?.keyword ?? "object"),
    categories,
    imageCount,
    damaged,
    seen,
    images: async function* () {
      for await (const r of eachRecord(dir, { onDamaged: (d) => damaged.push(d) })) {
        const where = `record ${join(dir, "records", r.image_id + ".json")}`;
        const annotations: ExportAnnotation[] =
          r.kind === "reasoning"
            ? keptItems(r).map((item) => ({ id: item.id, category: item.reasoning_type, rle: fromCocoRle(item.mask, `${where} item ${item.id} mask`), area: item.area, bbox: item.bbox, item }))
            : keptItems(r).map((inst) => {
                categories.indexOf(inst.category);
                return { id: inst.id, category: inst.category, rle: fromCocoRle(inst.mask, `${where} instance ${inst.id} mask`), area: inst.area, bbox: inst.bbox, instance: inst };
              });
        for (const a of annotations) {
          if (a.rle.height !== r.height || a.rle.width !== r.width) {
            throw new GearSegError(`${where}: mask of ${a.id} is ${a.rle.width}×${a.rle.height}, the image is ${r.width}×${r.height}`);
          }
        }
        seen.annotations += annotations.length;
        yield { id: r.image_id, rel: r.image, file: imageFileOf(manifest, r), width: r.width, height: r.height, split: r.split, annotations };
      }
    },
  };
}
