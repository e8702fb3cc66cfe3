/**
 * What a closed-vocabulary detector's boxes say about each region: the region *is* an object (its mask matches
 * the object's estimated mask, ./object-masks.ts), is *part* of one (it lies within the object but covers
 * little of it: the sail of a boat), or has one *on* it (the region, not much smaller than the object, covers
 * little of it but surrounds the lower half of its box: the rug a dog lies on). Scores
 * below `confident` are hedged ("possibly a boat"). Only the detector's own class names are used, and where
 * boxes of different classes cover the same object only the best-scoring one speaks.
 *
 * A shared leaf for describers (src/describers/attributes names regions with it).
 */
import { runEnds, sharedPixels } from "../masks/cover.js";
import { pixelRect } from "../masks/bbox.js";
import { areasInRects } from "../masks/runs.js";
import type { BBox } from "../masks/types.js";
import type { Detection, Region } from "../pipeline/types.js";
import { objectMasks } from "./object-masks.js";

/** How a region relates to one detected object. */
export interface ObjectRelation {
  kind: "is" | "part" | "holds";
  label: string;
  score: number;
}

export interface RelationRules {
  /** The region that best matches the object's mask is the object, when their IoU reaches this. */
  sameMaskIou: number;
  /** Without an object mask (no pieces in the box): a region this much inside the box… */
  inside: number;
  /** …that covers this much of the box is the object; less, a part of it. */
  fill: number;
  /** A part lies this much within the object. */
  partInside: number;
  /** Parts smaller than this share of the object are not named. */
  minPart: number;
  /** An object is on a region at least this large (relative to its box)… */
  minSupport: number;
  /** …that covers this share of the band around the box's lower half, outside the box. */
  support: number;
  /** Scores below this are hedged with "possibly". */
  confident: number;
  /** Boxes of different classes overlapping by more than this IoU are one object: the best class names it. */
  sameObjectIou: number;
}

export const DEFAULT_RELATION_RULES: Readonly<RelationRules> = Object.freeze({
  sameMaskIou: 0.75,
  inside: 0.8,
  fill: 0.5,
  partInside: 0.8,
  minPart: 0.02,
  minSupport: 0.25,
  support: 0.3,
  confident: 0.5,
  sameObjectIou: 0.7,
});

export function boxIou(a: BBox, b: BBox): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

/** One object per place: of boxes of different classes that overlap heavily, the best-scoring one. */
export function distinctObjects(detections: readonly Detection[], sameObjectIou = DEFAULT_RELATION_RULES.sameObjectIou): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) if (!kept.some((k) => boxIou(k.bbox, d.bbox) > sameObjectIou)) kept.push(d);
  return kept;
}

type PixelRect = [number, number, number, number];
const rectArea = (r: PixelRect) => (r[2] - r[0]) * (r[3] - r[1]);

/** The lower half of a box, and the same grown by 15% of the box's size to the sides and below. */
function lowerBand(box: BBox, width: number, height: number): { inner: PixelRect; outer: PixelRect } {
  const mid = box[1] + box[3] / 2;
  const mx = 0.15 * box[2];
  const my = 0.15 * box[3];
  return {
    inner: pixelRect([box[0], mid, box[2], box[3] / 2], width, height),
    outer: pixelRect([box[0] - mx, mid, box[2] + 2 * mx, box[3] / 2 + my], width, height),
  };
}

const boxesOverlap = (a: BBox, b: BBox) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];

/**
 * For every region, its relations to the detected objects: what it is (at most one object, the best), then
 * what it is part of, then what lies on it; each best score first.
 */
export function relateObjects(
  regions: readonly Region[],
  detections: readonly Detection[],
  width: number,
  height: number,
  rules: RelationRules = DEFAULT_RELATION_RULES,
): ObjectRelation[][] {
  const objects = distinctObjects(detections, rules.sameObjectIou);
  if (objects.length === 0) return regions.map(() => []);
  const masks = objectMasks(regions, objects, width, height);
  // Shared pixels are counted on the runs (no intersection mask built per region and object).
  const maskEnds = masks.map((m) => (m.rle ? runEnds(m.rle.counts) : undefined));
  const rects: PixelRect[] = [];
  const bands = objects.map((d) => lowerBand(d.bbox, width, height));
  for (let k = 0; k < objects.length; k++) rects.push(pixelRect(objects[k]!.bbox, width, height), bands[k]!.inner, bands[k]!.outer);
  // First pass: how much of each object every region shares, and how well it matches it (IoU with the
  // object's mask, or with its box when there is no mask).
  const measured = regions.map((region) => {
    if (region.area <= 0) return null;
    const counted = areasInRects(region.rle, rects);
    const shared = objects.map((d, k) => {
      const mask = masks[k]!;
      if (!mask.rle) return counted[3 * k]!;
      return boxesOverlap(region.bbox, d.bbox) ? sharedPixels(region.rle.counts, maskEnds[k]!) : 0;
    });
    const match = objects.map((_, k) => {
      const other = masks[k]!.rle ? masks[k]!.area : Math.max(1, rectArea(rects[3 * k]!));
      return shared[k]! / (region.area + other - shared[k]!);
    });
    return { counted, shared, match };
  });
  // The region that is the object: the best match, when it matches well enough (several nested regions may
  // pass the bar; only the best names the object).
  const bestFor = objects.map((d, k) => {
    let best = -1;
    regions.forEach((region, i) => {
      const m = measured[i];
      if (!m) return;
      const ok = masks[k]!.rle
        ? m.match[k]! >= rules.sameMaskIou
        : m.counted[3 * k]! >= rules.inside * region.area && m.counted[3 * k]! >= rules.fill * Math.max(1, rectArea(rects[3 * k]!));
      if (ok && (best < 0 || m.match[k]! > measured[best]!.match[k]!)) best = i;
    });
    return best;
  });
  return regions.map((region, i) => {
    const m = measured[i];
    if (!m) return [];
    const is: ObjectRelation[] = [];
    const part: ObjectRelation[] = [];
    const holds: ObjectRelation[] = [];
    objects.forEach((d, k) => {
      const relation = (kind: ObjectRelation["kind"]): ObjectRelation => ({ kind, label: d.label, score: d.score });
      const inBox = m.counted[3 * k]!;
      const mask = masks[k]!;
      const shared = m.shared[k]!;
      const objectArea = mask.rle ? mask.area : Math.max(1, rectArea(rects[3 * k]!));
      const inside = shared >= (mask.rle ? rules.partInside : rules.inside) * region.area;
      if (bestFor[k] === i) is.push(relation("is"));
      else if (inside && region.area < objectArea && region.area >= rules.minPart * objectArea) part.push(relation("part"));
      else if (shared < 0.5 * objectArea && inBox < 0.5 * region.area && region.area >= rules.minSupport * d.bbox[2] * d.bbox[3]) {
        // On it: the region surrounds the lower half of the object's box (what it stands or lies on). The
        // object may reach beyond the picture, so only the band inside the image counts.
        const bandArea = rectArea(bands[k]!.outer) - rectArea(bands[k]!.inner);
        const inBand = m.counted[3 * k + 2]! - m.counted[3 * k + 1]!;
        if (bandArea > 0 && inBand >= rules.support * bandArea) holds.push(relation("holds"));
      }
    });
    return [...is.slice(0, 1), ...part, ...holds];
  });
}

/** "a car", "an apple", "possibly a boat" (the hedge below `confident`). */
export function objectName(label: string, score: number, confident = DEFAULT_RELATION_RULES.confident): string {
  return `${score < confident ? "possibly " : ""}${/^[aeiou]/.test(label) ? "an" : "a"} ${label}`;
}

const IRREGULAR_PLURALS: Record<string, string> = { mouse: "mice", sheep: "sheep", skis: "skis", knife: "knives" };

/** A class name in the plural ("persons", not "people": the word the detector has). */
export function pluralName(label: string): string {
  const irregular = IRREGULAR_PLURALS[label];
  if (irregular) return irregular;
  if (/(s|sh|ch|x)$/.test(label)) return `${label}es`;
  if (/[^aeiou]y$/.test(label)) return `${label.slice(0, -1)}ies`;
  return `${label}s`;
}

/** "a carrot", "2 carrots". */
export function countedName(label: string, count: number): string {
  return count === 1 ? objectName(label, 1) : `${count} ${pluralName(label)}`;
}
