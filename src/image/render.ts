/**
 * The pictures gear-seg writes: the numbered candidates overlay (what the reasoner's numbers refer to, as
 * in GEAR-Seg's numbered-mask visualisation), the result overlay with its caption, and the binary mask.
 *
 * All painting happens in one RGB buffer: masks are painted as column-major RLE runs into a label map
 * (one `fill` per run), which is transposed once; tint, borders and labels are then single passes.
 */
import { area, decode } from "../masks/rle.js";
import { tightBbox } from "../masks/bbox.js";
import { paintColumnMajor, pointInside } from "../masks/runs.js";
import type { BBox, BinaryMask, Rle } from "../masks/types.js";
import { GearSegError } from "../util/errors.js";
import { encodeMaskPng, encodePng } from "./encode.js";
import { drawText, measureText, wrapText, type Rgb, type TextSize } from "./font.js";
import { contrastingText, regionColour } from "./palette.js";
import { checkRleSize, interiorAnchors, labelBorders, transposeToRowMajor } from "./raster.js";
import type { RgbImage } from "./types.js";

export interface CandidateRegion {
  readonly id: number;
  readonly rle: Rle;
  readonly bbox: BBox;
  readonly area: number;
}

export interface RenderCandidatesOptions {
  /** Opacity of the region tint (default 0.45). */
  alpha?: number;
  /** Font scale of the numbers (default: from the image size, about 1/40 of its shorter side tall). */
  labelScale?: number;
}

export interface OverlayRegion {
  readonly id: number;
  readonly rle: Rle;
}

export interface RenderOverlayOptions {
  /** Drawn in a band above the image, wrapped to its width (e.g. `query → masks 3, 8`). */
  caption?: string;
  /** The answer's union mask; pixels outside it are dimmed (default: the union of `chosen`). */
  union?: Rle;
  /** Opacity of the region tint (default 0.45). */
  alpha?: number;
  /** Brightness kept outside the union, 0..1 (default 0.6; 1 = no dimming). */
  dimOutside?: number;
  /** Contour width in pixels (default 2, wider on large images). */
  outlineWidth?: number;
  labelScale?: number;
}

const DEFAULT_ALPHA = 0.45;
const LABEL_OUTLINE: Rgb = [20, 20, 20];

function checkImage(image: RgbImage, what: string): void {
  if (image.data.length !== image.width * image.height * 3) {
    throw new GearSegError(`${what}: image data has ${image.data.length} bytes for ${image.width}×${image.height} RGB`);
  }
}

function checkAlpha(alpha: number): number {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`tint alpha must be in 0..1 (got ${alpha})`);
  return alpha;
}

/** Default label font scale: digits about 1/45 of the shorter image side tall, at least 1. */
export function defaultLabelScale(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / (45 * 7)));
}

/**
 * Paints regions (in `order`, later ones on top) into a row-major label map: label k + 1 for rles[k],
 * 0 where no region is.
 */
function labelMap(rles: readonly Rle[], order: readonly number[], width: number, height: number): Uint16Array {
  if (rles.length > 65535) throw new GearSegError(`cannot draw ${rles.length} regions in one picture (at most 65535)`);
  const col = new Uint16Array(width * height);
  for (const k of order) paintColumnMajor(col, rles[k]!, k + 1);
  return transposeToRowMajor(col, width, height, new Uint16Array(width * height));
}

/** Per-label colour table: entry l * 3 .. l * 3 + 2 for label l (label 0 unused). */
function colourTable(ids: readonly number[]): Uint8Array {
  const table = new Uint8Array((ids.length + 1) * 3);
  ids.forEach((id, k) => table.set(regionColour(id), (k + 1) * 3));
  return table;
}

/** out = src blended towards the label's colour with `alpha` (8-bit fixed point), where label > 0;
 * border pixels get the label colour darkened, so outlines read on both the tint and the photo. */
function tintAndOutline(
  out: Uint8Array,
  labels: Uint16Array,
  colours: Uint8Array,
  alpha: number,
  border: Uint8Array | undefined,
): void {
  const a = Math.round(alpha * 256);
  const keep = 256 - a;
  const n = labels.length;
  for (let p = 0; p < n; p++) {
    const l = labels[p]!;
    if (l === 0) continue;
    const o = p * 3;
    const c = l * 3;
    if (border && border[p]) {
      out[o] = (colours[c]! * 180) >> 8;
      out[o + 1] = (colours[c + 1]! * 180) >> 8;
      out[o + 2] = (colours[c + 2]! * 180) >> 8;
    } else {
      out[o] = (out[o]! * keep + colours[c]! * a) >> 8;
      out[o + 1] = (out[o + 1]! * keep + colours[c + 1]! * a) >> 8;
      out[o + 2] = (out[o + 2]! * keep + colours[c + 2]! * a) >> 8;
    }
  }
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The box of a number label centred on (cx, cy), moved inside the image. */
function labelBox(width: number, height: number, cx: number, cy: number, size: TextSize, scale: number): Box {
  const pad = scale + 1;
  const w = size.width + 2 * pad;
  const h = size.height - 2 * scale + 2 * pad; // digits have no descenders: trim the two empty rows
  const x = Math.max(1, Math.min(width - w - 1, Math.round(cx - w / 2)));
  const y = Math.max(1, Math.min(height - h - 1, Math.round(cy - h / 2)));
  return { x, y, w, h };
}

/** A number in a filled box of the region's colour with a dark rim. */
function paintLabel(out: Uint8Array, width: number, height: number, box: Box, text: string, colour: Rgb, scale: number): void {
  fillRect(out, width, height, box.x - 1, box.y - 1, box.w + 2, box.h + 2, LABEL_OUTLINE);
  fillRect(out, width, height, box.x, box.y, box.w, box.h, colour);
  const pad = scale + 1;
  drawText(out, width, height, box.x + pad, box.y + pad, text, { scale, color: contrastingText(colour) });
}

/** Shifts (in label boxes) tried around a region's best spot when all its inner spots are taken. */
const NEIGHBOUR_SHIFTS: readonly [number, number][] = [
  [0, -1], [0, 1], [-1, 0], [1, 0], [-1, -1], [1, -1], [-1, 1], [1, 1], [0, -2], [0, 2], [-2, 0], [2, 0],
];

const overlapArea = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x + a.w + 2, b.x + b.w + 2) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h + 2, b.y + b.h + 2) - Math.max(a.y, b.y));

/**
 * Numbers every region at a point inside its visible part. Small regions choose first (they have the
 * fewest good spots); each takes its best interior point whose label box does not cover an earlier label,
 * else the candidate that covers least. `paintOrder` lists region indices largest first; labels are painted
 * in that order so that small regions' numbers end up on top if boxes must overlap.
 */
function placeAndDrawLabels(
  out: Uint8Array,
  width: number,
  height: number,
  labels: Uint16Array,
  items: readonly { id: number; rle: Rle; bbox: BBox }[],
  paintOrder: readonly number[],
  scale: number,
): void {
  const placed: Box[] = [];
  const boxes = new Map<number, Box>();
  for (let n = paintOrder.length - 1; n >= 0; n--) {
    const k = paintOrder[n]!;
    const item = items[k]!;
    const text = String(item.id);
    const size = measureText(text, scale);
    // The best spot first; alternatives (costlier: a sort of the grid) only when it is taken.
    let anchors = interiorAnchors(labels, width, height, k + 1, item.bbox, 1);
    if (anchors.length === 1 && placed.some((b) => overlapArea(b, labelBox(width, height, anchors[0]![0], anchors[0]![1], size, scale)) > 0)) {
      anchors = interiorAnchors(labels, width, height, k + 1, item.bbox, 12);
    }
    if (anchors.length === 0) {
      const inside = pointInside(item.rle);
      if (!inside) continue; // empty mask: nothing to number
      anchors = [inside];
    }
    let chosen: Box | undefined;
    let least = Infinity;
    const consider = (cx: number, cy: number) => {
      const box = labelBox(width, height, cx, cy, size, scale);
      let cover = 0;
      for (const other of placed) cover += overlapArea(box, other);
      if (cover < least) {
        least = cover;
        chosen = box;
      }
    };
    for (const [ax, ay] of anchors) {
      consider(ax, ay);
      if (least === 0) break;
    }
    if (least > 0) {
      // Every spot inside is taken (a small region in a crowd): move the label next to its best spot,
      // one box width or height away, rather than over another number.
      const [ax, ay] = anchors[0]!;
      const bw = size.width + 2 * scale + 4;
      const bh = size.height + 4;
      for (const [dx, dy] of NEIGHBOUR_SHIFTS) {
        consider(ax + dx * bw, ay + dy * bh);
        if (least === 0) break;
      }
    }
    placed.push(chosen!);
    boxes.set(k, chosen!);
  }
  for (const k of paintOrder) {
    const box = boxes.get(k);
    if (box) paintLabel(out, width, height, box, String(items[k]!.id), regionColour(items[k]!.id), scale);
  }
}

function fillRect(out: Uint8Array, width: number, height: number, x: number, y: number, w: number, h: number, colour: Rgb): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(width, x + w);
  const y1 = Math.min(height, y + h);
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const o = (py * width + px) * 3;
      out[o] = colour[0];
      out[o + 1] = colour[1];
      out[o + 2] = colour[2];
    }
  }
}

/**
 * The candidates picture as raw RGB: every region tinted in its own colour (by id), larger regions first so
 * small ones stay visible on top, 1-px borders, and each region's number at the point of its visible part
 * farthest from its border.
 */
export function renderCandidatesRgb(image: RgbImage, regions: readonly CandidateRegion[], options: RenderCandidatesOptions = {}): RgbImage {
  checkImage(image, "renderCandidates");
  const { width, height } = image;
  regions.forEach((r) => checkRleSize(r.rle, width, height, `renderCandidates: region ${r.id}`));
  const alpha = checkAlpha(options.alpha ?? DEFAULT_ALPHA);
  const order = regions.map((_, k) => k).sort((a, b) => regions[b]!.area - regions[a]!.area || a - b);
  const labels = labelMap(
    regions.map((r) => r.rle),
    order,
    width,
    height,
  );
  const colours = colourTable(regions.map((r) => r.id));
  const out = image.data.slice();
  tintAndOutline(out, labels, colours, alpha, labelBorders(labels, width, height, 1));
  placeAndDrawLabels(out, width, height, labels, regions, order, options.labelScale ?? defaultLabelScale(width, height));
  return { width, height, data: out, source: image.source };
}

/** The candidates picture as PNG; see `renderCandidatesRgb`. */
export async function renderCandidates(image: RgbImage, regions: readonly CandidateRegion[], options?: RenderCandidatesOptions): Promise<Buffer> {
  return encodePng(renderCandidatesRgb(image, regions, options));
}

/**
 * The result picture as raw RGB: outside the answer the photo is dimmed; each chosen region is tinted and
 * outlined (2 px) in its colour and numbered; the caption, if any, goes in a dark band above the image,
 * wrapped to its width, with a font scaled to the width.
 */
export function renderOverlayRgb(image: RgbImage, chosen: readonly OverlayRegion[], options: RenderOverlayOptions = {}): RgbImage {
  checkImage(image, "renderOverlay");
  const { width, height } = image;
  chosen.forEach((r) => checkRleSize(r.rle, width, height, `renderOverlay: region ${r.id}`));
  if (options.union) checkRleSize(options.union, width, height, "renderOverlay: union");
  const alpha = checkAlpha(options.alpha ?? DEFAULT_ALPHA);
  const dim = checkAlpha(options.dimOutside ?? 0.6);
  const areas = chosen.map((r) => area(r.rle));
  const order = chosen.map((_, k) => k).sort((a, b) => areas[b]! - areas[a]! || a - b);
  const labels = labelMap(
    chosen.map((r) => r.rle),
    order,
    width,
    height,
  );
  const img = image.data.slice();
  if (dim < 1 && (chosen.length > 0 || options.union)) {
    const inside = options.union ? decode(options.union).data : undefined;
    const keep = Math.round(dim * 256);
    for (let p = 0; p < labels.length; p++) {
      if (inside ? inside[p] : labels[p]) continue;
      const o = p * 3;
      img[o] = (img[o]! * keep) >> 8;
      img[o + 1] = (img[o + 1]! * keep) >> 8;
      img[o + 2] = (img[o + 2]! * keep) >> 8;
    }
  }
  const outline = options.outlineWidth ?? Math.max(2, Math.round(Math.min(width, height) / 500));
  tintAndOutline(img, labels, colourTable(chosen.map((r) => r.id)), alpha, labelBorders(labels, width, height, outline, true));
  const items = chosen.map((r) => ({ id: r.id, rle: r.rle, bbox: tightBbox(r.rle) ?? [0, 0, 0, 0] }));
  placeAndDrawLabels(img, width, height, labels, items, order, options.labelScale ?? defaultLabelScale(width, height));
  const caption = options.caption?.trim();
  if (!caption) return { width, height, data: img, source: image.source };
  return withCaptionBand({ width, height, data: img, source: image.source }, caption);
}

/** The result picture as PNG; see `renderOverlayRgb`. */
export async function renderOverlay(image: RgbImage, chosen: readonly OverlayRegion[], options?: RenderOverlayOptions): Promise<Buffer> {
  return encodePng(renderOverlayRgb(image, chosen, options));
}

const BAND_BACKGROUND: Rgb = [24, 26, 30];
const BAND_TEXT: Rgb = [245, 245, 245];

/** Font scale for captions: about 80–110 characters per line whatever the image width. */
export function captionScale(width: number): number {
  return Math.max(1, Math.floor(width / 480));
}

/** A copy of `image` with `caption` in a dark band above it. */
export function withCaptionBand(image: RgbImage, caption: string): RgbImage {
  const { width, height } = image;
  const scale = captionScale(width);
  const margin = 4 * scale;
  const lines = wrapText(caption, width - 2 * margin, scale);
  const textH = measureText(lines.join("\n"), scale).height;
  const band = textH + 2 * margin;
  const outH = height + band;
  const data = new Uint8Array(width * outH * 3);
  for (let p = 0; p < width * band; p++) data.set(BAND_BACKGROUND, p * 3);
  data.set(image.data, width * band * 3);
  drawText(data, width, outH, margin, margin, lines.join("\n"), { scale, color: BAND_TEXT });
  return { width, height: outH, data, source: image.source };
}

/** A 0/255 grey PNG of a mask (RLE or row-major binary mask). */
export async function renderMaskPng(mask: Rle | BinaryMask): Promise<Buffer> {
  if ("counts" in mask) return encodeMaskPng({ width: mask.width, height: mask.height, data: decode(mask).data });
  return encodeMaskPng(mask);
}
