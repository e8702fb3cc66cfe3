/**
 * The mask of a detected object, estimated from class-agnostic region proposals: a segmenter without a notion
 * of objects splits one into the parts its colours and edges separate (a car's body, windscreen, chrome,
 * tyres), while a detector says where the whole object is. The union of the proposals lying almost entirely
 * inside the object's box is the object; background crossing the box's edges stays out, because it reaches
 * beyond the box.
 *
 * A shared leaf: the classic segmenter proposes these masks as regions, the attributes describer names the
 * regions that match them. Areas are counted on runs (src/masks), never on decoded masks.
 */
import { area, merge } from "../masks/index.js";
import { pixelRect } from "../masks/bbox.js";
import { areasInRects } from "../masks/runs.js";
import type { Rle } from "../masks/types.js";
import type { Detection, Region } from "../pipeline/types.js";

export interface ObjectMaskRules {
  /** A proposal is a piece of the object when this share of it lies inside the box grown by `grow`. */
  inside: number;
  /** A detector's box is tight: pieces may cross it by this share of its width (height) on each side. */
  grow: number;
  /** The union must cover at least this share of the box to stand for the object. */
  minFill: number;
}

export const DEFAULT_OBJECT_MASK_RULES: Readonly<ObjectMaskRules> = Object.freeze({ inside: 0.95, grow: 0.03, minFill: 0.3 });

export interface ObjectMask {
  detection: Detection;
  /** The union of the pieces; null when the pieces cover too little of the box. */
  rle: Rle | null;
  area: number;
  /** How many proposals the union is made of. */
  pieces: number;
}

/** One estimate per detection, in the detections' order. */
export function objectMasks(
  regions: readonly Region[],
  detections: readonly Detection[],
  width: number,
  height: number,
  rules: ObjectMaskRules = DEFAULT_OBJECT_MASK_RULES,
): ObjectMask[] {
  const rects = detections.map(({ bbox: [x, y, w, h] }) => pixelRect([x - rules.grow * w, y - rules.grow * h, w * (1 + 2 * rules.grow), h * (1 + 2 * rules.grow)], width, height));
  const members: Rle[][] = detections.map(() => []);
  if (detections.length > 0) {
    for (const r of regions) {
      if (r.area <= 0) continue;
      const inBoxes = areasInRects(r.rle, rects);
      for (let k = 0; k < detections.length; k++) if (inBoxes[k]! >= rules.inside * r.area) members[k]!.push(r.rle);
    }
  }
  return detections.map((detection, k) => {
    const pieces = members[k]!;
    if (pieces.length === 0) return { detection, rle: null, area: 0, pieces: 0 };
    const rle = pieces.length === 1 ? pieces[0]! : merge(pieces);
    const a = area(rle);
    const enough = a >= rules.minFill * Math.max(1, detection.bbox[2] * detection.bbox[3]);
    return { detection, rle: enough ? rle : null, area: enough ? a : 0, pieces: pieces.length };
  });
}
