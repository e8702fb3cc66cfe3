/**
 * Dataset writers: COCO instances, YOLO segmentation, LISA's ReasonSeg, LabelMe (and LabelMe back in), and the
 * GEAR-Seg reference's answers layout. The source is a gear-seg dataset folder, or a folder of `segment` runs
 * (COCO, YOLO, LabelMe).
 *
 * An export replaces its folder as a whole: it is written into a sibling folder, then swapped in, so a deleted
 * item never survives from an older export and a failed export leaves the old one untouched. A folder that
 * holds anything but an earlier gear-seg export (or nothing) is refused, never replaced.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { GearSegError, UsageError } from "../util/errors.js";
import { exportCoco } from "./coco.js";
import { exportLabelMe } from "./labelme.js";
import { openDatasetSource, type ExportSource } from "./model.js";
import { exportReasonSeg } from "./reasonseg.js";
import { exportReferenceLayout } from "./reference.js";
import { isSegmentRunsFolder, openSegmentRunsSource } from "./segment-runs.js";
import { exportYolo } from "./yolo.js";

export { writeCocoFiles, exportCoco, type CocoExportOptions, type CocoFileSummary, type CocoFileTarget } from "./coco.js";
export { exportLabelMe, type LabelMeFile, type LabelMeShape } from "./labelme.js";
export { importLabelMe, type ImportSummary } from "./import-labelme.js";
export { openDatasetSource, CategoryList, type ExportAnnotation, type ExportImage, type ExportSource } from "./model.js";
export { exportReasonSeg, type ReasonSegExportOptions } from "./reasonseg.js";
export { exportReferenceLayout } from "./reference.js";
export { openSegmentRunsSource } from "./segment-runs.js";
export { exportYolo } from "./yolo.js";
export { centrePolygons, cornerToCentre } from "./polygons.js";

export const EXPORT_FORMATS = ["coco", "yolo", "reasonseg", "labelme", "gear-seg"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** Formats a folder of segment runs can be exported to (the others need reasoning items). */
export const SEGMENT_RUN_FORMATS: readonly ExportFormat[] = ["coco", "yolo", "labelme"];

export interface ExportOptions {
  /** coco: polygons instead of RLE. */
  polygons?: boolean;
  /** reasonseg: the dataset name LISA sees. */
  name?: string;
}

export interface ExportResult {
  format: ExportFormat;
  source: string;
  sourceKind: ExportSource["kind"];
  out: string;
  images: number;
  /** One line saying what was written. */
  summary: string;
  files: Record<string, unknown>;
  /** Damaged records met while reading (moved aside into the dataset's damaged/ folder). */
  damaged: { file: string; movedTo: string; reason: string }[];
}

/** Marks a folder as a gear-seg export (no .json extension: LabelMe readers take every *.json file). */
const MARKER = ".gear-seg-export";

/** Fails unless `out` is absent, empty, or an earlier gear-seg export. */
async function checkReplaceable(out: string): Promise<"absent" | "empty" | "export"> {
  const info = await stat(out).catch(() => null);
  if (!info) return "absent";
  if (!info.isDirectory()) throw new GearSegError(`export folder "${out}" is a file; choose a folder`);
  const names = await readdir(out);
  if (names.length === 0) return "empty";
  if (names.includes(MARKER)) return "export";
  throw new GearSegError(`export folder "${out}" holds files that are not a gear-seg export; choose an empty or new folder (it is never replaced)`);
}

export async function openExportSource(dir: string): Promise<ExportSource> {
  if (await isSegmentRunsFolder(dir)) return openSegmentRunsSource(dir);
  return openDatasetSource(dir);
}

/** Exports the dataset (or segment runs) folder `dir` into `outDir`, replacing an earlier export there. */
export async function exportDataset(dir: string, format: string, outDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`export format must be one of ${EXPORT_FORMATS.join(", ")}, got "${format}"`);
  const out = resolve(outDir);
  const source = await openExportSource(resolve(dir));
  if (source.kind === "segment-runs" && !SEGMENT_RUN_FORMATS.includes(format as ExportFormat)) {
    throw new UsageError(`segment runs export to ${SEGMENT_RUN_FORMATS.join(", ")}; ${format} needs a reasoning dataset`);
  }
  if (source.imageCount === 0) throw new GearSegError(`"${dir}" has no finished images: nothing to export (run engine generate or label first)`);
  const had = await checkReplaceable(out);
  const stage = join(dirname(out), `.${basename(out)}.export-${randomBytes(4).toString("hex")}`);
  await mkdir(stage, { recursive: true });
  let result: Omit<ExportResult, "format" | "source" | "sourceKind" | "out" | "damaged">;
  try {
    result = await writeFormat(source, format as ExportFormat, stage, out, options);
    if (source.seen.annotations === 0) throw new GearSegError(`"${dir}" has no items to export (none finished, or every one rejected)`);
    await writeFile(join(stage, MARKER), JSON.stringify({ format, source: source.dir, written: new Date().toISOString() }) + "\n");
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    throw err;
  }
  // Swap: the old export goes aside, the new one takes its name, the old one is removed.
  if (had === "absent" || had === "empty") {
    if (had === "empty") await rm(out, { recursive: true, force: true });
    await rename(stage, out);
  } else {
    const old = join(dirname(out), `.${basename(out)}.old-${randomBytes(4).toString("hex")}`);
    await rename(out, old);
    await rename(stage, out);
    await rm(old, { recursive: true, force: true });
  }
  return { format: format as ExportFormat, source: source.dir, sourceKind: source.kind, out, damaged: source.damaged, ...result };
}

async function writeFormat(source: ExportSource, format: ExportFormat, stage: string, out: string, options: ExportOptions): Promise<Omit<ExportResult, "format" | "source" | "sourceKind" | "out" | "damaged">> {
  // Paths inside the staged folder are reported as they will be once swapped in.
  const final = (p: string) => join(out, p.slice(stage.length + 1));
  switch (format) {
    case "coco": {
      const files = await exportCoco(source, stage, { polygons: options.polygons });
      const all = files[0]!;
      return { images: all.images, files: Object.fromEntries(files.map((f) => [final(f.path), { images: f.images, annotations: f.annotations }])), summary: `COCO instances (${options.polygons ? "polygons" : "RLE"}): ${files.map((f) => final(f.path)).join(", ")}` };
    }
    case "yolo": {
      const r = await exportYolo(source, stage);
      return { images: r.images, files: { [final(r.dataYaml)]: { rows: r.rows, splits: r.splits } }, summary: `YOLO segmentation: ${r.images} images, ${r.rows} label rows, splits ${r.splits.join("/")}; ${final(r.dataYaml)}` };
    }
    case "reasonseg": {
      const r = await exportReasonSeg(source, stage, { name: options.name });
      return { images: r.samples, files: { [final(r.root)]: { samples: r.samples, explanatory: r.explanatory } }, summary: `ReasonSeg (LISA): ${r.samples} samples under ${final(r.root)}, ${r.explanatory} explanatory entries` };
    }
    case "labelme": {
      const r = await exportLabelMe(source, stage);
      return { images: r.files, files: { [out]: { files: r.files, shapes: r.shapes } }, summary: `LabelMe: ${r.files} files, ${r.shapes} polygons in ${out}` };
    }
    case "gear-seg": {
      const r = await exportReferenceLayout(source, stage);
      return { images: r.files, files: { [out]: { files: r.files, items: r.items, splits: r.splits } }, summary: `GEAR-Seg reference layout: ${r.files} answer files, ${r.items} items, splits ${r.splits.join("/")} under ${out}` };
    }
  }
}
