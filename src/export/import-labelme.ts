/**
 * Reading LabelMe files corrected by people back into a dataset (the other half of export/labelme.ts). Per
 * image: each `group_id` is one annotation (its index in the image when exported); its polygons are
 * rasterised as LabelMe does (outline and fill, here with our port of OpenCV's polylines + fillPoly, which
 * gives back exported masks exactly) and united; the label sets the category. A group with no shapes left
 * deletes its annotation. A group whose shapes are exactly those exported (same fingerprint) is not edited and
 * keeps its mask bit for bit. New shapes (no or an unknown group_id) become new instances in an instances
 * dataset; a reasoning dataset has no questions for them, so they are reported and skipped. Groups map to
 * items through the file's `gear_seg.annotation_ids`, so items a reviewer rejected (not exported) stay as they
 * are. Records are rewritten durably; the caller rewrites the summary files.
 */
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { fillPoly, polylines, truncatePoints } from "../datasets/raster.js";
import { readManifest, readRecordFile, recordPath, REASONING_TYPES, type ImageRecord, type ReasoningType } from "../datasets/gear-seg.js";
import { area, encode, toBbox, toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { writeJsonDurable } from "../util/durable.js";
import { GearSegError } from "../util/errors.js";
import { isRecord, readJsonFile } from "../util/json.js";
import { groupFingerprint } from "./labelme.js";

export interface ImportSummary {
  files: number;
  images: number;
  changed: number;
  deleted: number;
  added: number;
  warnings: string[];
}

interface Group {
  label: string;
  polygons: [number, number][][];
  /** The shapes as they are in the file (for the fingerprint). */
  raw: { label: string; points: number[][] }[];
}

interface ParsedLabelMe {
  groups: Map<number, Group>;
  loose: Group[];
  height: number;
  width: number;
  imageId?: string;
  annotationIds?: string[];
  fingerprints?: Record<string, string>;
}

function readShapes(json: unknown, file: string, warnings: string[]): ParsedLabelMe {
  if (!isRecord(json) || !Array.isArray(json.shapes)) throw new GearSegError(`LabelMe file "${file}": no "shapes" list`);
  const height = json.imageHeight;
  const width = json.imageWidth;
  if (!Number.isInteger(height) || !Number.isInteger(width)) throw new GearSegError(`LabelMe file "${file}": imageHeight and imageWidth must be integers`);
  const groups = new Map<number, Group>();
  const loose: Group[] = [];
  json.shapes.forEach((s, i) => {
    if (!isRecord(s) || typeof s.label !== "string" || !Array.isArray(s.points)) throw new GearSegError(`LabelMe file "${file}": shapes[${i}] needs a label and points`);
    const type = s.shape_type ?? "polygon";
    let points = s.points.map((p, j) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "number" || typeof p[1] !== "number") {
        throw new GearSegError(`LabelMe file "${file}": shapes[${i}].points[${j}] is not [x, y]`);
      }
      return [p[0], p[1]] as [number, number];
    });
    if (type === "rectangle" && points.length === 2) {
      const [[x0, y0], [x1, y1]] = points as [[number, number], [number, number]];
      points = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    } else if (type !== "polygon") {
      warnings.push(`${basename(file)}: shapes[${i}] is a ${String(type)}; only polygons and rectangles are read`);
      return;
    }
    if (points.length < 3) {
      warnings.push(`${basename(file)}: shapes[${i}] has fewer than three points; skipped`);
      return;
    }
    const gid = s.group_id;
    const raw = { label: s.label, points: s.points as number[][] };
    if (Number.isInteger(gid)) {
      const g = groups.get(gid as number) ?? { label: s.label, polygons: [], raw: [] };
      g.polygons.push(points);
      g.raw.push(raw);
      groups.set(gid as number, g);
    } else {
      loose.push({ label: s.label, polygons: [points], raw: [raw] });
    }
  });
  const meta = isRecord(json.gear_seg) ? json.gear_seg : {};
  return {
    groups,
    loose,
    height: height as number,
    width: width as number,
    imageId: typeof meta.image_id === "string" ? meta.image_id : undefined,
    annotationIds: Array.isArray(meta.annotation_ids) ? meta.annotation_ids.filter((x): x is string => typeof x === "string") : undefined,
    fingerprints: isRecord(meta.groups) ? (meta.groups as Record<string, string>) : undefined,
  };
}

/** LabelMe's shape_to_mask (outline and fill) for every polygon of a group, united. */
export function rasterizeGroup(group: Group, height: number, width: number): Rle {
  const img = { width, height, data: new Uint8Array(width * height) };
  for (const poly of group.polygons) {
    const pts = truncatePoints(poly.map(([x, y]) => [Math.round(x), Math.round(y)]));
    polylines(img, pts, true, 1);
    fillPoly(img, pts, 1);
  }
  return encode({ height, width, data: img.data });
}

export async function importLabelMe(labelmeDir: string, datasetDir: string): Promise<ImportSummary> {
  await readManifest(datasetDir);
  const names = (await readdir(labelmeDir).catch(() => {
    throw new GearSegError(`LabelMe folder "${labelmeDir}" cannot be read`);
  })).filter((n) => n.toLowerCase().endsWith(".json") && !n.startsWith(".")).sort();
  const summary: ImportSummary = { files: names.length, images: 0, changed: 0, deleted: 0, added: 0, warnings: [] };
  for (const name of names) {
    const file = join(labelmeDir, name);
    const parsed = readShapes(await readJsonFile(file, "LabelMe file"), file, summary.warnings);
    const imageId = parsed.imageId ?? basename(name, ".json");
    const { record } = await readRecordFile(recordPath(datasetDir, imageId));
    if (!record) {
      summary.warnings.push(`${name}: no image "${imageId}" in the dataset; skipped`);
      continue;
    }
    if (parsed.height !== record.height || parsed.width !== record.width) {
      throw new GearSegError(`LabelMe file "${file}" is ${parsed.width}×${parsed.height}, the dataset's image is ${record.width}×${record.height}`);
    }
    const before = { changed: summary.changed, deleted: summary.deleted, added: summary.added };
    const updated = applyGroups(record, parsed, summary, name);
    if (summary.changed === before.changed && summary.deleted === before.deleted && summary.added === before.added) continue;
    updated.notes = [...record.notes, `reviewed in LabelMe (${name}) ${new Date().toISOString()}`];
    await writeJsonDurable(recordPath(datasetDir, imageId), updated);
    summary.images++;
  }
  return summary;
}

/** The group of each exported annotation id, and whether a person changed it. */
function groupsById(record: ImageRecord, parsed: ParsedLabelMe): { ids: string[]; group(k: number): Group | undefined; unchanged(k: number): boolean } {
  const all = record.kind === "reasoning" ? record.items : record.instances;
  const ids = parsed.annotationIds ?? all.map((a) => a.id);
  return {
    ids,
    group: (k) => parsed.groups.get(k),
    unchanged: (k) => {
      const fp = parsed.fingerprints?.[String(k)];
      return fp !== undefined && fp === groupFingerprint(parsed.groups.get(k)?.raw ?? []);
    },
  };
}

function applyGroups(record: ImageRecord, parsed: ParsedLabelMe, summary: ImportSummary, name: string): ImageRecord {
  const { height, width } = record;
  const geometry = (rle: Rle) => ({ mask: toCocoRle(rle), area: area(rle), bbox: toBbox(rle) });
  const map = groupsById(record, parsed);
  const position = new Map(map.ids.map((id, k) => [id, k]));
  const newGroups = [...parsed.groups.entries()].filter(([k]) => k >= map.ids.length).map(([, g]) => g);
  if (record.kind === "reasoning") {
    const items = record.items.flatMap((item) => {
      const k = position.get(item.id);
      if (k === undefined || map.unchanged(k)) return [item]; // not exported (rejected) or not edited
      const g = map.group(k);
      if (!g) {
        summary.deleted++;
        return [];
      }
      const rle = rasterizeGroup(g, height, width);
      const type = (REASONING_TYPES as readonly string[]).includes(g.label) ? (g.label as ReasoningType) : item.reasoning_type;
      if (g.label !== item.reasoning_type && type === item.reasoning_type) summary.warnings.push(`${name}: group ${k}: "${g.label}" is not a reasoning type; kept ${item.reasoning_type}`);
      const next = { ...item, ...geometry(rle), reasoning_type: type };
      if (next.mask.counts !== item.mask.counts || type !== item.reasoning_type) summary.changed++;
      return [next];
    });
    const extra = newGroups.length + parsed.loose.length;
    if (extra) summary.warnings.push(`${name}: ${extra} new shape group(s) have no questions; a reasoning dataset cannot take them`);
    return { ...record, items };
  }
  const instances = record.instances.flatMap((inst) => {
    const k = position.get(inst.id);
    if (k === undefined || map.unchanged(k)) return [inst];
    const g = map.group(k);
    if (!g) {
      summary.deleted++;
      return [];
    }
    const next = { ...inst, ...geometry(rasterizeGroup(g, height, width)), category: g.label };
    if (next.mask.counts !== inst.mask.counts || next.category !== inst.category) summary.changed++;
    return [next];
  });
  const taken = new Set(record.instances.map((i) => i.id));
  let n = 0;
  for (const g of [...newGroups, ...parsed.loose]) {
    while (taken.has(`${record.image_id}#added${n}`)) n++;
    const id = `${record.image_id}#added${n++}`;
    instances.push({ id, category: g.label, region_id: -1, note: "added in LabelMe", ...geometry(rasterizeGroup(g, height, width)) });
    summary.added++;
  }
  return { ...record, instances };
}
