import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { annotationRle, loadCocoGroundTruth, loadCocoResults, parseCocoGroundTruth, parseCocoResults, type CocoAnnotation, type CocoIndex } from "../datasets/coco.js";
import { bboxIou, encode, iou as maskIou, toCocoRle } from "../masks/index.js";
import {
  cocoAccumulate,
  cocoEvaluate,
  cocoSummarize,
  defaultParams,
  evaluateCoco,
  formatCocoSummary,
  linspace,
  numpySum,
  resolveCocoParams,
  type CocoEvalParams,
} from "./cocoeval.js";

const fixtures = resolve(import.meta.dirname, "../../../shared/fixtures/coco-eval");

describe("COCOeval equals pycocotools on every shared fixture", () => {
  for (const name of readdirSync(fixtures).sort()) {
    it(`${name}: 12 stats within 1e-9, in fact bit-identical`, async () => {
      const gt = await loadCocoGroundTruth(resolve(fixtures, name, "gt.json"));
      const dt = await loadCocoResults(gt, resolve(fixtures, name, "dt.json"));
      const r = evaluateCoco(gt, dt);
      const expected = JSON.parse(readFileSync(resolve(fixtures, name, "expected.json"), "utf8")).stats as number[];
      expect(r.stats).toHaveLength(12);
      r.stats.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-9));
      // np.mean's pairwise summation reproduced: the same doubles pycocotools printed
      r.stats.forEach((v, i) => expect(v, `stat ${i}`).toBe(expected[i]));
      // per-category AP averages back to the overall AP when every category has ground truth
      const cats = r.perCategory.filter((c) => c.ap > -1);
      expect(cats.reduce((s, c) => s + c.ap, 0) / cats.length).toBeCloseTo(r.stats[0]!, 12);
    });
  }
});

const box = (x: number, y: number, w: number, h: number) => [x, y, w, h];
function gtFile(anns: { image_id: number; bbox: number[]; iscrowd?: number; id?: number; category_id?: number }[], images = [1, 2]) {
  return parseCocoGroundTruth(
    {
      images: images.map((id) => ({ id, width: 200, height: 200 })),
      categories: [{ id: 1, name: "fruit" }, { id: 2, name: "leaf" }],
      annotations: anns.map((a, i) => ({
        id: a.id ?? i + 1,
        image_id: a.image_id,
        category_id: a.category_id ?? 1,
        iscrowd: a.iscrowd ?? 0,
        bbox: a.bbox,
        area: a.bbox[2]! * a.bbox[3]!,
        segmentation: [[a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2]!, a.bbox[1], a.bbox[0] + a.bbox[2]!, a.bbox[1] + a.bbox[3]!, a.bbox[0], a.bbox[1] + a.bbox[3]!]],
      })),
    },
    "gt.json",
  );
}

describe("numpySum sums as numpy does (pairwise)", () => {
  // np.sum of a[i] = ((i * 7919) % 1013) / 1013 + 1 / (i + 1), printed by numpy 2.4.6; a plain left-to-right
  // loop gives a different last digit for most of these lengths (e.g. 6.604332957269779 for 8, and
  // 40372.33697384147 for 80800).
  const numpy: [number, number][] = [
    [7, 5.75771400366662],
    [8, 6.604332957269778],
    [9, 7.254437158213071],
    [127, 69.23579856099984],
    [128, 70.05012636208572],
    [129, 70.68176773738512],
    [1000, 507.8665172573915],
    [4141, 2077.7431464602223],
    [80800, 40372.33697384086],
  ];
  for (const [n, sum] of numpy) {
    it(`n = ${n}`, () => {
      const a = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 1013) / 1013 + 1 / (i + 1));
      expect(numpySum(a)).toBe(sum);
    });
  }
});

describe("COCOeval hand-worked cases", () => {
  it("thresholds are numpy's linspace", () => {
    const t = linspace(0.5, 0.95, 10);
    expect(t[8]).toBe(0.8999999999999999);
    expect(linspace(0, 1, 101)[57]).toBe(0.5700000000000001);
  });
  it("a false positive ranked above a true positive: AP = 0.5 at every threshold, AR = 1", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(100, 100, 50, 50), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(10, 10, 50, 50), score: 0.8 },
    ], "dt.json");
    for (const iouType of ["bbox", "segm"] as const) {
      const r = evaluateCoco(gt, dt, { iouType });
      expect(r.stats[0]).toBeCloseTo(0.5, 12);
      expect(r.stats[8]).toBe(1);
      expect(r.perCategory.map((c) => c.ap)).toEqual([expect.closeTo(0.5, 12), -1]);
    }
  });
  it("maxDets cut-offs: three perfect detections, AR@1 = 1/3, AR@10 = 1", () => {
    const gt = gtFile([1, 2, 3].map((k) => ({ image_id: 1, bbox: box(k * 50, 10, 40, 40) })));
    const dt = parseCocoResults(gt, [1, 2, 3].map((k) => ({ image_id: 1, category_id: 1, bbox: box(k * 50, 10, 40, 40), score: 1 - k / 10 })), "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats[6]).toBeCloseTo(1 / 3, 12);
    expect(r.stats[7]).toBe(1);
    expect(r.stats[0]).toBe(1);
    const cut = evaluateCoco(gt, dt, { iouType: "bbox", params: { maxDets: [1, 2, 2] } });
    expect(cut.stats[8]).toBeCloseTo(2 / 3, 12);
  });
  it("images without detections: AP 0, AR 0", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const r = evaluateCoco(gt, parseCocoResults(gt, [], "dt.json"));
    expect(r.stats[0]).toBe(0);
    expect(r.stats[8]).toBe(0);
    expect(r.stats[5]).toBe(-1); // no large ground truth
  });
  it("crowd-only images: detections on crowd regions are ignored, no category has ground truth → -1", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(0, 0, 100, 100), iscrowd: 1 }]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(10, 10, 20, 20), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(50, 50, 20, 20), score: 0.8 },
    ], "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats.every((v) => v === -1)).toBe(true);
  });
  it("a crowd region absorbs many detections (IoU = I / area(dt)) without hurting precision", () => {
    const gt = gtFile([
      { image_id: 1, bbox: box(0, 0, 100, 100), iscrowd: 1 },
      { image_id: 1, bbox: box(150, 150, 40, 40) },
    ]);
    const dt = parseCocoResults(gt, [
      { image_id: 1, category_id: 1, bbox: box(10, 10, 20, 20), score: 0.95 },
      { image_id: 1, category_id: 1, bbox: box(150, 150, 40, 40), score: 0.9 },
      { image_id: 1, category_id: 1, bbox: box(40, 40, 20, 20), score: 0.85 },
    ], "dt.json");
    const r = evaluateCoco(gt, dt, { iouType: "bbox" });
    expect(r.stats[0]).toBeCloseTo(1, 12); // tp / (tp + fp + eps)
    expect(r.stats[8]).toBe(1);
  });
  it("loadRes: bbox in the first result makes area = w·h even for segm", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    const dt = parseCocoResults(gt, [{ image_id: 1, category_id: 1, bbox: box(0, 0, 10, 10), score: 1, segmentation: [[10, 10, 60, 10, 60, 60, 10, 60]] }], "dt.json");
    expect(dt.annotations[0]!.area).toBe(100);
    expect(dt.annotations[0]!.id).toBe(1);
  });
  it("names the file and JSON path of a bad entry", () => {
    const gt = gtFile([{ image_id: 1, bbox: box(10, 10, 50, 50) }]);
    expect(() => parseCocoResults(gt, [{ image_id: 1, category_id: 1, bbox: box(0, 0, 1, 1), score: 1 }, { image_id: 9, category_id: 1, bbox: box(0, 0, 1, 1), score: 1 }], "dt.json")).toThrow(
      /"dt.json" at \[1\]\.image_id: image 9 is not in the ground truth/,
    );
    expect(() => parseCocoGroundTruth({ images: [{ id: 1, width: 5, height: 5 }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, "a", 1] }] }, "gt.json")).toThrow(
      /"gt.json" at annotations\[0\]\.bbox\[2\]/,
    );
  });
  it("prints the familiar summary", async () => {
    const gt = await loadCocoGroundTruth(resolve(fixtures, "small", "gt.json"));
    const text = formatCocoSummary(evaluateCoco(gt, await loadCocoResults(gt, resolve(fixtures, "small", "dt.json"))));
    const lines = text.split("\n");
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.346");
    expect(lines[5]).toBe(" Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000");
    expect(lines[6]).toBe(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.082");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Reference: a slow, line-by-line reading of pycocotools' cocoeval.py (cocodataset/cocoapi
// PythonAPI/pycocotools/cocoeval.py: evaluate, _prepare, computeIoU, evaluateImg, accumulate, summarize), with
// plain arrays and objects where numpy has arrays. The fast path must give the same precision and recall arrays,
// bit for bit, on random cases built to hit the corners: tied scores, tied IoUs, crowd ground truth, ground truth
// ignored by area (areas on the range boundaries), a ground-truth id 0, maxDets cut-offs, detections of unknown
// categories, image subsets, useCats = 0.

/** np.argsort(keys, kind="mergesort"): stable; written as an insertion sort so it trusts nothing. */
function argsortStable(keys: number[]): number[] {
  const idx: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    let at = idx.length;
    while (at > 0 && keys[idx[at - 1]!]! > keys[i]!) at--;
    idx.splice(at, 0, i);
  }
  return idx;
}

interface RefEvalImg {
  dtMatches: number[][]; // T × D, gt ids (0 = none)
  dtScores: number[];
  gtIgnore: number[];
  dtIgnore: boolean[][]; // T × D
}

function referenceCocoEval(cocoGt: CocoIndex, cocoDt: CocoIndex, raw: CocoEvalParams) {
  // evaluate(): p.imgIds = np.unique, p.catIds = np.unique if useCats, p.maxDets = sorted
  const p: CocoEvalParams = { ...raw };
  p.imgIds = [...new Set(raw.imgIds)].sort((a, b) => a - b);
  if (p.useCats) p.catIds = [...new Set(raw.catIds)].sort((a, b) => a - b);
  p.maxDets = [...raw.maxDets].sort((a, b) => a - b);

  // _prepare(): loadAnns(getAnnIds(imgIds=p.imgIds, catIds=p.catIds)) (catIds only when useCats)
  const getAnns = (coco: CocoIndex, catIds: number[]) => {
    let anns: CocoAnnotation[] = [];
    if (p.imgIds.length === 0) anns = coco.annotations;
    else for (const imgId of p.imgIds) anns.push(...(coco.byImage.get(imgId) ?? []));
    return catIds.length === 0 ? anns : anns.filter((a) => catIds.includes(a.category_id));
  };
  const gts = getAnns(cocoGt, p.useCats ? p.catIds : []);
  const dts = getAnns(cocoDt, p.useCats ? p.catIds : []);
  const ignore = new Map<CocoAnnotation, boolean>();
  for (const gt of gts) ignore.set(gt, gt.iscrowd); // gt['ignore'] = 'iscrowd' in gt and gt['iscrowd']
  const _gts = new Map<string, CocoAnnotation[]>();
  const _dts = new Map<string, CocoAnnotation[]>();
  const push = (m: Map<string, CocoAnnotation[]>, a: CocoAnnotation) => {
    const key = `${a.image_id},${a.category_id}`;
    if (!m.has(key)) m.set(key, []);
    m.get(key)!.push(a);
  };
  for (const gt of gts) push(_gts, gt);
  for (const dt of dts) push(_dts, dt);
  const cell = (m: Map<string, CocoAnnotation[]>, imgId: number, catId: number) =>
    p.useCats ? (m.get(`${imgId},${catId}`) ?? []) : p.catIds.flatMap((cId) => m.get(`${imgId},${cId}`) ?? []);

  const catIds = p.useCats ? p.catIds : [-1];
  const computeIoU = (imgId: number, catId: number): number[][] => {
    const gt = cell(_gts, imgId, catId);
    let dt = cell(_dts, imgId, catId);
    if (gt.length === 0 && dt.length === 0) return [];
    const inds = argsortStable(dt.map((d) => -d.score!));
    dt = inds.map((i) => dt[i]!);
    if (dt.length > p.maxDets[p.maxDets.length - 1]!) dt = dt.slice(0, p.maxDets[p.maxDets.length - 1]!);
    const iscrowd = gt.map((o) => o.iscrowd);
    if (dt.length === 0 || gt.length === 0) return []; // maskUtils.iou of an empty list
    const rows =
      p.iouType === "segm"
        ? maskIou(dt.map((d) => annotationRle(d, cocoDt)), gt.map((g) => annotationRle(g, cocoGt)), iscrowd)
        : bboxIou(dt.map((d) => d.bbox), gt.map((g) => g.bbox), iscrowd);
    return rows.map((r) => Array.from(r));
  };
  const ious = new Map<string, number[][]>();
  for (const imgId of p.imgIds) for (const catId of catIds) ious.set(`${imgId},${catId}`, computeIoU(imgId, catId));

  const evaluateImg = (imgId: number, catId: number, aRng: [number, number], maxDet: number): RefEvalImg | null => {
    let gt = cell(_gts, imgId, catId);
    let dt = cell(_dts, imgId, catId);
    if (gt.length === 0 && dt.length === 0) return null;
    const _ignore = new Map<CocoAnnotation, number>();
    for (const g of gt) _ignore.set(g, ignore.get(g) || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0);
    const gtind = argsortStable(gt.map((g) => _ignore.get(g)!));
    gt = gtind.map((i) => gt[i]!);
    const dtind = argsortStable(dt.map((d) => -d.score!));
    dt = dtind.slice(0, maxDet).map((i) => dt[i]!);
    const iscrowd = gt.map((o) => (o.iscrowd ? 1 : 0));
    const stored = ious.get(`${imgId},${catId}`)!;
    const iou = stored.length > 0 ? stored.map((row) => gtind.map((i) => row[i]!)) : stored;
    const T = p.iouThrs.length;
    const G = gt.length;
    const D = dt.length;
    const gtm = Array.from({ length: T }, () => new Array<number>(G).fill(0));
    const dtm = Array.from({ length: T }, () => new Array<number>(D).fill(0));
    const gtIg = gt.map((g) => _ignore.get(g)!);
    const dtIg = Array.from({ length: T }, () => new Array<boolean>(D).fill(false));
    if (iou.length !== 0) {
      p.iouThrs.forEach((t, tind) => {
        dt.forEach((d, dind) => {
          let best = Math.min(t, 1 - 1e-10);
          let m = -1;
          for (let gind = 0; gind < G; gind++) {
            if (gtm[tind]![gind]! > 0 && !iscrowd[gind]) continue;
            if (m > -1 && gtIg[m] === 0 && gtIg[gind] === 1) break;
            if (iou[dind]![gind]! < best) continue;
            best = iou[dind]![gind]!;
            m = gind;
          }
          if (m === -1) return;
          dtIg[tind]![dind] = gtIg[m] === 1;
          dtm[tind]![dind] = gt[m]!.id;
          gtm[tind]![m] = d.id;
        });
      });
    }
    const a = dt.map((d) => d.area < aRng[0] || d.area > aRng[1]);
    for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) dtIg[t]![j] = dtIg[t]![j]! || (dtm[t]![j] === 0 && a[j]!);
    return { dtMatches: dtm, dtScores: dt.map((d) => d.score!), gtIgnore: gtIg, dtIgnore: dtIg };
  };
  const maxDet = p.maxDets[p.maxDets.length - 1]!;
  const evalImgs: (RefEvalImg | null)[] = [];
  for (const catId of catIds) for (const areaRng of p.areaRng) for (const imgId of p.imgIds) evalImgs.push(evaluateImg(imgId, catId, areaRng, maxDet));

  // accumulate()
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const K = p.useCats ? p.catIds.length : 1;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const I0 = p.imgIds.length;
  const A0 = p.areaRng.length;
  const precision = new Array<number>(T * R * K * A * M).fill(-1);
  const recall = new Array<number>(T * K * A * M).fill(-1);
  const eps = 2.220446049250313e-16;
  for (let k = 0; k < K; k++) {
    const Nk = k * A0 * I0;
    for (let a = 0; a < A; a++) {
      const Na = a * I0;
      p.maxDets.forEach((maxDet, m) => {
        let E: (RefEvalImg | null)[] = [];
        for (let i = 0; i < I0; i++) E.push(evalImgs[Nk + Na + i]!);
        E = E.filter((e) => e !== null);
        if (E.length === 0) return;
        const es = E as RefEvalImg[];
        const dtScores = es.flatMap((e) => e.dtScores.slice(0, maxDet));
        const inds = argsortStable(dtScores.map((s) => -s));
        const dtm = Array.from({ length: T }, (_, t) => {
          const row = es.flatMap((e) => e.dtMatches[t]!.slice(0, maxDet));
          return inds.map((i) => row[i]!);
        });
        const dtIg = Array.from({ length: T }, (_, t) => {
          const row = es.flatMap((e) => e.dtIgnore[t]!.slice(0, maxDet));
          return inds.map((i) => row[i]!);
        });
        const gtIg = es.flatMap((e) => e.gtIgnore);
        const npig = gtIg.filter((g) => g === 0).length;
        if (npig === 0) return;
        for (let t = 0; t < T; t++) {
          const tps = dtm[t]!.map((v, j) => v !== 0 && !dtIg[t]![j]);
          const fps = dtm[t]!.map((v, j) => v === 0 && !dtIg[t]![j]);
          const tp: number[] = [];
          const fp: number[] = [];
          let st = 0;
          let sf = 0;
          for (let j = 0; j < tps.length; j++) {
            st += tps[j] ? 1 : 0;
            sf += fps[j] ? 1 : 0;
            tp.push(st);
            fp.push(sf);
          }
          const nd = tp.length;
          const rc = tp.map((v) => v / npig);
          const pr = tp.map((v, j) => v / (fp[j]! + v + eps));
          const q = new Array<number>(R).fill(0);
          recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1]! : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          const found = p.recThrs.map((x) => {
            let i = 0;
            while (i < rc.length && rc[i]! < x) i++; // searchsorted(side="left")
            return i;
          });
          for (let ri = 0; ri < R; ri++) {
            if (found[ri]! >= pr.length) break; // IndexError, caught
            q[ri] = pr[found[ri]!]!;
          }
          for (let ri = 0; ri < R; ri++) precision[(((t * R + ri) * K + k) * A + a) * M + m] = q[ri]!;
        }
      });
    }
  }
  return { params: p, precision, recall };
}

function mulberry32(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random case: boxes on a coarse grid (tied IoUs), scores from a few values (tied scores), areas on range edges. */
function randomCase(seed: number, iouType: "bbox" | "segm") {
  const r = mulberry32(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pickOf = <T,>(xs: readonly T[]) => xs[int(xs.length)]!;
  const W = 48;
  const H = 40;
  const imageIds = Array.from({ length: 1 + int(8) }, (_, i) => 100 - i * 7); // unsorted, gaps
  const catIds = pickOf([[1], [1, 2], [5, 3, 9]]);
  const grid = iouType === "segm" ? 4 : 8;
  const box = (): number[] => {
    const x = int(W / grid) * grid;
    const y = int(H / grid) * grid;
    return [x, y, grid * (1 + int(3)), grid * (1 + int(3))];
  };
  const jitter = (b: number[]): number[] => (r() < 0.5 ? [...b] : [b[0]! + pickOf([-grid, 0, grid]), b[1]! + pickOf([-grid, 0, grid]), b[2]!, b[3]! + pickOf([0, grid])]);
  const segm = (b: number[]) => {
    const data = new Uint8Array(W * H);
    for (let y = Math.max(0, b[1]!); y < Math.min(H, b[1]! + b[3]!); y++) for (let x = Math.max(0, b[0]!); x < Math.min(W, b[0]! + b[2]!); x++) data[y * W + x] = 1;
    return toCocoRle(encode({ width: W, height: H, data }));
  };
  // areas: the box's own, or exactly on / beside the small-medium-large boundaries
  const areaFor = (b: number[]) => pickOf([b[2]! * b[3]!, b[2]! * b[3]!, 32 ** 2, 32 ** 2 + 1, 96 ** 2, 96 ** 2 - 0.5, 96 ** 2 + 1, 10, 5000]);
  const scores = [0.9, 0.5, 0.5, 0.3, 1, 0.1];
  const annotations: Record<string, unknown>[] = [];
  const results: Record<string, unknown>[] = [];
  let nextId = r() < 0.3 ? 0 : 1; // sometimes a ground-truth id 0, which pycocotools' dtm treats as "no match"
  for (const image_id of imageIds) {
    for (const category_id of catIds) {
      const objects = Array.from({ length: int(5) }, box);
      for (const b of objects) {
        annotations.push({ id: nextId++, image_id, category_id, iscrowd: r() < 0.2 ? 1 : 0, area: areaFor(b), bbox: b, segmentation: segm(b) });
      }
      const nDet = int(9);
      for (let j = 0; j < nDet; j++) {
        const b = objects.length > 0 && r() < 0.7 ? jitter(pickOf(objects)) : box();
        const score = pickOf(scores);
        results.push(iouType === "bbox" ? { image_id, category_id, bbox: b, score } : { image_id, category_id, segmentation: segm(b), score });
      }
    }
    if (r() < 0.3) {
      const b = box();
      results.push(iouType === "bbox" ? { image_id, category_id: 77, bbox: b, score: 0.5 } : { image_id, category_id: 77, segmentation: segm(b), score: 0.5 });
    }
  }
  const gt = parseCocoGroundTruth(
    { images: imageIds.map((id) => ({ id, width: W, height: H })), categories: catIds.map((id) => ({ id, name: `c${id}` })), annotations },
    "random-gt.json",
  );
  const dt = parseCocoResults(gt, results, "random-dt.json");
  const params: Partial<CocoEvalParams> = {};
  const md = int(4);
  if (md === 1) params.maxDets = [1, 2, 3];
  if (md === 2) params.maxDets = [4, 1, 2]; // sorted by evaluate()
  if (md === 3) params.maxDets = [1, 1, 6];
  if (r() < 0.2) params.imgIds = imageIds.filter(() => r() < 0.6);
  if (r() < 0.15) params.useCats = false;
  if (r() < 0.15) params.iouThrs = [0.1, 0.5, 0.5, 1]; // 1 is clamped to 1 - 1e-10
  if (r() < 0.15) params.catIds = [catIds[catIds.length - 1]!, 42]; // a subset, and a category nobody has
  return { gt, dt, params };
}

/** Index of the first entry that differs (Object.is), −1 when none; −2 when the lengths differ. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe("COCOeval fast path equals a line-by-line reference on random cases", () => {
  const check = (seed: number, iouType: "bbox" | "segm") => {
    const { gt, dt, params } = randomCase(seed, iouType);
    const fast = evaluateCoco(gt, dt, { iouType, params });
    const ref = referenceCocoEval(gt, dt, { ...defaultParams(gt, iouType), ...params });
    expect(firstDifference(fast.precision, ref.precision), `seed ${seed}: precision`).toBe(-1);
    expect(firstDifference(fast.recall, ref.recall), `seed ${seed}: recall`).toBe(-1);
    expect(fast.params.maxDets).toEqual(ref.params.maxDets);
    return fast;
  };
  it("bbox: 200 random cases, identical precision and recall arrays", () => {
    let informative = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const fast = check(seed, "bbox");
      if (fast.precision.some((v) => v > 0 && v < 1)) informative++;
    }
    expect(informative).toBeGreaterThan(130); // the cases exercise more than all-or-nothing precision
  });
  it("segm (RLE masks): 50 random cases, identical precision and recall arrays", () => {
    for (let seed = 1001; seed <= 1050; seed++) check(seed, "segm");
  });
  it("the reference itself reproduces the 80-image pycocotools fixture", async () => {
    const gt = await loadCocoGroundTruth(resolve(fixtures, "many_images", "gt.json"));
    const dt = await loadCocoResults(gt, resolve(fixtures, "many_images", "dt.json"));
    const ref = referenceCocoEval(gt, dt, defaultParams(gt, "segm"));
    const fast = evaluateCoco(gt, dt);
    expect(firstDifference(fast.precision, ref.precision)).toBe(-1);
    expect(firstDifference(fast.recall, ref.recall)).toBe(-1);
  });
  it("stages compose to evaluateCoco", () => {
    const { gt, dt, params } = randomCase(7, "bbox");
    const p = resolveCocoParams(gt, { iouType: "bbox", params });
    const { precision, recall } = cocoAccumulate(cocoEvaluate(gt, dt, p));
    const whole = evaluateCoco(gt, dt, { iouType: "bbox", params });
    expect(Array.from(precision)).toEqual(Array.from(whole.precision));
    expect(Array.from(recall)).toEqual(Array.from(whole.recall));
    expect(cocoSummarize(precision, recall, p)).toEqual(whole.stats);
  });
});
