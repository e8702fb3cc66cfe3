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
 * - the 12 summary numbers in pycocotools' order, each the mean over entries > −1 (−1 when none).
 * Speed: IoU through our RLE `iou` (range-limited run walk), all per-image results in typed arrays.
 */
import { bboxIou, iou as rleIou } from "../masks/index.js";
import type { BBox, Rle } from "../masks/types.js";
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

/** One evaluateImg result. Matrices are T × D, row-major by threshold. */
interface EvalImg {
  D: number;
  G: number;
  dtScores: Float64Array;
  /** 1 where pycocotools' dtMatches is non-zero (matched to a gt whose id is not 0). */
  dtMatched: Uint8Array;
  dtIgnore: Uint8Array;
  gtIgnore: Uint8Array;
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

/** Stable order of indices by descending score (np.argsort(-scores, kind="mergesort")). */
function byScore(anns: readonly CocoAnnotation[]): number[] {
  const idx = anns.map((_, i) => i);
  return idx.sort((a, b) => anns[b]!.score! - anns[a]!.score!);
}

export interface EvaluateOptions {
  iouType?: IouType;
  /** Override parts of the defaults (e.g. maxDets, imgIds). */
  params?: Partial<Omit<CocoEvalParams, "iouType">>;
}

/** evaluate() + accumulate() + summarize(). */
export function evaluateCoco(gt: CocoIndex, dt: CocoIndex, options: EvaluateOptions = {}): CocoEvalResult {
  const iouType = options.iouType ?? "segm";
  if (iouType !== "segm" && iouType !== "bbox") throw new UsageError(`iou type must be "segm" or "bbox", got "${String(iouType)}"`);
  const p: CocoEvalParams = { ...defaultParams(gt, iouType), ...options.params, iouType };
  // evaluate(): unique sorted ids, sorted maxDets
  p.imgIds = [...new Set(p.imgIds)].sort((a, b) => a - b);
  if (p.useCats) p.catIds = [...new Set(p.catIds)].sort((a, b) => a - b);
  p.maxDets = [...p.maxDets].sort((a, b) => a - b);
  const catIds = p.useCats ? p.catIds : [-1];
  const T = p.iouThrs.length;
  const maxDetLast = p.maxDets[p.maxDets.length - 1]!;

  // _prepare(): group per (image, category), in getAnnIds order (images in imgIds order, file order inside).
  const catSet = new Set(p.catIds);
  const group = (index: CocoIndex) => {
    const out = new Map<number, Map<number, CocoAnnotation[]>>();
    for (const imgId of p.imgIds) {
      const perCat = new Map<number, CocoAnnotation[]>();
      out.set(imgId, perCat);
      for (const a of index.byImage.get(imgId) ?? []) {
        if (p.useCats && !catSet.has(a.category_id)) continue;
        const key = p.useCats ? a.category_id : -1;
        let l = perCat.get(key);
        if (!l) perCat.set(key, (l = []));
        l.push(a);
      }
    }
    return out;
  };
  const gts = group(gt);
  const dts = group(dt);
  const rleCache = new Map<CocoAnnotation, Rle>();
  const rleOf = (a: CocoAnnotation, index: CocoIndex) => {
    let r = rleCache.get(a);
    if (!r) rleCache.set(a, (r = annotationRle(a, index)));
    return r;
  };

  const evalImgs: (EvalImg | null)[] = [];
  const A = p.areaRng.length;
  const I = p.imgIds.length;
  for (const catId of catIds) {
    // computeIoU per image for this category, then evaluateImg for each area range.
    const perImage: { g: CocoAnnotation[]; d: CocoAnnotation[]; ious: Float64Array[] }[] = [];
    for (const imgId of p.imgIds) {
      const g = gts.get(imgId)!.get(catId) ?? [];
      let d = dts.get(imgId)!.get(catId) ?? [];
      d = byScore(d).map((i) => d[i]!);
      if (d.length > maxDetLast) d = d.slice(0, maxDetLast);
      let ious: Float64Array[] = [];
      if (g.length > 0 && d.length > 0) {
        const crowd = g.map((o) => o.iscrowd);
        ious =
          p.iouType === "segm"
            ? rleIou(d.map((o) => rleOf(o, dt)), g.map((o) => rleOf(o, gt)), crowd)
            : bboxIou(d.map((o) => o.bbox as BBox), g.map((o) => o.bbox as BBox), crowd);
      }
      perImage.push({ g, d, ious });
    }
    for (let a = 0; a < A; a++) {
      const aRng = p.areaRng[a]!;
      for (let ii = 0; ii < I; ii++) evalImgs.push(evaluateImg(perImage[ii]!, aRng, maxDetLast, p.iouThrs));
    }
  }

  const { precision, recall } = accumulate(evalImgs, p, catIds.length, A, I, T);
  const stats = summarize(precision, recall, p, catIds.length);
  const perCategory: CategoryAp[] = p.useCats
    ? p.catIds.map((id, k) => ({
        id,
        name: gt.categories.find((c) => c.id === id)?.name ?? String(id),
        ap: meanPrecision(precision, p, catIds.length, { k, iou: null, area: "all", maxDets: maxDetLast }),
        ap50: meanPrecision(precision, p, catIds.length, { k, iou: 0.5, area: "all", maxDets: maxDetLast }),
        ap75: meanPrecision(precision, p, catIds.length, { k, iou: 0.75, area: "all", maxDets: maxDetLast }),
        ar100: meanRecall(recall, p, catIds.length, { k, iou: null, area: "all", maxDets: maxDetLast }),
      }))
    : [];
  return { params: p, stats, precision, recall, perCategory };
}

function evaluateImg(
  img: { g: CocoAnnotation[]; d: CocoAnnotation[]; ious: Float64Array[] },
  aRng: [number, number],
  maxDet: number,
  iouThrs: number[],
): EvalImg | null {
  const { g: gAll, d: dSorted, ious } = img;
  if (gAll.length === 0 && dSorted.length === 0) return null;
  const G = gAll.length;
  const ignoreAll = gAll.map((g) => (g.iscrowd || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
  // gt: not-ignored first, stable
  const gtind = gAll.map((_, i) => i).sort((x, y) => ignoreAll[x]! - ignoreAll[y]!);
  const gt = gtind.map((i) => gAll[i]!);
  const gtIgnore = Uint8Array.from(gtind.map((i) => ignoreAll[i]!));
  // dt were sorted and cut to maxDets[-1] already (computeIoU); evaluateImg re-sorts the same way.
  const D = Math.min(dSorted.length, maxDet);
  const T = iouThrs.length;
  const dtMatched = new Uint8Array(T * D);
  const dtIgnore = new Uint8Array(T * D);
  const gtMatched = new Uint8Array(T * G);
  const crowd = gt.map((o) => o.iscrowd);
  if (ious.length > 0) {
    for (let t = 0; t < T; t++) {
      const thr = Math.min(iouThrs[t]!, 1 - 1e-10);
      for (let di = 0; di < D; di++) {
        const row = ious[di]!;
        let best = thr;
        let m = -1;
        for (let gi = 0; gi < G; gi++) {
          if (gtMatched[t * G + gi] && !crowd[gi]) continue;
          if (m > -1 && gtIgnore[m] === 0 && gtIgnore[gi] === 1) break;
          const v = row[gtind[gi]!]!;
          if (v < best) continue;
          best = v;
          m = gi;
        }
        if (m === -1) continue;
        dtIgnore[t * D + di] = gtIgnore[m]!;
        dtMatched[t * D + di] = gt[m]!.id !== 0 ? 1 : 0;
        gtMatched[t * G + m] = 1; // the detection's id, always > 0 after loadRes
      }
    }
  }
  const dtScores = new Float64Array(D);
  for (let di = 0; di < D; di++) {
    const d = dSorted[di]!;
    dtScores[di] = d.score!;
    const outside = d.area < aRng[0] || d.area > aRng[1];
    if (!outside) continue;
    for (let t = 0; t < T; t++) if (!dtMatched[t * D + di]) dtIgnore[t * D + di] = 1;
  }
  return { D, G, dtScores, dtMatched, dtIgnore, gtIgnore };
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

function accumulate(evalImgs: (EvalImg | null)[], p: CocoEvalParams, K: number, A: number, I: number, T: number) {
  const R = p.recThrs.length;
  const M = p.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const recThrs = p.recThrs;
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E: EvalImg[] = [];
      for (let i = 0; i < I; i++) {
        const e = evalImgs[k * A * I + a * I + i];
        if (e) E.push(e);
      }
      if (E.length === 0) continue;
      let npig = 0;
      for (const e of E) for (let g = 0; g < e.G; g++) if (e.gtIgnore[g] === 0) npig++;
      for (let m = 0; m < M; m++) {
        const maxDet = p.maxDets[m]!;
        if (npig === 0) continue;
        // concatenate the first maxDet detections of each image, then a stable sort by score
        let N = 0;
        for (const e of E) N += Math.min(e.D, maxDet);
        const scores = new Float64Array(N);
        const src = new Int32Array(N); // image slot
        const col = new Int32Array(N); // detection index in that image
        let n = 0;
        E.forEach((e, slot) => {
          const c = Math.min(e.D, maxDet);
          for (let j = 0; j < c; j++) {
            scores[n] = e.dtScores[j]!;
            src[n] = slot;
            col[n] = j;
            n++;
          }
        });
        const order = Array.from({ length: N }, (_, i) => i).sort((x, y) => scores[y]! - scores[x]!);
        const pr = new Float64Array(N);
        const rc = new Float64Array(N);
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < N; j++) {
            const o = order[j]!;
            const e = E[src[o]!]!;
            const idx = t * e.D + col[o]!;
            if (!e.dtIgnore[idx]) {
              if (e.dtMatched[idx]) tp++;
              else fp++;
            }
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + EPS);
          }
          recall[((t * K + k) * A + a) * M + m] = N > 0 ? rc[N - 1]! : 0;
          for (let j = N - 1; j > 0; j--) if (pr[j]! > pr[j - 1]!) pr[j - 1] = pr[j]!;
          // searchsorted(rc, recThrs, side="left"); entries past the end stay 0
          let j = 0;
          for (let r = 0; r < R; r++) {
            const thr = recThrs[r]!;
            while (j < N && rc[j]! < thr) j++;
            precision[(((t * R + r) * K + k) * A + a) * M + m] = j < N ? pr[j]! : 0;
          }
        }
      }
    }
  }
  return { precision, recall };
}

interface Select {
  k: number | null;
  iou: number | null;
  area: string;
  maxDets: number;
}

function meanOver(values: number[]): number {
  const kept = values.filter((v) => v > -1);
  if (kept.length === 0) return -1;
  let s = 0;
  for (const v of kept) s += v;
  return s / kept.length;
}

function pick(p: CocoEvalParams, sel: Select) {
  const a = p.areaRngLbl.indexOf(sel.area);
  const m = p.maxDets.indexOf(sel.maxDets);
  const ts = sel.iou === null ? p.iouThrs.map((_, i) => i) : p.iouThrs.flatMap((v, i) => (v === sel.iou ? [i] : []));
  return { a, m, ts };
}

function meanPrecision(precision: Float64Array, p: CocoEvalParams, K: number, sel: Select): number {
  const { a, m, ts } = pick(p, sel);
  if (a < 0 || m < 0) return -1;
  const R = p.recThrs.length;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const vals: number[] = [];
  for (const t of ts) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) if (sel.k === null || sel.k === k) vals.push(precision[(((t * R + r) * K + k) * A + a) * M + m]!);
  return meanOver(vals);
}

function meanRecall(recall: Float64Array, p: CocoEvalParams, K: number, sel: Select): number {
  const { a, m, ts } = pick(p, sel);
  if (a < 0 || m < 0) return -1;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const vals: number[] = [];
  for (const t of ts) for (let k = 0; k < K; k++) if (sel.k === null || sel.k === k) vals.push(recall[((t * K + k) * A + a) * M + m]!);
  return meanOver(vals);
}

function summarize(precision: Float64Array, recall: Float64Array, p: CocoEvalParams, K: number): number[] {
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
