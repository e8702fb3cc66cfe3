/**
 * COCO detection / instance-segmentation evaluation, a port of pycocotools' COCOeval (cocodataset/cocoapi
 * `PythonAPI/pycocotools/cocoeval.py`: Params, _prepare, computeIoU, evaluateImg, accumulate, summarize) for
 * iouType "segm" and "bbox".
 *
 * Kept exactly, because each one changes digits:
 * - thresholds as numpy's linspace makes them (k · step + start, last = stop);
 * - crowd ground truth is ignored (`ignore = iscrowd`), IoU with a crowd region is I / area(dt), and a crowd
 *   region can match many detections; ground truth outside the area range is ignored too, and sorted after the
 *   rest (stable);
 * - detections sorted by score with a stable sort, cut to maxDets[-1] before IoU and to each maxDet when
 *   accumulating; matching threshold min(t, 1 − 1e−10); a detection matched to an ignored gt is ignored; an
 *   unmatched detection outside the area range is ignored; a gt whose id is 0 counts as "no match" where
 *   pycocotools tests the stored id;
 * - precision = tp / (tp + fp + eps) made monotone from the right, sampled at 101 recall points with
 *   searchsorted(side = left), points past the last recall left at 0; -1 where a category has no gt;
 * - the 12 summary numbers in pycocotools' order, each the mean over entries > −1 (−1 when none), summed the
 *   way numpy sums (pairwise), so they equal pycocotools' stats to the last bit, not just to rounding.
 * Speed (same numbers, different bookkeeping; see the stage functions below):
 * - evaluate: annotations grouped once into (category, image) cells; IoUs computed once per cell (our RLE `iou`,
 *   a range-limited run walk), reordered once per area range; matching on flat typed buffers, skipping a
 *   detection at a threshold above its best IoU (it cannot match there);
 * - each image's results are written straight into per-category tables in accumulate's order, so accumulate
 *   never concatenates: one stable sort by score per category serves every area range and every maxDet (the
 *   order for a smaller maxDet is the same order with the cut detections left out);
 * - accumulate: running counts per threshold, precision kept at true positives only (the same numbers, see
 *   cocoAccumulate), recall points by binary search (searchsorted side = left).
 */
import { bboxIou, iou as rleIou } from "../masks/index.js";
import type { BBox } from "../masks/types.js";
import { annotationRle, type CocoAnnotation, type CocoIndex } from "../datasets/coco.js";
import { UsageError } from "../util/errors.js";

export type IouType = "segm" | "bbox";

/** numpy.linspace(start, stop, num) as numpy computes it. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let k = 0; k < num; k++) out.push(k * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

export interface CocoEvalParams {
  iouType: IouType;
  imgIds: number[];
  catIds: number[];
  iouThrs: number[];
  recThrs: number[];
  maxDets: number[];
  areaRng: [number, number][];
  areaRngLbl: string[];
  useCats: boolean;
}

/** pycocotools' Params.setDetParams, with image and category ids from the ground truth (sorted). */
export function defaultParams(gt: CocoIndex, iouType: IouType = "segm"): CocoEvalParams {
  return {
    iouType,
    imgIds: [...gt.imageIds].sort((a, b) => a - b),
    catIds: gt.categories.map((c) => c.id).sort((a, b) => a - b),
    iouThrs: linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1),
    recThrs: linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1),
    maxDets: [1, 10, 100],
    areaRng: [
      [0, 1e5 ** 2],
      [0, 32 ** 2],
      [32 ** 2, 96 ** 2],
      [96 ** 2, 1e5 ** 2],
    ],
    areaRngLbl: ["all", "small", "medium", "large"],
    useCats: true,
  };
}

export interface CategoryAp {
  id: number;
  name: string;
  /** AP@[.5:.95], area all, maxDets 100; −1 without ground truth. */
  ap: number;
  ap50: number;
  ap75: number;
  /** AR@100, area all. */
  ar100: number;
}

export interface CocoEvalResult {
  params: CocoEvalParams;
  /** The 12 numbers of COCOeval.stats. */
  stats: number[];
  /** T × R × K × A × M, as eval['precision'] (row-major). */
  precision: Float64Array;
  /** T × K × A × M, as eval['recall']. */
  recall: Float64Array;
  perCategory: CategoryAp[];
}

export const STAT_NAMES = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"];

export interface EvaluateOptions {
  iouType?: IouType;
  /** Override parts of the defaults (e.g. maxDets, imgIds). */
  params?: Partial<Omit<CocoEvalParams, "iouType">>;
}

/** The parameters as pycocotools' evaluate() leaves them: unique sorted image (and category) ids, sorted maxDets. */
export function resolveCocoParams(gt: CocoIndex, options: EvaluateOptions = {}): CocoEvalParams {
  const iouType = options.iouType ?? "segm";
  if (iouType !== "segm" && iouType !== "bbox") throw new UsageError(`iou type must be "segm" or "bbox", got "${String(iouType)}"`);
  const p: CocoEvalParams = { ...defaultParams(gt, iouType), ...options.params, iouType };
  p.imgIds = [...new Set(p.imgIds)].sort((a, b) => a - b);
  if (p.useCats) p.catIds = [...new Set(p.catIds)].sort((a, b) => a - b);
  p.maxDets = [...p.maxDets].sort((a, b) => a - b);
  if (p.maxDets.length === 0) throw new UsageError("COCO evaluation parameters: maxDets is empty");
  return p;
}

/** Outcome of one detection at one IoU threshold in one area range, as accumulate counts it. */
const FP = 0;
const TP = 1;
const IGNORED = 2;

/**
 * evaluate()'s per-image results for one category (pycocotools' evalImgs[k, :, :]), stored the way accumulate
 * reads them. The detections are every image's first maxDets[-1] by score, concatenated image by image in
 * imgIds order and then ordered as np.argsort(-dtScores, kind="mergesort") orders them: by descending score,
 * ties in concatenation order.
 */
export interface CategoryEvaluation {
  /** Images with ground truth or detections of this category (evaluateImg returned a result). */
  images: number;
  /** Detections in the table. */
  n: number;
  /** Their scores, in accumulate's order. */
  scores: Float64Array;
  /** Each one's position in its image's score order: it takes part for maxDet m when rank < m. */
  rank: Int32Array;
  /** Ground truth not ignored, per area range (npig). */
  npig: Int32Array;
  /** A × T × n: per area range and IoU threshold, each detection's outcome (0 false positive, 1 true positive, 2 ignored). */
  outcome: Uint8Array;
}

export interface CocoEvaluation {
  params: CocoEvalParams;
  /** One per category of params.catIds (one in all when useCats is false). */
  categories: CategoryEvaluation[];
}

/** Annotations per (category slot, image slot), in the order pycocotools' _prepare and evaluateImg see them. */
function groupCells(index: CocoIndex, p: CocoEvalParams): (CocoAnnotation[] | undefined)[] {
  const I = p.imgIds.length;
  const cells: (CocoAnnotation[] | undefined)[] = [];
  if (p.useCats) {
    // getAnnIds(imgIds, catIds): images in imgIds order, file order inside, other categories left out.
    const slot = new Map<number, number>();
    p.catIds.forEach((c, k) => slot.set(c, k));
    cells.length = p.catIds.length * I;
    for (let i = 0; i < I; i++) {
      for (const a of index.byImage.get(p.imgIds[i]!) ?? []) {
        const k = slot.get(a.category_id);
        if (k === undefined) continue;
        (cells[k * I + i] ??= []).push(a);
      }
    }
    return cells;
  }
  // useCats = 0: evaluateImg concatenates _gts[img, c] for c in catIds, category by category.
  cells.length = I;
  for (let i = 0; i < I; i++) {
    const byCat = new Map<number, CocoAnnotation[]>();
    for (const a of index.byImage.get(p.imgIds[i]!) ?? []) {
      let l = byCat.get(a.category_id);
      if (!l) byCat.set(a.category_id, (l = []));
      l.push(a);
    }
    const all: CocoAnnotation[] = [];
    for (const c of p.catIds) for (const a of byCat.get(c) ?? []) all.push(a);
    if (all.length > 0) cells[i] = all;
  }
  return cells;
}

/** Detections by descending score, ties in list order (np.argsort(-scores, kind="mergesort")), cut to maxDet. */
function byScore(dets: readonly CocoAnnotation[], maxDet: number): CocoAnnotation[] {
  const idx = dets.map((_, i) => i);
  idx.sort((a, b) => dets[b]!.score! - dets[a]!.score! || a - b);
  const n = Math.min(idx.length, maxDet);
  const out: CocoAnnotation[] = new Array(n);
  for (let j = 0; j < n; j++) out[j] = dets[idx[j]!]!;
  return out;
}

/** One image's ground truth and detections (of one category) in typed buffers, reused from image to image. */
class ImageTables {
  cap = 0;
  G = 0;
  D = 0;
  gArea = new Float64Array(0);
  gCrowd = new Uint8Array(0);
  /** pycocotools stores the matched gt's id and tests it for non-zero. */
  gIdNonZero = new Uint8Array(0);
  dArea = new Float64Array(0);
  /** Each detection's place in its category's table. */
  dPos = new Int32Array(0);
  /** IoUs, D × G row-major, gt in file order; empty rows when there is no gt or no detection. */
  ious = new Float64Array(0);
  hasIou = false;
  /** Each detection's best IoU: at a threshold above it the detection cannot match. */
  rowMax = new Float64Array(0);
  // evaluateImg's view for one area range: gt reordered (not ignored first, stable)
  gOrder = new Int32Array(0);
  gIgnS = new Uint8Array(0);
  gCrowdS = new Uint8Array(0);
  gIdS = new Uint8Array(0);
  iouS = new Float64Array(0);
  dOut = new Uint8Array(0);
  gtm = new Uint8Array(0);

  reset(G: number, D: number): void {
    this.G = G;
    this.D = D;
    const n = Math.max(G, D);
    if (n > this.cap) {
      const cap = Math.max(n, this.cap * 2);
      this.cap = cap;
      this.gArea = new Float64Array(cap);
      this.gCrowd = new Uint8Array(cap);
      this.gIdNonZero = new Uint8Array(cap);
      this.dArea = new Float64Array(cap);
      this.dPos = new Int32Array(cap);
      this.rowMax = new Float64Array(cap);
      this.gOrder = new Int32Array(cap);
      this.gIgnS = new Uint8Array(cap);
      this.gCrowdS = new Uint8Array(cap);
      this.gIdS = new Uint8Array(cap);
      this.dOut = new Uint8Array(cap);
      this.gtm = new Uint8Array(cap);
    }
    if (G * D > this.ious.length) {
      const len = Math.max(G * D, this.ious.length * 2);
      this.ious = new Float64Array(len);
      this.iouS = new Float64Array(len);
    }
  }
}

/** computeIoU's matrix (rows of D × G) copied into the tables, with each row's maximum. */
function storeIous(img: ImageTables, rows: readonly Float64Array[]): void {
  const { G, D, ious, rowMax } = img;
  for (let di = 0; di < D; di++) {
    const row = rows[di]!;
    let mx = -Infinity;
    for (let gi = 0; gi < G; gi++) {
      const v = row[gi]!;
      ious[di * G + gi] = v;
      if (v > mx) mx = v;
      else if (v !== v) mx = Infinity; // NaN: leave the row to the literal loop
    }
    rowMax[di] = mx;
  }
}

/**
 * evaluateImg for one image, category and area range: writes each detection's outcome at every IoU threshold
 * into `outcome` (rows of n, starting at row `row0`), and returns the number of gt not ignored.
 */
function evaluateImage(img: ImageTables, thr: Float64Array, aLo: number, aHi: number, outcome: Uint8Array, row0: number, n: number): number {
  const { G, D, gArea, gCrowd, gIdNonZero, gOrder, gIgnS, gCrowdS, gIdS, dArea, dOut, dPos, rowMax, gtm, hasIou } = img;
  // gt: ignored (crowd, or area outside the range) sorted last, stable
  let s = 0;
  for (let gi = 0; gi < G; gi++) {
    const ar = gArea[gi]!;
    if (!(gCrowd[gi] || ar < aLo || ar > aHi)) gOrder[s++] = gi;
  }
  const notIgnored = s;
  for (let gi = 0; gi < G; gi++) {
    const ar = gArea[gi]!;
    if (gCrowd[gi] || ar < aLo || ar > aHi) gOrder[s++] = gi;
  }
  let reordered = false;
  for (let gi = 0; gi < G; gi++) {
    const o = gOrder[gi]!;
    if (o !== gi) reordered = true;
    gIgnS[gi] = gi < notIgnored ? 0 : 1;
    gCrowdS[gi] = gCrowd[o]!;
    gIdS[gi] = gIdNonZero[o]!;
  }
  // ious[:, gtind]; in place when the order is unchanged
  let iouS = img.ious;
  if (hasIou && reordered) {
    iouS = img.iouS;
    const ious = img.ious;
    for (let di = 0; di < D; di++) {
      const b = di * G;
      for (let gi = 0; gi < G; gi++) iouS[b + gi] = ious[b + gOrder[gi]!]!;
    }
  }
  for (let di = 0; di < D; di++) {
    const ar = dArea[di]!;
    dOut[di] = ar < aLo || ar > aHi ? 1 : 0;
  }
  const T = thr.length;
  for (let t = 0; t < T; t++) {
    const th = thr[t]!;
    const out = (row0 + t) * n;
    for (let gi = 0; gi < G; gi++) gtm[gi] = 0;
    for (let di = 0; di < D; di++) {
      let m = -1;
      if (hasIou && rowMax[di]! >= th) {
        let best = th;
        const b = di * G;
        for (let gi = 0; gi < G; gi++) {
          // already matched and not a crowd region: skip
          if (gtm[gi] === 1 && gCrowdS[gi] === 0) continue;
          // matched to a regular gt already and reached the ignored ones: stop
          if (m > -1 && gIgnS[m] === 0 && gIgnS[gi] === 1) break;
          const v = iouS[b + gi]!;
          if (v < best) continue;
          best = v;
          m = gi;
        }
      }
      let code: number;
      if (m === -1) code = dOut[di] ? IGNORED : FP;
      else {
        gtm[m] = 1;
        // dtIg = gtIg[m]; dtm = the gt's id, and a detection with dtm == 0 outside the range is ignored
        code = gIgnS[m] ? IGNORED : gIdS[m] ? TP : dOut[di] ? IGNORED : FP;
      }
      outcome[out + dPos[di]!] = code;
    }
  }
  return notIgnored;
}

/**
 * evaluate(): _prepare, computeIoU and evaluateImg for every category, area range and image, producing the
 * tables accumulate reads. IoUs come from our RLE `iou` (segm) or box IoU (bbox), once per (image, category).
 */
export function cocoEvaluate(gt: CocoIndex, dt: CocoIndex, p: CocoEvalParams): CocoEvaluation {
  const I = p.imgIds.length;
  const A = p.areaRng.length;
  const T = p.iouThrs.length;
  const K = p.useCats ? p.catIds.length : 1;
  const maxDetLast = p.maxDets[p.maxDets.length - 1]!;
  const gtCells = groupCells(gt, p);
  const dtCells = groupCells(dt, p);
  const thr = Float64Array.from(p.iouThrs, (t) => Math.min(t, 1 - 1e-10));
  const img = new ImageTables();
  const categories: CategoryEvaluation[] = [];
  for (let k = 0; k < K; k++) {
    // Pass 1: each image's detections in score order, cut to maxDets[-1] (computeIoU / evaluateImg), then
    // accumulate's order of their concatenation.
    const dets: (CocoAnnotation[] | undefined)[] = new Array(I);
    let images = 0;
    let n = 0;
    for (let i = 0; i < I; i++) {
      const d = dtCells[k * I + i];
      if (!gtCells[k * I + i] && !d) continue; // evaluateImg returns None
      images++;
      if (d) n += (dets[i] = byScore(d, maxDetLast)).length;
    }
    const catScores = new Float64Array(n);
    const catRank = new Int32Array(n);
    for (let i = 0, c = 0; i < I; i++) {
      const d = dets[i];
      if (!d) continue;
      for (let j = 0; j < d.length; j++, c++) {
        catScores[c] = d[j]!.score!;
        catRank[c] = j;
      }
    }
    const order = new Int32Array(n);
    for (let c = 0; c < n; c++) order[c] = c;
    order.sort((x, y) => catScores[y]! - catScores[x]! || x - y);
    const pos = new Int32Array(n); // place in the concatenation → place in accumulate's order
    const scores = new Float64Array(n);
    const rank = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const c = order[j]!;
      pos[c] = j;
      scores[j] = catScores[c]!;
      rank[j] = catRank[c]!;
    }
    const npig = new Int32Array(A);
    const outcome = new Uint8Array(A * T * n);

    // Pass 2: computeIoU once per image, evaluateImg per area range.
    for (let i = 0, c0 = 0; i < I; i++) {
      const gAll = gtCells[k * I + i] ?? [];
      const d = dets[i] ?? [];
      const G = gAll.length;
      const D = d.length;
      if (G === 0 && D === 0) continue;
      img.reset(G, D);
      for (let gi = 0; gi < G; gi++) {
        const o = gAll[gi]!;
        img.gArea[gi] = o.area;
        img.gCrowd[gi] = o.iscrowd ? 1 : 0;
        img.gIdNonZero[gi] = o.id !== 0 ? 1 : 0;
      }
      for (let di = 0; di < D; di++) {
        img.dArea[di] = d[di]!.area;
        img.dPos[di] = pos[c0 + di]!;
      }
      c0 += D;
      img.hasIou = G > 0 && D > 0;
      if (img.hasIou) {
        const crowd = gAll.map((o) => o.iscrowd);
        storeIous(
          img,
          p.iouType === "segm"
            ? rleIou(d.map((o) => annotationRle(o, dt)), gAll.map((o) => annotationRle(o, gt)), crowd)
            : bboxIou(d.map((o) => o.bbox as BBox), gAll.map((o) => o.bbox as BBox), crowd),
        );
      }
      for (let a = 0; a < A; a++) npig[a] += evaluateImage(img, thr, p.areaRng[a]![0], p.areaRng[a]![1], outcome, a * T, n);
    }
    categories.push({ images, n, scores, rank, npig, outcome });
  }
  return { params: p, categories };
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

/**
 * One (category, area range, maxDet, IoU threshold) of accumulate: writes the R sampled precisions at
 * `precision[at + r * stride]` and returns the recall.
 *
 * pycocotools keeps one rc/pr entry per detection. An ignored detection repeats the entry before it, and a
 * false positive lowers precision without raising recall, so the first entry with rc >= x is a true positive
 * (or the first entry, when x <= 0), and the running maximum from the right taken there only ever picks a true
 * positive's value: the same numbers come from the true positives alone.
 */
function accumulateOne(
  outcome: Uint8Array,
  base: number,
  n: number,
  rank: Int32Array,
  maxDet: number,
  cut: boolean,
  npig: number,
  recThrs: Float64Array,
  prTp: Float64Array,
  precision: Float64Array,
  at: number,
  stride: number,
): number {
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < n; j++) {
    if (cut && rank[j]! >= maxDet) continue;
    const o = outcome[base + j]!;
    if (o === TP) {
      tp++;
      prTp[tp - 1] = tp / (fp + tp + EPS);
    } else if (o === FP) fp++;
  }
  // precision made monotone from the right
  for (let e = tp - 1; e > 0; e--) if (prTp[e]! > prTp[e - 1]!) prTp[e - 1] = prTp[e]!;
  // searchsorted(rc, recThrs, side="left") over the true positives, whose rc is (e + 1) / npig; past the last
  // one, the remaining recall points stay 0
  const R = recThrs.length;
  let from = 0;
  for (let r = 0; r < R; r++) {
    const x = recThrs[r]!;
    let l = from;
    let h = tp;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if ((mid + 1) / npig < x) l = mid + 1;
      else h = mid;
    }
    from = l;
    precision[at + r * stride] = l < tp ? prTp[l]! : 0;
  }
  // rc[-1], or 0 without detections (tp / npig is 0 then too)
  return tp / npig;
}

/**
 * accumulate(): precision (T × R × K × A × M) and recall (T × K × A × M), −1 where a category has no
 * evaluated image or no ground truth that is not ignored.
 */
export function cocoAccumulate(ev: CocoEvaluation): { precision: Float64Array; recall: Float64Array } {
  const p = ev.params;
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const K = ev.categories.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const recThrs = Float64Array.from(p.recThrs);
  let nMax = 0;
  for (const cat of ev.categories) nMax = Math.max(nMax, cat.n);
  const prTp = new Float64Array(nMax);
  for (let k = 0; k < K; k++) {
    const cat = ev.categories[k]!;
    if (cat.images === 0) continue; // E is empty
    const { n, rank, outcome } = cat;
    let ranks = 0; // one past the largest rank: maxDets at or above it cut nothing
    for (let j = 0; j < n; j++) if (rank[j]! >= ranks) ranks = rank[j]! + 1;
    for (let a = 0; a < A; a++) {
      const npig = cat.npig[a]!;
      if (npig === 0) continue;
      for (let m = 0; m < M; m++) {
        const maxDet = p.maxDets[m]!;
        for (let t = 0; t < T; t++) {
          const at = (((t * R + 0) * K + k) * A + a) * M + m;
          recall[((t * K + k) * A + a) * M + m] = accumulateOne(outcome, (a * T + t) * n, n, rank, maxDet, maxDet < ranks, npig, recThrs, prTp, precision, at, K * A * M);
        }
      }
    }
  }
  return { precision, recall };
}

/** evaluate() + accumulate() + summarize(). */
export function evaluateCoco(gt: CocoIndex, dt: CocoIndex, options: EvaluateOptions = {}): CocoEvalResult {
  const p = resolveCocoParams(gt, options);
  const { precision, recall } = cocoAccumulate(cocoEvaluate(gt, dt, p));
  const stats = cocoSummarize(precision, recall, p);
  const K = p.useCats ? p.catIds.length : 1;
  const maxDetLast = p.maxDets[p.maxDets.length - 1]!;
  const names = new Map(gt.categories.map((c) => [c.id, c.name] as const));
  const perCategory: CategoryAp[] = p.useCats
    ? p.catIds.map((id, k) => ({
        id,
        name: names.get(id) ?? String(id),
        ap: meanPrecision(precision, p, K, { k, iou: null, area: "all", maxDets: maxDetLast }),
        ap50: meanPrecision(precision, p, K, { k, iou: 0.5, area: "all", maxDets: maxDetLast }),
        ap75: meanPrecision(precision, p, K, { k, iou: 0.75, area: "all", maxDets: maxDetLast }),
        ar100: meanRecall(recall, p, K, { k, iou: null, area: "all", maxDets: maxDetLast }),
      }))
    : [];
  return { params: p, stats, precision, recall, perCategory };
}

interface Select {
  k: number | null;
  iou: number | null;
  area: string;
  maxDets: number;
}

function pick(p: CocoEvalParams, sel: Select) {
  const a = p.areaRngLbl.indexOf(sel.area);
  const m = p.maxDets.indexOf(sel.maxDets);
  const ts = sel.iou === null ? p.iouThrs.map((_, i) => i) : p.iouThrs.flatMap((v, i) => (v === sel.iou ? [i] : []));
  return { a, m, ts };
}

/**
 * numpy's float64 sum as np.mean calls it on a contiguous array (pairwise summation, numpy
 * `loops_utils.h.src` pairwise_sum): under 8 values a plain loop; up to 128, eight running sums combined as
 * ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)) and then the remainder; above, split at half rounded down
 * to a multiple of 8. Summing in this order gives summarize's means to the last bit.
 */
export function numpySum(a: Float64Array, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    let r0 = a[start]!, r1 = a[start + 1]!, r2 = a[start + 2]!, r3 = a[start + 3]!;
    let r4 = a[start + 4]!, r5 = a[start + 5]!, r6 = a[start + 6]!, r7 = a[start + 7]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const b = start + i;
      r0 += a[b]!;
      r1 += a[b + 1]!;
      r2 += a[b + 2]!;
      r3 += a[b + 3]!;
      r4 += a[b + 4]!;
      r5 += a[b + 5]!;
      r6 += a[b + 6]!;
      r7 += a[b + 7]!;
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

// np.mean(s[s > -1]) (−1 when nothing is left), s taken in C order (threshold, recall point, category).

function meanPrecision(precision: Float64Array, p: CocoEvalParams, K: number, sel: Select): number {
  const { a, m, ts } = pick(p, sel);
  if (a < 0 || m < 0) return -1;
  const R = p.recThrs.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const k0 = sel.k ?? 0;
  const k1 = sel.k === null ? K : sel.k + 1;
  const kept = new Float64Array(ts.length * R * (k1 - k0));
  let count = 0;
  for (const t of ts) {
    for (let r = 0; r < R; r++) {
      for (let k = k0; k < k1; k++) {
        const v = precision[(((t * R + r) * K + k) * A + a) * M + m]!;
        if (v > -1) kept[count++] = v;
      }
    }
  }
  return count === 0 ? -1 : numpySum(kept, 0, count) / count;
}

function meanRecall(recall: Float64Array, p: CocoEvalParams, K: number, sel: Select): number {
  const { a, m, ts } = pick(p, sel);
  if (a < 0 || m < 0) return -1;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const k0 = sel.k ?? 0;
  const k1 = sel.k === null ? K : sel.k + 1;
  const kept = new Float64Array(ts.length * (k1 - k0));
  let count = 0;
  for (const t of ts) {
    for (let k = k0; k < k1; k++) {
      const v = recall[((t * K + k) * A + a) * M + m]!;
      if (v > -1) kept[count++] = v;
    }
  }
  return count === 0 ? -1 : numpySum(kept, 0, count) / count;
}

/** summarize(): the 12 numbers of COCOeval.stats, in pycocotools' order. */
export function cocoSummarize(precision: Float64Array, recall: Float64Array, p: CocoEvalParams): number[] {
  const K = p.useCats ? p.catIds.length : 1;
  const md = p.maxDets;
  const last = md[md.length - 1]!;
  const ap = (iou: number | null, area: string, maxDets: number) => meanPrecision(precision, p, K, { k: null, iou, area, maxDets });
  const ar = (area: string, maxDets: number) => meanRecall(recall, p, K, { k: null, iou: null, area, maxDets });
  return [
    ap(null, "all", last),
    ap(0.5, "all", md[2] ?? last),
    ap(0.75, "all", md[2] ?? last),
    ap(null, "small", md[2] ?? last),
    ap(null, "medium", md[2] ?? last),
    ap(null, "large", md[2] ?? last),
    ar("all", md[0]!),
    ar("all", md[1] ?? last),
    ar("all", md[2] ?? last),
    ar("small", md[2] ?? last),
    ar("medium", md[2] ?? last),
    ar("large", md[2] ?? last),
  ];
}

/** pycocotools' printed summary: 12 lines. */
export function formatCocoSummary(result: CocoEvalResult): string {
  const p = result.params;
  const md = p.maxDets;
  const last = md[md.length - 1]!;
  const rows: [1 | 0, number | null, string, number][] = [
    [1, null, "all", last],
    [1, 0.5, "all", md[2] ?? last],
    [1, 0.75, "all", md[2] ?? last],
    [1, null, "small", md[2] ?? last],
    [1, null, "medium", md[2] ?? last],
    [1, null, "large", md[2] ?? last],
    [0, null, "all", md[0]!],
    [0, null, "all", md[1] ?? last],
    [0, null, "all", md[2] ?? last],
    [0, null, "small", md[2] ?? last],
    [0, null, "medium", md[2] ?? last],
    [0, null, "large", md[2] ?? last],
  ];
  return rows
    .map(([isAp, iou, area, maxDets], i) => {
      const title = isAp ? "Average Precision" : "Average Recall";
      const type = isAp ? "(AP)" : "(AR)";
      const iouStr = iou === null ? `${p.iouThrs[0]!.toFixed(2)}:${p.iouThrs[p.iouThrs.length - 1]!.toFixed(2)}` : iou.toFixed(2);
      const v = result.stats[i]!;
      return ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${v < 0 ? "-" : ""}${Math.abs(v).toFixed(3)}`;
    })
    .join("\n");
}
