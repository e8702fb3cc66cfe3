import { runEnds, sharedPixels } from "../masks/cover.js";
import type { Region } from "./types.js";

/**
 * GEAR-Seg's duplicate rule: two masks are duplicates when each covers more than `overlap` of its own area
 * with the other; of the two, the one with the lower stability score goes (ties: the later one goes). Greedy
 * in order of decreasing stability, so a mask is compared only with masks already kept.
 *
 * Since I ≤ min(a, b), both ratios can exceed `overlap` only when min(a, b) > overlap · max(a, b) and the
 * boxes overlap; those cheap tests skip nearly every pair before any RLE work.
 */
export function dropNearDuplicates(regions: readonly Region[], overlap: number): Region[] {
  // `ends` (a kept mask's run ends, made when first needed) is there from the start: added later, it changed
  // the objects' shape under the optimised loop, which was then thrown away.
  const order = regions
    .map((r, i) => ({ r, i, s: r.stabilityScore ?? r.predictedIou ?? 0, ends: undefined as Float64Array | undefined }))
    .sort((a, b) => b.s - a.s || a.i - b.i);
  const kept: { r: Region; i: number; ends: Float64Array | undefined }[] = [];
  for (const cand of order) {
    const a = cand.r;
    let duplicate = false;
    for (const k of kept) {
      const b = k.r;
      const lo = Math.min(a.area, b.area);
      const hi = Math.max(a.area, b.area);
      if (lo <= overlap * hi || !boxesOverlap(a, b)) continue;
      const inter = sharedPixels(a.rle.counts, (k.ends ??= runEnds(b.rle.counts)));
      if (inter > overlap * a.area && inter > overlap * b.area) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) kept.push(cand);
  }
  // Back to the segmenter's order, so that later stable sorts are deterministic.
  return kept.sort((x, y) => x.i - y.i).map((k) => k.r);
}

function boxesOverlap(a: Region, b: Region): boolean {
  const [ax, ay, aw, ah] = a.bbox;
  const [bx, by, bw, bh] = b.bbox;
  return ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah;
}
