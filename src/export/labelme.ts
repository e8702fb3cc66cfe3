/**
 * LabelMe JSON for review by people: one `<image id>.json` per image beside a copy of the image, one polygon
 * shape per outer contour, the annotation it belongs to in `group_id` (its index in the image) and the
 * category as `label`; reasoning items carry their first question in `description`. Polygons run through pixel
 * centres (LabelMe draws them with PIL, outline included). LabelMe polygons cannot hold holes or one-pixel
 * lines exactly, so each file also records a fingerprint of every group's shapes as exported: a group that
 * comes back with the same shapes keeps its exact mask (an unedited round trip changes nothing), and only
 * groups a person edited are rasterised again. `importLabelMe` reads corrected files back into the dataset.
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { placeImage } from "./images.js";
import type { ExportSource } from "./model.js";
import { centrePolygons, toPointPairs } from "./polygons.js";
import { WriteWindow } from "./write-window.js";

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
  /** Which gear-seg image this is, and each group's shape fingerprint as exported (LabelMe keeps unknown keys). */
  gear_seg?: { dataset: string; image_id: string; annotation_ids: string[]; groups?: Record<string, string> };
}

/** sha256 of a group's shapes (label and points, in order): equal before and after = not edited. */
export function groupFingerprint(shapes: readonly { label: string; points: readonly (readonly number[])[] }[]): string {
  return createHash("sha256")
    .update(JSON.stringify(shapes.map((s) => [s.label, s.points])))
    .digest("hex")
    .slice(0, 24);
}

export async function exportLabelMe(source: ExportSource, outDir: string): Promise<{ files: number; shapes: number }> {
  let shapes = 0;
  let files = 0;
  const writes = new WriteWindow();
  try {
    for await (const img of source.images()) {
      const imageName = `${img.id}${extname(img.file).toLowerCase() || ".jpg"}`;
      const file: LabelMeFile = {
        version: LABELME_VERSION,
        flags: {},
        shapes: [],
        imagePath: imageName,
        imageData: null,
        imageHeight: img.height,
        imageWidth: img.width,
        gear_seg: { dataset: source.dir, image_id: img.id, annotation_ids: img.annotations.map((a) => a.id), groups: {} },
      };
      img.annotations.forEach((a, k) => {
        const group: LabelMeShape[] = [];
        for (const p of centrePolygons(a.rle)) {
          if (p.outer.length < 6) continue; // LabelMe polygons need three points
          group.push({ label: a.category, points: toPointPairs(p.outer), group_id: k, description: a.item?.questions[0] ?? "", shape_type: "polygon", flags: {}, mask: null });
        }
        file.gear_seg!.groups![String(k)] = groupFingerprint(group);
        file.shapes.push(...group);
        shapes += group.length;
      });
      await writes.add(() => placeImage(img.file, join(outDir, imageName)));
      await writes.add(() => writeFile(join(outDir, `${img.id}.json`), JSON.stringify(file, null, 2) + "\n"));
      files++;
    }
    await writes.finish();
  } finally {
    await writes.settle();
  }
  return { files, shapes };
}
