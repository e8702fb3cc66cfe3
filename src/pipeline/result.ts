/**
 * The files a segmentation run produces: `result.json` (our schema, snake_case), and, for comparison one to one
 * with the GEAR-Seg reference, its answer and descriptions files.
 */
import { area as rleArea, toBbox, toCocoRle } from "../masks/index.js";
import type { BBox, CocoRle } from "../masks/types.js";
import type { PreparedImage, SegmentationResult } from "./agent.js";
import type { Region } from "./types.js";

export const RESULT_SCHEMA_VERSION = 1;

export interface RegionJson {
  id: number;
  bbox: BBox;
  area: number;
  predicted_iou?: number;
  stability_score?: number;
  point_coords?: [number, number][];
  crop_box?: BBox;
  description: string;
  segmentation: CocoRle;
}

export interface PreparedJson {
  schema: number;
  image: string;
  width: number;
  height: number;
  scene: string;
  regions: RegionJson[];
  duplicates_dropped: number;
  cap_dropped: number;
  backends: { segmenter: string; describer: string | null };
  cache: PreparedImage["cache"];
  timings: Record<string, number>;
}

export interface ResultJson extends Omit<PreparedJson, "backends" | "timings"> {
  query: string;
  mode: string;
  mask_ids: number[];
  explanation: string;
  confidence?: number;
  mask: CocoRle;
  mask_area: number;
  mask_bbox: BBox;
  dropped_ids: number[];
  warnings: string[];
  backends: { segmenter: string; describer: string | null; reasoner: string; model?: string };
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  timings: Record<string, number>;
}

const ms = (v: number) => Math.round(v * 10) / 10;

/** `decodeMs` → `decode_ms`: the library's names in the files' documented snake_case. */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** One region as result.json and regions.json write it. */
export function regionToJson(r: Region, description: string): RegionJson {
  return {
    id: r.id,
    bbox: r.bbox,
    area: r.area,
    ...(r.predictedIou !== undefined && { predicted_iou: r.predictedIou }),
    ...(r.stabilityScore !== undefined && { stability_score: r.stabilityScore }),
    ...(r.pointCoords !== undefined && { point_coords: r.pointCoords }),
    ...(r.cropBox !== undefined && { crop_box: r.cropBox }),
    description,
    segmentation: toCocoRle(r.rle),
  };
}

export function preparedToJson(p: PreparedImage): PreparedJson {
  const timings: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.timings)) timings[snakeCase(k)] = ms(v);
  return {
    schema: RESULT_SCHEMA_VERSION,
    image: p.source,
    width: p.width,
    height: p.height,
    scene: p.scene,
    regions: p.regions.map((r, i) => regionToJson(r, p.descriptions[i] ?? "")),
    duplicates_dropped: p.duplicatesDropped,
    cap_dropped: p.capDropped,
    backends: p.backends,
    cache: p.cache,
    timings,
  };
}

export function resultToJson(r: SegmentationResult): ResultJson {
  const prepared = preparedToJson(r.prepared);
  const timings: Record<string, number> = { ...prepared.timings, reason_ms: ms(r.reasonMs) };
  timings.total_ms = ms(Object.values(timings).reduce((a, b) => a + b, 0));
  const { regions, scene, ...head } = prepared;
  return {
    ...head,
    query: r.query,
    mode: r.mode,
    mask_ids: r.maskIds,
    explanation: r.explanation,
    ...(r.confidence !== undefined && { confidence: r.confidence }),
    mask: toCocoRle(r.mask),
    mask_area: rleArea(r.mask),
    mask_bbox: toBbox(r.mask),
    dropped_ids: r.droppedIds,
    warnings: r.warnings,
    scene,
    regions,
    backends: { ...prepared.backends, reasoner: r.reasoner, ...(r.model !== undefined && { model: r.model }) },
    ...(r.usage && {
      usage: {
        prompt_tokens: r.usage.promptTokens,
        completion_tokens: r.usage.completionTokens,
        total_tokens: r.usage.totalTokens,
      },
    }),
    timings,
  };
}

/** The reference's answer file (`answers/json/<name>.json`). */
export function toReferenceAnswer(r: SegmentationResult, imageName: string) {
  return {
    text: [r.query],
    image_name: imageName,
    answer_mask_id: r.maskIds.map(String),
    explanation: r.explanation,
    shapes: [{ label: "target", labels: ["target"], shape_type: "mask", counts: toCocoRle(r.mask).counts }],
  };
}

/** The reference's descriptions file (`dam/descriptions/<name>.json`). */
export function toReferenceDescriptions(p: PreparedImage): Record<string, { des: string }> {
  const out: Record<string, { des: string }> = { whole: { des: p.scene } };
  p.regions.forEach((r, i) => (out[String(r.id)] = { des: p.descriptions[i] ?? "" }));
  return out;
}
