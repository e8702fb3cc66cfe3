/**
 * LISA's ReasonSeg layout (dvlab-research/LISA utils/reason_seg_dataset.py, utils/data_processing.py):
 * `reason_seg/<Name>/<split>/X.jpg` + `X.json` with `text` (the questions), `is_sentence`, and `shapes`
 * (polygons labelled `target`), plus `reason_seg/<Name>/explanatory/train.json` = [{image, query, outputs}].
 * LISA rasterises one mask per JSON (all shapes), so each item becomes its own X = `<image id>_<k>`.
 * Polygons run through pixel centres (see polygons.ts) so LISA's polylines + fillPoly give back our mask;
 * holes are written as `ignore` shapes: LISA trains on `mask == 1` (a hole is background) and its evaluation
 * leaves ignore pixels out. Point LISA at it with `--dataset_dir <out> --reason_seg_data "<Name>|train"`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DurableWriter } from "../util/durable.js";
import { UsageError } from "../util/errors.js";
import { placeImage } from "./images.js";
import type { ExportSource } from "./model.js";
import { centrePolygons, toPointPairs } from "./polygons.js";
import { WriteWindow } from "./write-window.js";

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

export async function exportReasonSeg(source: ExportSource, outDir: string, options: ReasonSegExportOptions = {}): Promise<{ root: string; samples: number; explanatory: number }> {
  if (source.kind !== "reasoning") throw new UsageError(`the reasonseg format needs a reasoning dataset (engine generate); "${source.dir}" holds ${source.kind}`);
  const name = options.name ?? "GearSeg";
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`the ReasonSeg dataset name must be letters, digits, ".", "_" or "-", got "${name}"`);
  const root = join(outDir, "reason_seg", name);
  // explanatory/train.json is a JSON list of every train item: streamed, one entry at a time.
  const explanatory = await DurableWriter.open(join(root, "explanatory", "train.json"));
  let explained = 0;
  let samples = 0;
  const made = new Set<string>();
  const writes = new WriteWindow();
  try {
    await explanatory.write("[");
    for await (const img of source.images()) {
      for (const [k, a] of img.annotations.entries()) {
        const item = a.item!;
        const x = `${img.id}_${k}`;
        const shapes: LisaShape[] = [];
        for (const p of centrePolygons(a.rle)) {
          shapes.push(shape("target", p.outer, `${x}.jpg`));
          for (const h of p.holes) shapes.push(shape("ignore", h, `${x}.jpg`));
        }
        const dir = join(root, img.split);
        if (!made.has(dir)) await mkdir(dir, { recursive: true });
        made.add(dir);
        await writes.add(() => placeImage(img.file, join(dir, `${x}.jpg`), { jpeg: true }));
        await writes.add(() => writeFile(join(dir, `${x}.json`), JSON.stringify({ text: item.questions, is_sentence: true, shapes })));
        samples++;
        if (img.split === "train") await explanatory.write(`${explained++ ? "," : ""}\n${JSON.stringify({ image: `${x}.jpg`, query: item.questions[0]!, outputs: item.explanation })}`);
      }
    }
    await writes.finish();
    await explanatory.write("\n]\n");
    await explanatory.commit();
  } catch (err) {
    await writes.settle();
    await explanatory.abort();
    throw err;
  }
  return { root, samples, explanatory: explained };
}

function shape(label: "target" | "ignore", poly: number[], imageName: string): LisaShape {
  return { label, labels: [label], shape_type: "polygon", image_name: imageName, points: toPointPairs(poly), group_id: null, flags: {} };
}
