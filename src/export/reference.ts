/**
 * The GEAR-Seg reference data engine's own layout, so that its users' scripts read our datasets:
 * `<split>/answers/json/<image>.json`, one file per image holding a list of its items, each with
 * `reasoning_type`, `question` (the five questions), `answer_labels`, `answer_mask_ids`, `explanation`, and the
 * union of the target masks as a COCO compressed RLE (`counts`, with `size` = [height, width]), the encoding the
 * reference's answer files use (`shapes[0].counts`). Mask ids are strings there, as in its answer files.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { toCocoRle } from "../masks/index.js";
import { UsageError } from "../util/errors.js";
import type { ExportSource } from "./model.js";
import { WriteWindow } from "./write-window.js";

export interface ReferenceItem {
  reasoning_type: string;
  question: string[];
  answer_labels: string[];
  answer_mask_ids: string[];
  explanation: string;
  confidence: number;
  image_name: string;
  size: [number, number];
  counts: string;
}

export async function exportReferenceLayout(source: ExportSource, outDir: string): Promise<{ files: number; items: number; splits: string[] }> {
  if (source.kind !== "reasoning") throw new UsageError(`the gear-seg reference layout needs a reasoning dataset (engine generate); "${source.dir}" holds ${source.kind}`);
  let files = 0;
  let items = 0;
  const splits = new Set<string>();
  const writes = new WriteWindow();
  try {
    for await (const img of source.images()) {
      const dir = join(outDir, img.split, "answers", "json");
      if (!splits.has(img.split)) await mkdir(dir, { recursive: true });
      splits.add(img.split);
      const list: ReferenceItem[] = img.annotations.map((a) => {
        const item = a.item!;
        const rle = toCocoRle(a.rle);
        return {
          reasoning_type: item.reasoning_type,
          question: item.questions,
          answer_labels: item.answer_labels,
          answer_mask_ids: item.region_ids.map(String),
          explanation: item.explanation,
          confidence: item.confidence,
          image_name: img.rel.split("/").pop()!,
          size: rle.size,
          counts: rle.counts,
        };
      });
      await writes.add(() => writeFile(join(dir, `${img.id}.json`), JSON.stringify(list, null, 2) + "\n"));
      files++;
      items += list.length;
    }
    await writes.finish();
  } finally {
    await writes.settle();
  }
  return { files, items, splits: [...splits].sort() };
}
