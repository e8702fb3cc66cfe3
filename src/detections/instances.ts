/**
 * Instances of a detector's classes among region proposals: for every detection of a wanted class, the region
 * that best matches the object (highest mask IoU with the object's mask estimated from the proposals,
 * ./object-masks.ts). With the classic segmenter's object regions among the proposals this is usually the
 * object region itself. A detection whose best region matches it poorly gives no instance: labels come from
 * masks that are the object, not from boxes.
 */
import { runEnds, sharedPixels } from "../masks/cover.js";
import type { Detection, Region } from "../pipeline/types.js";
import { objectMasks } from "./object-masks.js";
import { distinctObjects } from "./relations.js";

export interface ObjectInstance {
  region: Region;
  detection: Detection;
  /** IoU of the region with the object's estimated mask. */
  iou: number;
}

/**
 * One instance per detection whose class is in `classes` (best-scoring detections first; a region is used by
 * one instance at most; of boxes of different classes on one object only the best counts). `minIou`: the
 * region must match the object's mask at least this well.
 */
export function objectInstances(
  regions: readonly Region[],
  detections: readonly Detection[],
  width: number,
  height: number,
  classes: ReadonlySet<string>,
  minIou = 0.5,
): ObjectInstance[] {
  // Where boxes of different classes cover one object, the best class speaks for it (a pick-up the detector
  // calls a truck first and a car second is no car).
  const wanted = distinctObjects(detections).filter((d) => classes.has(d.label));
  const masks = objectMasks(regions, wanted, width, height);
  const used = new Set<number>();
  const out: ObjectInstance[] = [];
  wanted.forEach((detection, k) => {
    const mask = masks[k]!;
    if (!mask.rle) return;
    const maskEnds = runEnds(mask.rle.counts);
    let best: ObjectInstance | undefined;
    for (const region of regions) {
      if (used.has(region.id) || region.area <= 0) continue;
      const shared = sharedPixels(region.rle.counts, maskEnds);
      if (shared === 0) continue;
      const iou = shared / (region.area + mask.area - shared);
      if (!best || iou > best.iou) best = { region, detection, iou };
    }
    if (best && best.iou >= minIou) {
      used.add(best.region.id);
      out.push(best);
    }
  });
  return out;
}
