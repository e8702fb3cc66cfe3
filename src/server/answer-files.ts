/**
 * The files a user downloads for one answer: result.json (as `gear-seg segment` writes it), mask.png,
 * overlay.png, and the corrected answer as a LabelMe file or as COCO instances, so a correction made in the
 * browser can be opened in LabelMe or added to a COCO training set.
 */
import { renderMaskPng, renderOverlay } from "../image/index.js";
import type { RgbImage } from "../image/types.js";
import { area as rleArea, toBbox, toCocoRle } from "../masks/index.js";
import type { SegmentationResult } from "../pipeline/agent.js";
import type { QueryMode } from "../pipeline/types.js";
import { answerCaption } from "../pipeline/outputs.js";
import { resultToJson, type ResultJson } from "../pipeline/result.js";
import { LABELME_VERSION, type LabelMeFile } from "../export/labelme.js";
import { centrePolygons, toPointPairs } from "../export/polygons.js";
import type { Answer } from "./workspace.js";

/** The ask reply: result.json plus the answer's id (and without the regions when the client has them). */
export function answerJson(answer: Answer, withRegions = true): ResultJson & { answer_id: string; corrected: boolean; mode: QueryMode } {
  const json = resultToJson(answer.result);
  if (!withRegions) delete (json as Partial<ResultJson>).regions;
  return { answer_id: answer.id, corrected: answer.corrected, ...json, mode: answer.result.mode };
}

export function maskPng(r: SegmentationResult): Promise<Buffer> {
  return renderMaskPng(r.mask);
}

export function overlayPng(r: SegmentationResult, image: RgbImage): Promise<Buffer> {
  const byId = new Map(r.prepared.regions.map((x) => [x.id, x]));
  const chosen = r.maskIds.map((id) => byId.get(id)!);
  return renderOverlay(image, chosen, { ...answerCaption(r), union: r.mask });
}

/** LabelMe: one polygon per outer contour of the union, labelled "target", the query as its description. */
export function labelMeJson(r: SegmentationResult, imageName: string): LabelMeFile {
  return {
    version: LABELME_VERSION,
    flags: {},
    shapes: centrePolygons(r.mask)
      .filter((p) => p.outer.length >= 6)
      .map((p) => ({
        label: "target",
        points: toPointPairs(p.outer),
        group_id: 0,
        description: r.query,
        shape_type: "polygon" as const,
        flags: {},
        mask: null,
      })),
    imagePath: imageName,
    imageData: null,
    imageHeight: r.prepared.height,
    imageWidth: r.prepared.width,
  };
}

/** COCO instances with one image and one annotation: the union as RLE, with the query and the chosen ids. */
export function cocoJson(r: SegmentationResult, imageName: string) {
  return {
    info: { description: "gear-seg answer", query: r.query, mode: r.mode },
    images: [{ id: 1, file_name: imageName, width: r.prepared.width, height: r.prepared.height }],
    categories: [{ id: 1, name: "target", supercategory: "reasoning" }],
    annotations: [
      {
        id: 1,
        image_id: 1,
        category_id: 1,
        segmentation: toCocoRle(r.mask),
        area: rleArea(r.mask),
        bbox: toBbox(r.mask),
        iscrowd: 0,
        query: r.query,
        explanation: r.explanation,
        region_ids: r.maskIds,
      },
    ],
  };
}
