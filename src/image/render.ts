/**
 * The pictures gear-seg writes: the numbered candidates picture (what the reasoner's numbers refer to, as
 * in GEAR-Seg's numbered-mask visualisation), the result overlay with its caption, and the binary mask.
 *
 * All painting happens in one RGB buffer: masks are painted into a row-major label map, each pixel once
 * (src/masks `paintStackRowMajor`), which also counts each region's visible pixels; tint, borders and
 * outlines are then single passes, and the number labels are placed without overlaps (labels.ts).
 */
import { tightBbox } from "../masks/bbox.js";
import { area, decode } from "../masks/index.js";
import { forEachColumnSpan, foregroundAt, paintRowMajor, paintStackRowMajor, pointInside } from "../masks/runs.js";
import type { BBox, BinaryMask, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { captionBand, drawCaptionBand } from "./caption.js";
import { squaredDistanceWithin } from "./distance.js";
import { blendPixel } from "./draw.js";
import { encodeGreyPng, encodeMaskPng, encodePicture, type PictureFormat } from "./encode.js";
import type { Rgb } from "./font.js";
import { drawLabels, labelBoxSize, placeLabels, type LabelRequest, type PlacedLabel } from "./labels.js";
import { regionColour } from "./palette.js";
import { checkRleSize } from "./raster.js";
import type { RgbImage } from "./types.js";

export interface CandidateRegion {
  readonly id: number;
  readonly rle: Rle;
  readonly bbox: BBox;
  readonly area: number;
}

export interface RenderCandidatesOptions {
  /** Opacity of the tint of small regions (default 0.45); large regions get less, down to 0.35 × this, so
   * that the background's big regions do not drown the photo and the small ones on it. */
  alpha?: number;
  /** Font scale of the numbers (default: from the image size and the number of regions). */
  labelScale?: number;
  /** Encoding of `renderCandidates` (default png). */
  format?: PictureFormat;
}

export interface OverlayRegion {
  readonly id: number;
  readonly rle: Rle;
}

export interface RenderOverlayOptions {
  /** Drawn in a band above the image, wrapped to its width and cut to a few lines (e.g. the query). */
  caption?: string;
  /** Shown whole after the caption and an arrow, however long the caption (e.g. `masks 3, 8`). */
  captionTail?: string;
  /** The answer's union mask; pixels outside it are dimmed (default: the union of `chosen`). Decoded already
   * (non-zero inside, e.g. `maskGrey`'s, which mask.png is written from) it is not decoded again. */
  union?: Rle | BinaryMask;
  /** Brightness kept outside the union, 0..1 (default 0.5; 1 = no dimming). Outside is also half greyed. */
  dimOutside?: number;
  /** Width of the outline drawn around each chosen region, outside it, in pixels (default from the image
   * size, at least 2). */
  outlineWidth?: number;
  labelScale?: number;
  /** Encoding of `renderOverlay` (default png). */
  format?: PictureFormat;
}

/** A rendered picture and where its number labels went (boxes in the picture's coordinates). */
export interface LabelledPicture extends RgbImage {
  readonly labels: readonly PlacedLabel[];
}

const DEFAULT_ALPHA = 0.45;
/** A region with less than this share of its pixels visible is numbered as one under others (labels.ts). */
const UNDER_SHARE = 0.25;
const RIM: Rgb = [20, 20, 20];

function checkImage(image: RgbImage, what: string): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new GearSegError(`${what}: image data has ${image.data.length} bytes for ${image.width}×${image.height} RGB`);
  }
}

function checkFraction(value: number, what: string): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${what} must be in 0..1 (got ${value})`);
  return value;
}

/** Default label font scale: digits about 1/45 of the shorter image side tall; at least 2 (14-px digits)
 * once the image is 240 px or more. */
export function defaultLabelScale(width: number, height: number): number {
  const side = Math.min(width, height);
  return Math.max(side >= 240 ? 2 : 1, Math.round(side / (45 * 7)));
}

/** Label scale for `count` numbered regions: the default, made smaller when the labels would cover more
 * than about a seventh of the picture (200 regions on a photo), so that they all find a free spot. */
export function candidatesLabelScale(width: number, height: number, count: number): number {
  const scale = defaultLabelScale(width, height);
  if (count === 0) return scale;
  const unit = labelBoxSize(String(Math.max(10, count - 1)), 1);
  const fits = Math.floor(Math.sqrt((0.15 * width * height) / (count * unit.w * unit.h)));
  return Math.max(1, Math.min(scale, fits));
}

/**
 * Paints regions (in `order`, later ones on top) into a row-major label map: label k + 1 for rles[k],
 * 0 where no region is; with the pixels left of each label (`labelCounts`), counted as they are painted.
 */
function labelMap(rles: readonly Rle[], order: readonly number[], width: number, height: number): { labels: Uint16Array; counts: Float64Array } {
  if (rles.length > 65535) throw new GearSegError(`cannot draw ${rles.length} regions in one picture (at most 65535)`);
  const labels = new Uint16Array(width * height);
  const counts = new Float64Array(rles.length + 1);
  paintStackRowMajor(
    labels,
    order.map((k) => rles[k]!),
    Int32Array.from(order, (k) => k + 1),
    width,
    height,
    counts,
  );
  return { labels, counts };
}

/** Per-label colour table: entry l * 3 .. l * 3 + 2 for label l (label 0 unused). */
function colourTable(ids: readonly number[]): Uint8Array {
  const table = new Uint8Array((ids.length + 1) * 3);
  ids.forEach((id, k) => table.set(regionColour(id), (k + 1) * 3));
  return table;
}

/** Tint opacity (8-bit fixed point) of a region covering `fraction` of the image: `alpha` up to 0.5% of
 * the image, falling with the logarithm of the area to 0.35 × `alpha` at 20% and beyond. */
function tintOpacity(fraction: number, alpha: number): number {
  const t = Math.min(1, Math.max(0, Math.log(fraction / 0.005) / Math.log(0.2 / 0.005)));
  return Math.round(256 * alpha * (1 - 0.65 * t));
}

/**
 * Tints every labelled pixel in its region's colour and darkens region borders. A border pixel's weight is
 * the share of its 8 neighbours in another region (full from 3 on), which softens the stairs of diagonal
 * edges instead of drawing a hard 1-px staircase.
 */
function tintWithSoftBorders(out: Uint8Array, labels: Uint16Array, width: number, height: number, colours: Uint8Array, opacity: Uint16Array): void {
  // Each row's neighbours above and below (none at the picture's edges) are worked out here: statements before
  // a row's loop had no type feedback when the row function was first optimised (its feedback vector is made
  // during the first row's loop), and threw that code away on the second row.
  for (let y = 0; y < height; y++) tintRow(out, labels, width, colours, opacity, y, y > 0 ? -width : 0, y < height - 1 ? width : 0);
}

/** tintWithSoftBorders for row y: a function of its own, optimised once for all rows (a loop over the whole
 * picture was compiled on the stack, and again when the code after it ran). */
function tintRow(out: Uint8Array, labels: Uint16Array, width: number, colours: Uint8Array, opacity: Uint16Array, y: number, up: number, down: number): void {
  for (let x = 0; x < width; x++) {
    const p = y * width + x;
    const l = labels[p]!;
    if (l === 0) continue;
    const left = x > 0 ? -1 : 0;
    const right = x < width - 1 ? 1 : 0;
    let n = 0;
    if (labels[p + left] !== l) n++;
    if (labels[p + right] !== l) n++;
    if (labels[p + up] !== l) n++;
    if (labels[p + down] !== l) n++;
    if (labels[p + up + left] !== l) n++;
    if (labels[p + up + right] !== l) n++;
    if (labels[p + down + left] !== l) n++;
    if (labels[p + down + right] !== l) n++;
    const o = p * 3;
    const c = l * 3;
    const a = opacity[l]!;
    const keep = 256 - a;
    let r = (out[o]! * keep + colours[c]! * a) >> 8;
    let g = (out[o + 1]! * keep + colours[c + 1]! * a) >> 8;
    let b = (out[o + 2]! * keep + colours[c + 2]! * a) >> 8;
    if (n > 0) {
      // Border: towards the region colour at 70% brightness, with weight n/3 (at most 90%).
      const w = Math.round((Math.min(3, n) * 230) / 3);
      const k = 256 - w;
      r = (r * k + ((colours[c]! * 180) >> 8) * w) >> 8;
      g = (g * k + ((colours[c + 1]! * 180) >> 8) * w) >> 8;
      b = (b * k + ((colours[c + 2]! * 180) >> 8) * w) >> 8;
    }
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
  }
}

/**
 * The candidates picture as raw RGB: every region tinted in its own colour (by id; large regions lightly),
 * larger regions first so small ones stay visible on top, soft borders, and each region's number: inside it
 * where it fits, else beside it with a leader line; no two numbers overlap.
 */
export function renderCandidatesRgb(image: RgbImage, regions: readonly CandidateRegion[], options: RenderCandidatesOptions = {}): LabelledPicture {
  checkImage(image, "renderCandidates");
  const { width, height } = image;
  regions.forEach((r) => checkRleSize(r.rle, width, height, `renderCandidates: region ${r.id}`));
  const alpha = checkFraction(options.alpha ?? DEFAULT_ALPHA, "tint alpha");
  const order = regions.map((_, k) => k).sort((a, b) => regions[b]!.area - regions[a]!.area || a - b);
  const { labels, counts: visible } = labelMap(
    regions.map((r) => r.rle),
    order,
    width,
    height,
  );
  const opacity = new Uint16Array(regions.length + 1);
  regions.forEach((r, k) => (opacity[k + 1] = tintOpacity(r.area / (width * height), alpha)));
  const out = image.data.slice();
  tintWithSoftBorders(out, labels, width, height, colourTable(regions.map((r) => r.id)), opacity);
  const scale = options.labelScale ?? candidatesLabelScale(width, height, regions.length);
  // A region mostly under smaller ones (a whole under its parts) is numbered near its middle, not at the
  // few pixels of it that show.
  const under = (k: number) => visible[k + 1]! < UNDER_SHARE * regions[k]!.area;
  // Small regions choose first (they have the fewest good spots), regions under others last.
  const byArea = order.slice().reverse();
  const requests = [...byArea.filter((k) => !under(k)), ...byArea.filter(under)]
    .map((k): LabelRequest | undefined => {
      const r = regions[k]!;
      const point = under(k) ? (pixelNearMiddle(r.rle, r.bbox) ?? pointInside(r.rle)) : pointInside(r.rle);
      if (!point) return undefined; // an empty mask has nothing to number
      return { value: k + 1, text: String(r.id), colour: regionColour(r.id), bbox: r.bbox, fallback: point, underOthers: under(k) };
    })
    .filter((q): q is LabelRequest => q !== undefined);
  const { placed } = placeLabels(labels, width, height, requests, { scale, allowInside: true, counts: visible });
  drawLabels(out, width, height, placed, scale);
  return { width, height, data: out, source: image.source, labels: placed };
}

/** The candidates picture, encoded (PNG unless `options.format` says jpg); see `renderCandidatesRgb`. */
export async function renderCandidates(image: RgbImage, regions: readonly CandidateRegion[], options: RenderCandidatesOptions = {}): Promise<Buffer> {
  return encodePicture(renderCandidatesRgb(image, regions, options), options.format);
}

/** The pixel of a mask nearest the middle of its bbox among a 9 × 9 lattice over the bbox (ties: the first in
 * rows of the lattice, top row first); undefined when no lattice point is inside. Membership is read in one
 * walk over the runs (lattice in column order), so no mask is decoded and nothing is sorted. */
function pixelNearMiddle(rle: Rle, bbox: BBox): [number, number] | undefined {
  const xs = new Int32Array(81);
  const ys = new Int32Array(81);
  for (let i = 0; i < 9; i++) {
    for (let j = 0; j < 9; j++) {
      xs[i * 9 + j] = Math.floor(bbox[0] + ((i + 0.5) * bbox[2]) / 9);
      ys[i * 9 + j] = Math.floor(bbox[1] + ((j + 0.5) * bbox[3]) / 9);
    }
  }
  const inside = foregroundAt(rle, xs, ys);
  const cx = bbox[0] + bbox[2] / 2;
  const cy = bbox[1] + bbox[3] / 2;
  let best = -1;
  let bestD = Infinity;
  let bestRank = Infinity;
  for (let q = 0; q < 81; q++) {
    if (!inside[q]) continue;
    const d = Math.hypot(xs[q]! - cx, ys[q]! - cy);
    const rank = (q % 9) * 9 + Math.floor(q / 9); // row-major rank in the lattice: the order ties are broken in
    // every comparison made on every point (a tie first met late threw the optimised code away)
    if (Number(d < bestD) | (Number(d === bestD) & Number(rank < bestRank))) {
      best = q;
      bestD = d;
      bestRank = rank;
    }
  }
  return best < 0 ? undefined : [xs[best]!, ys[best]!];
}

/** The photo into `img`: inside the union as it is; outside half greyed, then darkened to `dim` (1: as is). */
function copyDimmed(img: Uint8Array, src: Uint8Array, inside: Uint8Array, dim: number): void {
  if (dim >= 1) {
    img.set(src);
    return;
  }
  const keep = Math.round(dim * 256);
  // Both values are computed for every pixel and one is kept: the answer's pixels come late in the scan, and
  // a branch for them had no type feedback when the loop was optimised (its first pixel threw that code away).
  for (let p = 0; p < inside.length; p++) {
    const o = p * 3;
    const r = src[o]!;
    const g = src[o + 1]!;
    const b = src[o + 2]!;
    const y = (77 * r + 150 * g + 29 * b) >> 8;
    const asIs = inside[p] !== 0;
    img[o] = asIs ? r : (((r + y) >> 1) * keep) >> 8;
    img[o + 1] = asIs ? g : (((g + y) >> 1) * keep) >> 8;
    img[o + 2] = asIs ? b : (((b + y) >> 1) * keep) >> 8;
  }
}

/**
 * The outline of one region, drawn outside it and never over the answer (`inside`): a band of `lineWidth`
 * pixels in `colour` over a dark rim one pixel wider, both anti-aliased by their exact Euclidean distance
 * from the region, so the outline is as smooth as the mask allows at any angle.
 */
function outlineRegion(img: Uint8Array, width: number, height: number, rle: Rle, bbox: BBox, inside: Uint8Array, lineWidth: number, colour: Rgb): void {
  const reach = lineWidth + 2;
  const margin = Math.ceil(reach);
  const x0 = Math.max(0, bbox[0] - margin);
  const y0 = Math.max(0, bbox[1] - margin);
  const x1 = Math.min(width, bbox[0] + bbox[2] + margin);
  const y1 = Math.min(height, bbox[1] + bbox[3] + margin);
  const w = x1 - x0;
  const h = y1 - y0;
  if (w <= 0 || h <= 0) return;
  // The mask within the window only (the window reaches past the mask by the reach, or ends at the image's
  // edge, so the window's edges stand for the image's).
  const mask = new Uint8Array(w * h);
  forEachColumnSpan(rle, (x, ys, len) => {
    for (let y = ys; y < ys + len; y++) mask[(y - y0) * w + x - x0] = 1;
  });
  const { d2, band } = squaredDistanceWithin(mask, w, h, 0, 0, w, h, reach);
  for (let i = 0; i < band.length; i++) {
    const q = band[i]!;
    const x = q % w;
    const p = (y0 + (q - x) / w) * width + x0 + x;
    if (inside[p]) continue;
    // Pixel centres at distance 1 touch the region; the colour band covers up to lineWidth, the rim one more.
    const d = Math.sqrt(d2[q]!);
    blendPixel(img, p, RIM, 0.75 * Math.min(1, lineWidth + 2 - d));
    const cover = lineWidth + 1 - d;
    if (cover > 0) blendPixel(img, p, colour, Math.min(1, cover));
  }
}

/** A thin line in each region's colour where two chosen regions touch, so that parts stay apart. */
function separateTouching(img: Uint8Array, labels: Uint16Array, width: number, height: number, colours: Uint8Array, boxes: readonly BBox[]): void {
  const x0 = Math.min(...boxes.map((b) => b[0]));
  const y0 = Math.min(...boxes.map((b) => b[1]));
  const x1 = Math.max(...boxes.map((b) => b[0] + b[2]));
  const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = y * width + x;
      const l = labels[p]!;
      if (l === 0) continue;
      const left = x > 0 ? labels[p - 1]! : 0;
      const right = x < width - 1 ? labels[p + 1]! : 0;
      const up = y > 0 ? labels[p - width]! : 0;
      const down = y < height - 1 ? labels[p + width]! : 0;
      const touches = (left !== 0 && left !== l) || (right !== 0 && right !== l) || (up !== 0 && up !== l) || (down !== 0 && down !== l);
      if (!touches) continue;
      const o = p * 3;
      const c = l * 3;
      for (let i = 0; i < 3; i++) img[o + i] = (img[o + i]! * 77 + colours[c + i]! * 179) >> 8;
    }
  }
}

/**
 * The result picture as raw RGB: the chosen regions keep the photo's own colours; everything else is dimmed
 * and half greyed; each chosen region is outlined outside its edge in its colour and numbered beside it (a
 * leader line points at it); the caption, if any, goes in a dark band above the image.
 */
export function renderOverlayRgb(image: RgbImage, chosen: readonly OverlayRegion[], options: RenderOverlayOptions = {}): LabelledPicture {
  checkImage(image, "renderOverlay");
  const { width, height } = image;
  chosen.forEach((r) => checkRleSize(r.rle, width, height, `renderOverlay: region ${r.id}`));
  const union = options.union;
  if (union && "counts" in union) checkRleSize(union, width, height, "renderOverlay: union");
  else if (union && (union.width !== width || union.height !== height || union.data.length !== width * height)) {
    throw new GearSegError(`renderOverlay: union mask is ${union.width}×${union.height} but the image is ${width}×${height}`);
  }
  const dim = checkFraction(options.dimOutside ?? 0.5, "dimOutside");
  const areas = chosen.map((r) => area(r.rle));
  const order = chosen.map((_, k) => k).sort((a, b) => areas[b]! - areas[a]! || a - b);
  const { labels, counts } = labelMap(
    chosen.map((r) => r.rle),
    order,
    width,
    height,
  );
  let inside: Uint8Array;
  if (union) inside = "counts" in union ? decode(union).data : union.data;
  else {
    inside = new Uint8Array(width * height);
    for (let p = 0; p < inside.length; p++) inside[p] = labels[p] ? 1 : 0;
  }
  // The picture is painted in place: the caption band (if any) above, the photo below it, one buffer.
  const caption = options.caption?.trim() ?? "";
  const tail = options.captionTail?.trim() ?? "";
  const band = caption || tail ? captionBand(width, height, caption, tail) : undefined;
  const shift = band ? band.height : 0;
  const outH = height + shift;
  const data = new Uint8Array(width * outH * 3);
  const img = shift ? data.subarray(width * shift * 3) : data;
  copyDimmed(img, image.data, inside, dim < 1 && (chosen.length > 0 || union) ? dim : 1);
  const lineWidth = options.outlineWidth ?? Math.max(2, Math.round(Math.min(width, height) / 300));
  if (!(lineWidth > 0 && lineWidth <= 64)) throw new RangeError(`outline width must be in (0, 64] pixels (got ${lineWidth})`);
  const boxes: BBox[] = [];
  for (const k of order) {
    const r = chosen[k]!;
    const bbox = tightBbox(r.rle);
    if (!bbox) continue;
    boxes.push(bbox);
    outlineRegion(img, width, height, r.rle, bbox, inside, lineWidth, regionColour(r.id));
  }
  if (boxes.length > 1) separateTouching(img, labels, width, height, colourTable(chosen.map((r) => r.id)), boxes);
  const scale = options.labelScale ?? defaultLabelScale(width, height);
  const requests = order
    .slice()
    .reverse()
    .map((k): LabelRequest => {
      const r = chosen[k]!;
      const point = pointInside(r.rle);
      return { value: k + 1, text: String(r.id), colour: regionColour(r.id), bbox: tightBbox(r.rle) ?? [0, 0, 0, 0], ...(point && { fallback: point }) };
    })
    .filter((q) => q.fallback !== undefined);
  const { placed } = placeLabels(labels, width, height, requests, { scale, allowInside: false, avoid: inside, counts });
  drawLabels(img, width, height, placed, scale);
  if (!band) return { width, height, data, source: image.source, labels: placed };
  drawCaptionBand(data, width, outH, band);
  // The band is above: label boxes move down with the photo.
  const moved = placed.map((l) => ({
    ...l,
    box: { ...l.box, y: l.box.y + shift },
    ...(l.leader && { leader: { ...l.leader, y0: l.leader.y0 + shift, y1: l.leader.y1 + shift } }),
  }));
  return { width, height: outH, data, source: image.source, labels: moved };
}

/** The result picture, encoded (PNG unless `options.format` says jpg); see `renderOverlayRgb`. */
export async function renderOverlay(image: RgbImage, chosen: readonly OverlayRegion[], options: RenderOverlayOptions = {}): Promise<Buffer> {
  return encodePicture(renderOverlayRgb(image, chosen, options), options.format);
}

/** A 0/255 grey PNG of a mask (RLE or row-major binary mask). */
export async function renderMaskPng(mask: Rle | BinaryMask): Promise<Buffer> {
  if ("counts" in mask) return encodeGreyPng(maskGrey(mask));
  return encodeMaskPng(mask);
}

/** A mask as row-major 0/255 grey pixels: what mask.png holds, and a decoded `union` for `renderOverlay`. */
export function maskGrey(rle: Rle): BinaryMask {
  const { width, height } = rle;
  const n = width * height;
  // A small mask: its pixels set straight (a write per pixel); a large one: decoded, then 1 → 255.
  if (area(rle) <= n / 4) {
    const data = new Uint8Array(n);
    paintRowMajor(data, rle, 255);
    return { width, height, data };
  }
  const data = decode(rle).data;
  for (let p = 0; p < n; p++) if (data[p]) data[p] = 255;
  return { width, height, data };
}
