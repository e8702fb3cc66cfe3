/**
 * Object-level proposals: with a detector, each detected object's pieces among the classic proposals are also
 * proposed as one region (src/detections/object-masks.ts), so "the car" can be answered with the whole car.
 */
import { toBbox } from "../../masks/index.js";
import { objectMasks } from "../../detections/object-masks.js";
import type { Detection, Region } from "../../pipeline/types.js";

/**
 * One region per detection whose pieces (two or more) cover enough of its box; `predictedIou` and
 * `stabilityScore` carry the detection's score. Ids continue after the given regions' (the agent renumbers).
 */
export function objectRegions(regions: readonly Region[], detections: readonly Detection[], width: number, height: number): Region[] {
  let id = regions.reduce((m, r) => Math.max(m, r.id), -1) + 1;
  const out: Region[] = [];
  for (const m of objectMasks(regions, detections, width, height)) {
    // A single piece is already a proposal of its own.
    if (!m.rle || m.pieces < 2) continue;
    const score = Math.round(m.detection.score * 1e4) / 1e4;
    out.push({ id: id++, rle: m.rle, bbox: toBbox(m.rle), area: m.area, predictedIou: score, stabilityScore: score });
  }
  return out;
}
