/**
 * LabelMe JSON for review by people: one `<image id>.json` per image beside a copy of the image, one polygon
 * shape per outer contour, the annotation it belongs to in `group_id` (its index in the image) and the
 * category as `label`; reasoning items carry their first question in `description`. Polygons run through pixel
 * centres (LabelMe draws them with PIL, outline included). LabelMe polygons cannot hold holes: they are filled.
 * `importLabelMe` reads corrected files back into the dataset.
 */
import { extname, join } from "node:path";
import { writeJsonAtomic } from "../util/fs.js";
import { placeImage } from "./images.js";
import type { ExportDataset } from "./model.js";
import { centrePolygons, toPointPairs } from "./polygons.js";

export const LABELME_VERSION = "5.5.0";

export interface LabelMeShape {
  label: string;
  points: [number, number][];
  group_id: number | null;
  description: string;
  shape_type: "polygon";
  flags: Record<string, boolean>;
  mask: null;
}

export interface LabelMeFile {
  version: string;
  flags: Record<string, boolean>;
  shapes: LabelMeShape[];
  imagePath: string;
  imageData: null;
  imageHeight: number;
  imageWidth: number;
  /** Which gear-seg image this is (LabelMe keeps unknown keys). */
  gear_seg?: { dataset: string; image_id: string; annotation_ids: string[] };
}

export async function exportLabelMe(ds: ExportDataset, outDir: string): Promise<{ files: number; shapes: number }> {
  let shapes = 0;
  for (const img of ds.images) {
    const imageName = `${img.id}${extname(img.file).toLowerCase() || ".jpg"}`;
    const file: LabelMeFile = {
      version: LABELME_VERSION,
      flags: {},
      shapes: [],
      imagePath: imageName,
      imageData: null,
      imageHeight: img.height,
      imageWidth: img.width,
      gear_seg: { dataset: ds.dir, image_id: img.id, annotation_ids: img.annotations.map((a) => a.id) },
    };
    img.annotations.forEach((a, k) => {
      for (const p of centrePolygons(a.rle)) {
        if (p.outer.length < 6) continue; // LabelMe polygons need three points
        file.shapes.push({
          label: a.category,
          points: toPointPairs(p.outer),
          group_id: k,
          description: a.item?.questions[0] ?? "",
          shape_type: "polygon",
          flags: {},
          mask: null,
        });
        shapes++;
      }
    });
    await placeImage(img.file, join(outDir, imageName));
    await writeJsonAtomic(join(outDir, `${img.id}.json`), file);
  }
  return { files: ds.images.length, shapes };
}
