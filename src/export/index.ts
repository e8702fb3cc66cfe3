/** Dataset writers: COCO instances, YOLO segmentation, LISA's ReasonSeg, LabelMe (and LabelMe back in). */
import { UsageError } from "../util/errors.js";
import { exportCoco } from "./coco.js";
import { exportLabelMe } from "./labelme.js";
import { loadDataset } from "./model.js";
import { exportReasonSeg } from "./reasonseg.js";
import { exportYolo } from "./yolo.js";

export { buildCocoInstances, exportCoco, type CocoExportOptions, type CocoInstances } from "./coco.js";
export { exportLabelMe, type LabelMeFile, type LabelMeShape } from "./labelme.js";
export { importLabelMe, type ImportSummary } from "./import-labelme.js";
export { loadDataset, type ExportAnnotation, type ExportDataset, type ExportImage } from "./model.js";
export { exportReasonSeg, type ReasonSegExportOptions } from "./reasonseg.js";
export { exportYolo } from "./yolo.js";
export { centrePolygons, cornerToCentre } from "./polygons.js";

export const EXPORT_FORMATS = ["coco", "yolo", "reasonseg", "labelme"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** coco: polygons instead of RLE. */
  polygons?: boolean;
  /** reasonseg: the dataset name LISA sees. */
  name?: string;
}

/** Exports the dataset folder `dir` into `outDir`; returns one line saying what was written. */
export async function exportDataset(dir: string, format: string, outDir: string, options: ExportOptions = {}): Promise<string> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}, got "${format}"`);
  const ds = await loadDataset(dir);
  switch (format as ExportFormat) {
    case "coco": {
      const files = await exportCoco(ds, outDir, { polygons: options.polygons });
      return `COCO instances (${options.polygons ? "polygons" : "RLE"}): ${files.join(", ")}`;
    }
    case "yolo": {
      const r = await exportYolo(ds, outDir);
      return `YOLO segmentation: ${r.images} images, ${r.rows} label rows, splits ${r.splits.join("/")}; ${r.dataYaml}`;
    }
    case "reasonseg": {
      const r = await exportReasonSeg(ds, outDir, { name: options.name });
      return `ReasonSeg (LISA): ${r.samples} samples under ${r.root}, ${r.explanatory} explanatory entries`;
    }
    case "labelme": {
      const r = await exportLabelMe(ds, outDir);
      return `LabelMe: ${r.files} files, ${r.shapes} polygons in ${outDir}`;
    }
  }
}
