/**
 * LISA's ReasonSeg layout (dvlab-research/LISA utils/reason_seg_dataset.py, utils/data_processing.py):
 * `reason_seg/<Name>/<split>/X.jpg` + `X.json` with `text` (the questions), `is_sentence`, and `shapes`
 * (polygons labelled `target`), plus `reason_seg/<Name>/explanatory/train.json` = [{image, query, outputs}].
 * LISA rasterises one mask per JSON (all shapes), so each item becomes its own X = `<image id>_<k>`.
 * Polygons run through pixel centres (see polygons.ts) so LISA's polylines + fillPoly give back our mask;
 * holes are written as `ignore` shapes: LISA trains on `mask == 1` (a hole is background) and its evaluation
 * leaves ignore pixels out. Point LISA at it with `--dataset_dir <out> --reason_seg_data "<Name>|train"`.
 */
import { join } from "node:path";
import { UsageError } from "../util/errors.js";
import { writeJsonAtomic } from "../util/fs.js";
import { placeImage } from "./images.js";
import type { ExportDataset } from "./model.js";
import { centrePolygons, toPointPairs } from "./polygons.js";

export interface ReasonSegExportOptions {
  /** The dataset name in LISA's `--reason_seg_data "<Name>|train"` (default GearSeg). */
  name?: string;
}

export interface LisaShape {
  label: "target" | "ignore";
  labels: string[];
  shape_type: "polygon";
  image_name: string;
  points: [number, number][];
  group_id: null;
  flags: Record<string, never>;
}

export async function exportReasonSeg(ds: ExportDataset, outDir: string, options: ReasonSegExportOptions = {}): Promise<{ root: string; samples: number; explanatory: number }> {
  if (ds.manifest.kind !== "reasoning") throw new UsageError(`--format reasonseg needs a reasoning dataset (engine generate); "${ds.dir}" holds ${ds.manifest.kind}`);
  const name = options.name ?? "GearSeg";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name must be letters, digits, ".", "_" or "-", got "${name}"`);
  const root = join(outDir, "reason_seg", name);
  const explanatory: { image: string; query: string; outputs: string }[] = [];
  let samples = 0;
  for (const img of ds.images) {
    for (const [k, a] of img.annotations.entries()) {
      const item = a.item!;
      const x = `${img.id}_${k}`;
      const shapes: LisaShape[] = [];
      for (const p of centrePolygons(a.rle)) {
        shapes.push(shape("target", p.outer, `${x}.jpg`));
        for (const h of p.holes) shapes.push(shape("ignore", h, `${x}.jpg`));
      }
      const dir = join(root, img.split);
      await placeImage(img.file, join(dir, `${x}.jpg`), { jpeg: true });
      await writeJsonAtomic(join(dir, `${x}.json`), { text: item.questions, is_sentence: true, shapes });
      samples++;
      if (img.split === "train") explanatory.push({ image: `${x}.jpg`, query: item.questions[0]!, outputs: item.explanation });
    }
  }
  await writeJsonAtomic(join(root, "explanatory", "train.json"), explanatory);
  return { root, samples, explanatory: explanatory.length };
}

function shape(label: "target" | "ignore", poly: number[], imageName: string): LisaShape {
  return { label, labels: [label], shape_type: "polygon", image_name: imageName, points: toPointPairs(poly), group_id: null, flags: {} };
}
