/**
 * `classic`: class-agnostic region proposals without weights, the offline default segmenter.
 *
 * Felzenszwalb–Huttenlocher graph segmentation (IJCV 2004) of a smoothed CIELAB working copy at several
 * scales k, each followed by selective search's hierarchical grouping (Uijlings et al., IJCV 2013) that
 * records every merged region; then tiny and near-duplicate proposals are removed and the rest ranked by
 * boundary contrast, compactness and cross-scale stability (see select.ts). The result is nested,
 * overlapping proposals (parts and wholes), as SAM 2's everything mode gives.
 */
import type { RgbImage } from "../../image/types.js";
import type { BackendFactory, Region, Segmenter, StageContext } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";
import { runEnds, sharedPixels } from "../../masks/cover.js";
import { area as rleArea } from "../../masks/rle.js";
import type { BBox, Rle } from "../../masks/types.js";
import { buildAtoms, ScaleAtoms } from "./atoms.js";
import { MaskEncoder } from "./encode.js";
import { atomColours, fullResolutionAtoms } from "./refine.js";
import { pixelBins } from "./features.js";
import { buildGridGraph, Felzenszwalb } from "./felzenszwalb.js";
import { buildHierarchy, segmentBase, type Hierarchy } from "./hierarchy.js";
import { objectRegions } from "./object-regions.js";
import { parseClassicOptions, type ClassicOptions, type ClassicOptionsInput } from "./options.js";
import { selectProposals } from "./select.js";
import { makeWorkingImage, smoothPlanes } from "./working-image.js";

export { parseClassicOptions, defaultClassicOptions, classicOptions, type ClassicOptions } from "./options.js";

/**
 * Grouping strategies run on every scale: weights of the colour, texture, size and fill similarities.
 * Selective search diversifies the same way (its CTSF and colour-led combinations); the colour-led one
 * finds objects whose parts differ in texture but share a colour (fruit, painted bodywork).
 */
const STRATEGIES: readonly (readonly [number, number, number, number])[] = [
  [1, 1, 1, 1],
  [2, 0, 1, 1],
];

/** 2: boundaries refined at full resolution. */
const ALGORITHM_VERSION = 2;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function validateImage(image: RgbImage): void {
  const { width, height, data } = image;
  const name = image.source ?? "image";
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new GearSegError(`${name}: invalid size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new GearSegError(`${name}: expected ${width * height * 3} RGB bytes, got ${data.length}`);
  }
}

/** Run the classic segmenter on one image (the segmenter's `segment`, usable without the factory). */
export async function classicProposals(image: RgbImage, opts: ClassicOptions, ctx: StageContext = {}): Promise<Region[]> {
  validateImage(image);
  const signal = ctx.signal;
  const checkAbort = () => {
    if (signal?.aborted) {
      throw new GearSegError(`classic segmenter: aborted${image.source ? ` (${image.source})` : ""}`, { cause: signal.reason });
    }
  };
  const total = 3 + opts.scales.length;
  let done = 0;
  const step = async () => {
    ctx.onProgress?.(++done, total);
    await yieldToEventLoop();
    checkAbort();
  };
  checkAbort();

  const work = makeWorkingImage(image, opts.maxSide);
  const { width: w, height: h } = work;
  const n = w * h;
  const lab = smoothPlanes(work.lab, w, h, opts.sigma);
  const graph = buildGridGraph(lab, w, h);
  const bins = pixelBins(lab, w, h);
  await step();

  const labels: Int32Array[] = [];
  const counts: number[] = [];
  const hierarchies: Hierarchy[] = [];
  const hierarchyScale: number[] = [];
  const fh = new Felzenszwalb(graph);
  for (const k of opts.scales) {
    const seg = fh.segment(k, opts.minSize);
    labels.push(seg.labels);
    counts.push(seg.count);
    const base = segmentBase(graph, seg.labels, seg.count, bins);
    for (const weights of STRATEGIES) {
      hierarchies.push(buildHierarchy(base, checkAbort, weights));
      hierarchyScale.push(labels.length - 1);
    }
    await step();
  }

  const atoms = buildAtoms(labels, counts);
  const scaleAtoms = hierarchies.map((hier, i) => new ScaleAtoms(hier, atoms, atoms.segmentOf[hierarchyScale[i]!]!));
  const chosen = selectProposals(hierarchies, scaleAtoms, atoms, n, {
    minArea: Math.max(1, opts.minAreaFraction * n),
    maxRegions: opts.maxRegions,
    duplicateIou: opts.duplicateIou,
  }, checkAbort);
  await step();

  const runs = fullResolutionAtoms(image, work, atoms.label, atomColours(work.linear, atoms.label, atoms.count));
  const encoder = new MaskEncoder(runs, atoms.count, w, work.colMap);
  const minFullArea = opts.minAreaFraction * image.width * image.height;
  const regions: Region[] = [];
  const kept: KeptRuns[] = [];
  for (const c of chosen) {
    const { rle, area, bbox } = encoder.encode(c.atoms, c.box);
    if (area === 0 || area < minFullArea) continue;
    // Refined boundaries can bring two proposals that were apart at the working size above the duplicate IoU.
    if (duplicatesKept(rle, area, bbox, regions, kept, opts.duplicateIou)) continue;
    kept.push({ runArea: rleArea(rle) });
    regions.push({
      id: regions.length,
      rle,
      bbox,
      area,
      predictedIou: Math.round(c.score * 1e4) / 1e4,
      stabilityScore: Math.round(c.stability * 1e4) / 1e4,
    });
  }
  await step();
  return regions;
}

/** What `duplicatesKept` keeps of a region: its foreground size counted on its runs, and their ends once needed. */
interface KeptRuns {
  runArea: number;
  ends?: Float64Array;
}

/**
 * True when an already kept region has mask IoU above `t` with this one (only areas within a ratio t can).
 * The IoU is the number `iou` of src/masks gives, I / (|A| + |B| − I), from the exact intersection.
 */
function duplicatesKept(rle: Rle, area: number, bbox: BBox, kept: readonly Region[], runs: KeptRuns[], t: number): boolean {
  let runArea = -1;
  for (let k = 0; k < kept.length; k++) {
    const r = kept[k]!;
    const big = Math.max(area, r.area);
    const small = Math.min(area, r.area);
    if (small < t * big) continue;
    const ix = Math.min(bbox[0] + bbox[2], r.bbox[0] + r.bbox[2]) - Math.max(bbox[0], r.bbox[0]);
    const iy = Math.min(bbox[1] + bbox[3], r.bbox[1] + r.bbox[3]) - Math.max(bbox[1], r.bbox[1]);
    if (ix <= 0 || iy <= 0 || ix * iy <= t * big) continue;
    const inter = sharedPixels(rle.counts, (runs[k]!.ends ??= runEnds(r.rle.counts)));
    if (inter === 0) continue;
    if (runArea < 0) runArea = rleArea(rle);
    if (inter / (runArea + runs[k]!.runArea - inter) > t) return true;
  }
  return false;
}

/** With a detector, each detected object's pieces are also proposed as one region (./object-regions.ts). */
export const createClassicSegmenter: BackendFactory<Segmenter, ClassicOptionsInput> = async (arg, options, { spec, label, detector }) => {
  const opts = parseClassicOptions(arg, options, label);
  // The options every proposal depends on; the spec alone would miss those given as an options object. The
  // version changes when the algorithm does, so that cached proposals of an older one are not reused.
  const fingerprint = `${spec}#v${ALGORITHM_VERSION}#${JSON.stringify(opts)}`;
  if (!detector) return { spec, fingerprint, segment: (image: RgbImage, ctx?: StageContext) => classicProposals(image, opts, ctx) };
  return {
    spec,
    fingerprint: `${fingerprint};objects=${detector.fingerprint ?? detector.spec}`,
    async segment(image: RgbImage, ctx?: StageContext) {
      const [regions, detections] = await Promise.all([classicProposals(image, opts, ctx), detector.detect(image, { signal: ctx?.signal })]);
      return [...regions, ...objectRegions(regions, detections, image.width, image.height)];
    },
  };
};
