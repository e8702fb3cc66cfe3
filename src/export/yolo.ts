/**
 * Ultralytics YOLO segmentation layout: `images/<split>/` + `labels/<split>/<stem>.txt` (one row per contour
 * of at least three points: `class x1 y1 x2 y2 ...`, normalised to [0, 1]) and `data.yaml` (path, splits,
 * names), ready for `yolo segment train data=<out>/data.yaml`. Ultralytics rasterises with cv2.fillPoly, so
 * the polygons run through pixel centres (polygons.ts). YOLO rows cannot hold holes: they are filled.
 */
import { extname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../util/fs.js";
import { placeImage } from "./images.js";
import type { ExportDataset } from "./model.js";
import { centrePolygons } from "./polygons.js";

export async function exportYolo(ds: ExportDataset, outDir: string): Promise<{ dataYaml: string; images: number; rows: number; splits: string[] }> {
  const classIndex = new Map(ds.categories.map((c, i) => [c, i]));
  let rows = 0;
  const splits = new Set<string>();
  for (const img of ds.images) {
    splits.add(img.split);
    const lines: string[] = [];
    for (const a of img.annotations) {
      const cls = classIndex.get(a.category)!;
      for (const p of centrePolygons(a.rle)) {
        if (p.outer.length < 6) continue;
        const coords: string[] = [];
        for (let i = 0; i < p.outer.length; i += 2) coords.push(fmt(p.outer[i]! / img.width), fmt(p.outer[i + 1]! / img.height));
        lines.push(`${cls} ${coords.join(" ")}`);
        rows++;
      }
    }
    const ext = extname(img.file).toLowerCase() || ".jpg";
    await placeImage(img.file, join(outDir, "images", img.split, `${img.id}${ext}`));
    await writeFileAtomic(join(outDir, "labels", img.split, `${img.id}.txt`), lines.length ? lines.join("\n") + "\n" : "");
  }
  // Ultralytics needs a val set: without val images, validate on train (said in a comment).
  const data: Record<string, unknown> = {
    path: resolve(outDir),
    train: "images/train",
    val: splits.has("val") ? "images/val" : "images/train",
    ...(splits.has("test") && { test: "images/test" }),
    names: Object.fromEntries(ds.categories.map((c, i) => [i, c])),
  };
  const header = `# gear-seg export of ${ds.dir} (${ds.manifest.kind})${splits.has("val") ? "" : "\n# no val images: val points at train"}\n`;
  const dataYaml = join(outDir, "data.yaml");
  await writeFileAtomic(dataYaml, header + stringify(data));
  return { dataYaml, images: ds.images.length, rows, splits: [...splits].sort() };
}

function fmt(v: number): string {
  return String(Math.round(Math.min(1, Math.max(0, v)) * 1e6) / 1e6);
}
