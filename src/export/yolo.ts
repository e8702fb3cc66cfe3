/**
 * Ultralytics YOLO segmentation layout: `images/<split>/` + `labels/<split>/<stem>.txt` (one row per contour
 * of at least three points: `class x1 y1 x2 y2 ...`, normalised to [0, 1]) and `data.yaml` (splits, names),
 * ready for `yolo segment train data=<out>/data.yaml`. Ultralytics rasterises with cv2.fillPoly, so the
 * polygons run through pixel centres (polygons.ts). YOLO rows cannot hold holes: they are filled.
 *
 * data.yaml has no `path:` key: ultralytics then takes the folder the yaml is in as the dataset root
 * (ultralytics/data/utils.py, check_det_dataset), so the export can be copied to another machine as it is.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { stringify } from "yaml";
import { placeImage } from "./images.js";
import type { ExportSource } from "./model.js";
import { centrePolygons } from "./polygons.js";
import { WriteWindow } from "./write-window.js";

export async function exportYolo(source: ExportSource, outDir: string): Promise<{ dataYaml: string; images: number; rows: number; splits: string[] }> {
  let rows = 0;
  let images = 0;
  const splits = new Set<string>();
  const writes = new WriteWindow();
  try {
    for await (const img of source.images()) {
      if (!splits.has(img.split)) await mkdir(join(outDir, "labels", img.split), { recursive: true });
      splits.add(img.split);
      images++;
      const lines: string[] = [];
      for (const a of img.annotations) {
        const cls = source.categories.indexOf(a.category);
        for (const p of centrePolygons(a.rle)) {
          if (p.outer.length < 6) continue;
          const coords: string[] = [];
          for (let i = 0; i < p.outer.length; i += 2) coords.push(fmt(p.outer[i]! / img.width), fmt(p.outer[i + 1]! / img.height));
          lines.push(`${cls} ${coords.join(" ")}`);
          rows++;
        }
      }
      const ext = extname(img.file).toLowerCase() || ".jpg";
      await writes.add(() => placeImage(img.file, join(outDir, "images", img.split, `${img.id}${ext}`)));
      await writes.add(() => writeFile(join(outDir, "labels", img.split, `${img.id}.txt`), lines.length ? lines.join("\n") + "\n" : ""));
    }
    await writes.finish();
  } finally {
    await writes.settle();
  }
  // Ultralytics needs a val set: without val images, validate on train (said in a comment).
  const data: Record<string, unknown> = {
    train: "images/train",
    val: splits.has("val") ? "images/val" : "images/train",
    ...(splits.has("test") && { test: "images/test" }),
    names: Object.fromEntries(source.categories.names.map((c, i) => [i, c])),
  };
  const header = `# ${source.description}\n# no "path:": the dataset root is this file's folder${splits.has("val") ? "" : "\n# no val images: val points at train"}\n`;
  const dataYaml = join(outDir, "data.yaml");
  await writeFile(dataYaml, header + stringify(data));
  return { dataYaml, images, rows, splits: [...splits].sort() };
}

function fmt(v: number): string {
  return String(Math.round(Math.min(1, Math.max(0, v)) * 1e6) / 1e6);
}
