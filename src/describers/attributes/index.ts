/**
 * The `attributes` describer: a short description of each region from its pixels alone, in the style of
 * DAM's dense captions — colour names with shares, lightness and saturation, size, position, shape,
 * texture, and the relations that matter for referring (largest, leftmost, inside region N). Deterministic;
 * all regions are measured in one pass over the image from their RLE runs (no mask decoding, see
 * measureAll), which also counts the pixels each pair of regions shares, from which nesting is settled; the
 * caption reuses those measurements.
 */
import type { BackendFactory, Captioner, Describer, Detection, Detector, Region, StageContext } from "../../pipeline/types.js";
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import type { AttributesOptions } from "./options.js";
import { ACHROMATIC, COLOUR_NAMES } from "../../vocabulary/colour-names.js";
import { measureAll, measureImage, type AllMeasures, type ImageMeasures, type RegionMeasures } from "./measure.js";
import { coversAtLeast, runEnds } from "../../masks/cover.js";
import { area } from "../../masks/rle.js";
import { runsTotal } from "../../masks/runs.js";
import { countedName, DEFAULT_RELATION_RULES, distinctObjects, objectName, relateObjects, type ObjectRelation } from "../../detections/relations.js";
import { HORIZONTAL_WORDS, VERTICAL_WORDS, type ShapeWord, type SizeWord, type TextureWord, type ToneWord } from "../../vocabulary/attribute-words.js";

export interface ColourShare {
  name: string;
  share: number;
}

/** The words chosen for a region (exposed for tests and for callers that build their own text). */
export interface RegionAttributes {
  colours: ColourShare[];
  /** "dark", "light", "pale", "vivid", "greyish" (zero or more). Every word here comes from ./vocabulary.ts. */
  tone: ToneWord[];
  size: SizeWord;
  horizontal: (typeof HORIZONTAL_WORDS)[number];
  vertical: (typeof VERTICAL_WORDS)[number];
  spans: ("width" | "height")[];
  shape: ShapeWord[];
  texture: TextureWord;
  superlatives: string[];
  insideOf?: number;
  contains: number[];
}

export function dominantColours(counts: Float64Array, total: number, max = 3, minShare = 0.08): ColourShare[] {
  const out: ColourShare[] = [];
  for (let i = 0; i < counts.length; i++) {
    const share = total > 0 ? counts[i]! / total : 0;
    if (share >= minShare) out.push({ name: COLOUR_NAMES[i]!, share });
  }
  out.sort((a, b) => b.share - a.share || a.name.localeCompare(b.name));
  return out.slice(0, max);
}

function toneWords(m: Pick<RegionMeasures, "meanLightness" | "meanChroma">, main: string | undefined): ToneWord[] {
  if (!main || ACHROMATIC.has(main)) return [];
  const out: ToneWord[] = [];
  if (m.meanLightness < 35) out.push("dark");
  else if (m.meanLightness > 75) out.push(m.meanChroma < 25 ? "pale" : "light");
  if (m.meanChroma > 55) out.push("vivid");
  else if (m.meanChroma < 12 && !out.includes("pale")) out.push("greyish");
  return out;
}

function sizeWord(share: number): RegionAttributes["size"] {
  if (share < 0.005) return "tiny";
  if (share < 0.03) return "small";
  if (share < 0.15) return "medium";
  if (share < 0.4) return "large";
  return "huge";
}

function shapeWords(m: RegionMeasures, region: Region): ShapeWord[] {
  // Eigenvalues of the covariance give the equivalent ellipse.
  const tr = m.varX + m.varY;
  const det = m.varX * m.varY - m.covXY * m.covXY;
  const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const l1 = tr / 2 + disc;
  const l2 = Math.max(1e-9, tr / 2 - disc);
  const elongation = Math.sqrt(l1 / l2);
  const [, , bw, bh] = region.bbox;
  const extent = m.area / Math.max(1, bw * bh);
  // Area of the moment-equivalent ellipse; filled convex shapes fill about all of it.
  const fill = m.area / Math.max(1, Math.PI * 4 * Math.sqrt(l1 * l2));
  const out: ShapeWord[] = [];
  if (elongation >= 4) out.push("long and thin");
  else if (elongation >= 2) out.push("elongated");
  if (extent >= 0.9 && elongation < 4) out.push("rectangular");
  else if (elongation < 1.35 && extent >= 0.6 && extent < 0.86 && fill > 0.85) out.push("round");
  else if (fill < 0.55 || extent < 0.35) out.push("irregular");
  if (elongation >= 1.6) {
    const angle = (0.5 * Math.atan2(2 * m.covXY, m.varX - m.varY) * 180) / Math.PI; // 0 = along x
    const a = Math.abs(angle);
    out.push(a < 22.5 ? "horizontal" : a > 67.5 ? "vertical" : "diagonal");
  }
  return out;
}

function textureWord(gradient: number): RegionAttributes["texture"] {
  if (gradient < 4) return "smooth";
  if (gradient < 10) return "slightly textured";
  return "textured";
}

function bboxInside(a: Region["bbox"], b: Region["bbox"], slack: number): boolean {
  return a[0] >= b[0] - slack && a[1] >= b[1] - slack && a[0] + a[2] <= b[0] + b[2] + slack && a[1] + a[3] <= b[1] + b[3] + slack;
}

/** Check every region's mask against the image; return each mask's foreground area. */
function checkRegions(image: RgbImage, regions: readonly Region[]): Float64Array {
  const W = image.width;
  const H = image.height;
  const areas = new Float64Array(regions.length);
  regions.forEach((r, i) => {
    if (r.rle.width !== W || r.rle.height !== H) {
      throw new GearSegError(`attributes describer: region ${r.id} mask is ${r.rle.width}x${r.rle.height}, image is ${W}x${H}`);
    }
    const sum = runsTotal(r.rle);
    if (sum !== W * H) throw new GearSegError(`attributes describer: region ${r.id} mask's RLE counts sum to ${sum}, not ${W}x${H} = ${W * H} pixels`);
    areas[i] = area(r.rle);
  });
  return areas;
}

/** The words of one region that depend on it alone (no relations yet). */
function ownAttributes(m: RegionMeasures, r: Region, W: number, H: number): RegionAttributes {
  const colours = dominantColours(m.colourCounts, m.area);
  const cxr = m.cx / W, cyr = m.cy / H;
  const spans: ("width" | "height")[] = [];
  if (r.bbox[2] >= 0.9 * W) spans.push("width");
  if (r.bbox[3] >= 0.9 * H) spans.push("height");
  return {
    colours,
    tone: toneWords(m, colours[0]?.name),
    size: sizeWord(m.area / (W * H)),
    horizontal: HORIZONTAL_WORDS[cxr < 1 / 3 ? 0 : cxr > 2 / 3 ? 2 : 1],
    vertical: VERTICAL_WORDS[cyr < 1 / 3 ? 0 : cyr > 2 / 3 ? 2 : 1],
    spans,
    shape: m.area > 0 ? shapeWords(m, r) : [],
    texture: textureWord(m.gradient),
    superlatives: [],
    contains: [],
  };
}

function checkAborted(ctx?: StageContext): void {
  if (ctx?.signal?.aborted) throw ctx.signal.reason ?? new Error("aborted");
}

/**
 * The last measurements of each image (held as long as its pixels object lives): the caption of the regions
 * just described reads its three regions' measures and the whole image's from there instead of reading the
 * pixels again. Measures depend only on the pixels and the runs, and neither is changed in place.
 */
const measured = new WeakMap<RgbImage, { whole: ImageMeasures; byRle: WeakMap<Rle, RegionMeasures> }>();

function remember(image: RgbImage, regions: readonly Region[], all: AllMeasures): void {
  const byRle = new WeakMap<Rle, RegionMeasures>();
  regions.forEach((r, i) => byRle.set(r.rle, all.regions[i]!));
  measured.set(image, { whole: all.image, byRle });
}

/** The caption's words about lightness and chroma: its means are recounted in image order near them. */
const CAPTION_LIGHTNESS = [30, 50, 70];
const CAPTION_CHROMA = [12, 40];
const nearAny = (v: number, thresholds: readonly number[]) => thresholds.some((t) => Math.abs(v - t) < 1e-3);

/** Measures of the regions `top` and of the whole image for the caption: `describe`'s when it has just measured
 * them, else from one pass now. */
function captionMeasures(image: RgbImage, regions: readonly Region[], top: readonly number[], ctx?: StageContext): { measures: RegionMeasures[]; whole: ImageMeasures } {
  const memo = measured.get(image);
  const remembered = memo ? top.map((i) => memo.byRle.get(regions[i]!.rle)) : [];
  let measures: RegionMeasures[];
  let whole: ImageMeasures;
  if (memo && remembered.every((m) => m !== undefined)) {
    measures = remembered as RegionMeasures[];
    whole = memo.whole;
  } else {
    checkAborted(ctx);
    ({ regions: measures, image: whole } = measureAll(image, top.map((i) => regions[i]!.rle)));
  }
  // Its L* mean is exact, its chroma mean within rounding of the row-major sum: near a word's threshold the
  // whole image is measured again in that order.
  if (nearAny(whole.meanLightness, CAPTION_LIGHTNESS) || nearAny(whole.meanChroma, CAPTION_CHROMA)) whole = measureImage(image);
  return { measures, whole };
}

/** Measure and name every region of `image`; relations are computed among `regions`. */
export function regionAttributes(image: RgbImage, regions: readonly Region[], ctx?: StageContext): { measures: RegionMeasures[]; attributes: RegionAttributes[] } {
  const W = image.width;
  const H = image.height;
  checkAborted(ctx);
  checkRegions(image, regions);
  const all = measureAll(image, regions.map((r) => r.rle));
  const { regions: measures, shared } = all;
  remember(image, regions, all);
  ctx?.onProgress?.(regions.length, regions.length);
  checkAborted(ctx);
  const attributes = regions.map((r, i) => ownAttributes(measures[i]!, r, W, H));
  if (regions.length >= 2) {
    const extreme = (word: string, key: (i: number) => number) => {
      let best = -1;
      for (let i = 0; i < regions.length; i++) if (measures[i]!.area > 0 && (best < 0 || key(i) > key(best))) best = i;
      if (best >= 0) attributes[best]!.superlatives.push(word);
    };
    extreme("largest", (i) => measures[i]!.area);
    extreme("smallest", (i) => -measures[i]!.area);
    extreme("leftmost", (i) => -measures[i]!.cx);
    extreme("rightmost", (i) => measures[i]!.cx);
    extreme("topmost", (i) => -measures[i]!.cy);
    extreme("bottommost", (i) => measures[i]!.cy);
  }
  // Nesting: a region is inside the smallest other region that covers 90% of it (the first such by index
  // among equal areas). Candidates are tried smallest first, so the first that covers it is the answer;
  // boxes prefilter, and coverage is read from the measuring pass's shared pixels (or, for very many
  // regions, counted on the runs with early exits; no merged mask is built).
  const bySize = regions.map((_, j) => j).sort((p, q) => measures[p]!.area - measures[q]!.area || p - q);
  const sizes = Float64Array.from(bySize, (j) => measures[j]!.area);
  const ends: (Float64Array | undefined)[] = new Array(regions.length);
  const endsOf = (j: number) => (ends[j] ??= runEnds(regions[j]!.rle.counts));
  for (let i = 0; i < regions.length; i++) {
    const a = regions[i]!;
    const aArea = measures[i]!.area;
    if (aArea === 0) continue;
    let parent = -1;
    // First candidate strictly larger than a.
    let lo = 0, hi = bySize.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sizes[mid]! <= aArea) lo = mid + 1;
      else hi = mid;
    }
    for (let t = lo; t < bySize.length; t++) {
      const j = bySize[t]!;
      if (!bboxInside(a.bbox, regions[j]!.bbox, 2)) continue;
      if (shared ? shared[i * regions.length + j]! >= 0.9 * aArea : coversAtLeast(a.rle.counts, endsOf(j), 0.9 * aArea, aArea)) {
        parent = j;
        break;
      }
    }
    if (parent >= 0) {
      attributes[i]!.insideOf = regions[parent]!.id;
      attributes[parent]!.contains.push(a.id);
    }
  }
  return { measures, attributes };
}

const pct = (share: number) => `${Math.round(share * 100)}%`;

/** Horizontal and vertical third of a point: "at the middle left", or "in the centre". */
function placeWords(cx: number, cy: number, W: number, H: number): string {
  const horizontal = HORIZONTAL_WORDS[cx < W / 3 ? 0 : cx > (2 * W) / 3 ? 2 : 1];
  const vertical = VERTICAL_WORDS[cy < H / 3 ? 0 : cy > (2 * H) / 3 ? 2 : 1];
  return horizontal === "centre" && vertical === "middle" ? "in the centre" : `at the ${vertical} ${horizontal}`;
}

/**
 * The sentence for one region. With detected objects: a region that is an object is named by it ("A large
 * dark red car, …"; hedged: "A possible truck: a large white region, …"), a part says whose ("part of a
 * boat"), and a region something lies on says so ("with a dog on it").
 */
export function describeAttributes(a: RegionAttributes, objects: readonly ObjectRelation[] = [], confident = DEFAULT_RELATION_RULES.confident): string {
  const main = a.colours[0]?.name ?? "colourless";
  const adjectives = [a.size, ...a.tone, main].join(" ");
  const article = /^[aeiou]/.test(adjectives) ? "An" : "A";
  const shape = a.shape.length ? `, ${a.shape.join(", ")}` : "";
  const where = a.horizontal === "centre" && a.vertical === "middle" ? "in the centre" : `at the ${a.vertical} ${a.horizontal === "centre" ? "centre" : a.horizontal}`;
  // The object a region is becomes the sentence's subject (its noun for "region"); a hedged one leads it.
  const is = objects.find((o) => o.kind === "is");
  const hedged = is !== undefined && is.score < confident;
  const noun = is && !hedged ? is.label : "region";
  const lead = hedged ? `A possible ${is.label}: ${article.toLowerCase()}` : article;
  const partOf = objects
    .filter((o) => o.kind === "part")
    .slice(0, 2)
    .map((o) => `, ${o.score < confident ? "possibly " : ""}part of ${objectName(o.label, 1)}`);
  const parts = [`${lead} ${adjectives} ${noun}${partOf.join("")}${shape}, ${where} of the image`];
  if (a.spans.length) parts[0] += `, spanning the ${a.spans.join(" and ")}`;
  // Things on the region, counted per class: "with a dog on it", "with what may be 2 carrots on it".
  const on = new Map<string, number>();
  for (const o of objects) if (o.kind === "holds") on.set(`${o.score < confident ? "what may be " : ""}|${o.label}`, (on.get(`${o.score < confident ? "what may be " : ""}|${o.label}`) ?? 0) + 1);
  const carried = [...on].slice(0, 3).map(([key, n]) => `${key.split("|")[0]}${countedName(key.split("|")[1]!, n)}`);
  if (carried.length) parts[0] += `, with ${carried.join(" and ")} on it`;
  parts[0] += ".";
  if (a.colours.length) parts.push(`Colours: ${a.colours.map((c) => `${c.name} ${pct(c.share)}`).join(", ")}.`);
  parts.push(`${a.texture[0]!.toUpperCase()}${a.texture.slice(1)} surface.`);
  if (a.superlatives.length) parts.push(`The ${a.superlatives.join(" and ")} region.`);
  if (a.insideOf !== undefined) parts.push(`Inside region ${a.insideOf}.`);
  if (a.contains.length) {
    const shown = a.contains.slice(0, 5);
    parts.push(`Contains region${a.contains.length > 1 ? "s" : ""} ${shown.join(", ")}${a.contains.length > 5 ? ` and ${a.contains.length - 5} more` : ""}.`);
  }
  return parts.join(" ");
}

export interface AttributesDescriberOptions {
  /** Most colours named per region (1..5). Default 3. */
  maxColours: number;
}

/** Bumped whenever the words or the palette change, so that cached descriptions of an older version are not reused. */
const DESCRIBER_VERSION = 3;

/**
 * The detected objects for the scene caption: "a car at the middle left; 2 persons (at the top left, in the
 * centre); possibly a truck at the middle right". Empty when nothing was detected.
 */
export function sceneObjects(detections: readonly Detection[], W: number, H: number, confident = DEFAULT_RELATION_RULES.confident): string {
  const objects = distinctObjects(detections);
  const groups = new Map<string, Detection[]>();
  for (const d of objects) {
    const key = `${d.score < confident ? "possibly " : ""}${d.label}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const phrases: [boolean, string][] = [];
  for (const [key, ds] of groups) {
    const hedged = key.startsWith("possibly ");
    const label = ds[0]!.label;
    const places = ds.map((d) => placeWords(d.bbox[0] + d.bbox[2] / 2, d.bbox[1] + d.bbox[3] / 2, W, H));
    const text =
      ds.length === 1
        ? `${objectName(label, 1)} ${places[0]}`
        : `${countedName(label, ds.length)} (${places.join(", ")})`;
    phrases.push([hedged, text]);
  }
  const sure = phrases.filter(([h]) => !h).map(([, t]) => t);
  const maybe = phrases.filter(([h]) => h).map(([, t]) => t);
  return [...sure, ...(maybe.length ? [`possibly ${maybe.join(", ")}`] : [])].join("; ");
}

/** Describes regions, and as a captioner summarises the whole image and its largest regions. */
export class AttributesDescriber implements Describer, Captioner {
  readonly spec: string;
  readonly fingerprint: string;
  readonly options: AttributesDescriberOptions;

  /** With a detector, regions are named by the objects they are, belong to or carry. */
  constructor(spec: string, options: AttributesDescriberOptions, private readonly detector?: Detector) {
    this.spec = spec;
    this.options = options;
    this.fingerprint = `${spec}#v${DESCRIBER_VERSION};maxColours=${options.maxColours}${detector ? `;detector=${detector.fingerprint ?? detector.spec}` : ""}`;
  }

  async describe(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]> {
    const { attributes } = regionAttributes(image, regions, ctx);
    const detections = this.detector ? await this.detector.detect(image, { signal: ctx?.signal }) : [];
    const objects = detections.length ? relateObjects(regions, detections, image.width, image.height) : [];
    return attributes.map((a, i) => describeAttributes({ ...a, colours: a.colours.slice(0, this.options.maxColours) }, objects[i]));
  }

  async caption(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string> {
    // The three largest regions and the whole image, measured by `describe` just before, or in one pass now.
    const areas = checkRegions(image, regions);
    const order = regions.map((_, i) => i).sort((a, b) => areas[b]! - areas[a]! || a - b);
    const top = order.slice(0, 3);
    const { measures, whole } = captionMeasures(image, regions, top, ctx);
    const colours = dominantColours(whole.colourCounts, whole.area, this.options.maxColours, 0.05);
    const L = whole.meanLightness;
    const brightness = L < 30 ? "dark" : L < 50 ? "dim" : L > 70 ? "bright" : "moderately lit";
    const colourful = whole.meanChroma > 40 ? "colourful" : whole.meanChroma < 12 ? "nearly colourless" : "muted";
    const parts = [
      `A ${brightness}, ${colourful} ${image.width}x${image.height} image, mostly ${colours.map((c) => `${c.name} (${pct(c.share)})`).join(", ") || "without a dominant colour"}.`,
    ];
    if (this.detector) {
      const seen = sceneObjects(await this.detector.detect(image, { signal: ctx?.signal }), image.width, image.height);
      parts.push(seen ? `Objects: ${seen}.` : `No object the detector knows (${this.detector.labels.length} classes).`);
    }
    if (regions.length) {
      // Only the three largest regions are named, and none of the words used depends on the other regions.
      ctx?.onProgress?.(regions.length, regions.length);
      const big = top.map((i, t) => {
        const a = ownAttributes(measures[t]!, regions[i]!, image.width, image.height);
        const where = a.horizontal === "centre" && a.vertical === "middle" ? "in the centre" : `at the ${a.vertical} ${a.horizontal}`;
        return `a ${a.size} ${[...a.tone, a.colours[0]?.name ?? ""].join(" ").trim()} region ${where}${a.spans.length ? ` spanning the ${a.spans.join(" and ")}` : ""} (region ${regions[i]!.id})`;
      });
      parts.push(`${regions.length} region${regions.length > 1 ? "s" : ""}; the largest: ${big.join("; ")}.`);
    } else {
      parts.push("No regions.");
    }
    return parts.join(" ");
  }
}

/**
 * Build the describer (or captioner). It takes no spec argument; option `maxColours` (1..5, default 3). With
 * the stack's detector it names the objects regions are, belong to or carry, and the caption lists them.
 */
export const createAttributesDescriber: BackendFactory<AttributesDescriber, AttributesOptions> = async (arg, options, { spec, label, detector }) => {
  if (arg.trim()) throw new UsageError(`${label}: takes no argument (got "${arg}")`);
  return new AttributesDescriber(spec, { maxColours: options.maxColours ?? 3 }, detector);
};
