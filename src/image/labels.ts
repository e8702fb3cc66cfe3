/**
 * Number labels for regions, placed so that no two overlap: inside a region when its visible part holds
 * the label with room to spare, otherwise beside it with a leader line to the region. Placement is greedy
 * and works on the label map the picture was painted from (value k on region k's visible pixels).
 *
 * A coarse occupancy grid (cells of `CELL` px) records the boxes and leader lines placed so far, so testing a
 * spot costs a few dozen cell reads: boxes never touch boxes or leaders, leaders never cross boxes.
 */
import type { BBox } from "../masks/types.js";
import { drawSegment, fillDisc, fillRect } from "./draw.js";
import { drawText, measureText, type Rgb } from "./font.js";
import { contrastingText } from "./palette.js";
import { interiorAnchors } from "./raster.js";

export interface LabelRequest {
  /** The region's value in the label map. */
  readonly value: number;
  readonly text: string;
  readonly colour: Rgb;
  /** Where the region can be: its anchor is searched inside this box. */
  readonly bbox: BBox;
  /** A pixel of the region to point at when none of it is visible in the label map (it lies under others). */
  readonly fallback?: readonly [number, number];
  /** The region lies mostly under smaller ones (a whole under its parts): its few visible pixels would
   * misplace its number, which goes as near `fallback` (a pixel of it near its middle) as is free, in a
   * light box that tells it apart from the numbers of the parts around. */
  readonly underOthers?: boolean;
}

export interface LabelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedLabel {
  readonly request: LabelRequest;
  readonly box: LabelBox;
  /** For a label beside its region: the line from the box to the region. */
  readonly leader?: Leader;
}

/** A leader line from a label's box to its region; `dot` marks its end on the region. */
export interface Leader {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  dot: boolean;
}

export interface PlaceLabelsOptions {
  /** Font scale of the label text. */
  scale: number;
  /** Whether a label may sit inside its region (candidates) or always beside it (the result overlay). */
  allowInside: boolean;
  /** `labelCounts(labels, …)` when the caller has it already (one pass over the picture less). */
  counts?: Float64Array;
  /** Row-major 0/1 pixels that labels and leader lines keep off (the chosen objects on the result
   * overlay): leaders end just before them, without a dot. */
  avoid?: Uint8Array;
}

export interface LabelPlacement {
  placed: PlacedLabel[];
  /** Labels for which no free spot was left in the picture (only on pictures too small for their labels). */
  omitted: LabelRequest[];
}

const CELL = 4;
const BOX_BIT = 1;
const LEADER_BIT = 2;
/** Free space kept around every box, in pixels. */
const GAP = 2;
/** Weight of a covered pixel, by what it belongs to: the answer or the region itself, a small region, a
 * mid-sized one, a large (background) one. Cost of a spot = leader length in box heights + COVER × mean weight. */
const W_AVOID = 1;
const W_SMALL = 1;
const W_MID = 0.25;
const W_LARGE = 0.05;
const COVER = 3;

/** The size of a label's box: the text with padding; digits have no descenders, so two empty rows go. */
export function labelBoxSize(text: string, scale: number): { w: number; h: number } {
  const size = measureText(text, scale);
  const pad = scale + 1;
  return { w: size.width + 2 * pad, h: size.height - 2 * scale + 2 * pad };
}

/** Pixels per label value 0..maxValue in a label map (larger values are not counted). */
export function labelCounts(labels: Uint16Array, maxValue: number): Float64Array {
  const counts = new Float64Array(maxValue + 1);
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p]!;
    if (l <= maxValue) counts[l]!++;
  }
  return counts;
}

/** Places one label per request (see the module comment); requests earlier in the list choose first. */
export function placeLabels(
  labels: Uint16Array,
  width: number,
  height: number,
  requests: readonly LabelRequest[],
  options: PlaceLabelsOptions,
): LabelPlacement {
  const { scale, allowInside, avoid } = options;
  let maxValue = 0;
  for (const r of requests) maxValue = Math.max(maxValue, r.value);
  const visible = options.counts && options.counts.length > maxValue ? options.counts : labelCounts(labels, maxValue);
  const gw = Math.ceil(width / CELL);
  const gh = Math.ceil(height / CELL);
  const grid = new Uint8Array(gw * gh);

  const cellsOf = (b: LabelBox) => [
    Math.max(0, Math.floor((b.x - GAP) / CELL)),
    Math.max(0, Math.floor((b.y - GAP) / CELL)),
    Math.min(gw - 1, Math.floor((b.x + b.w + GAP) / CELL)),
    Math.min(gh - 1, Math.floor((b.y + b.h + GAP) / CELL)),
  ];
  const boxHits = (b: LabelBox, bits: number) => {
    const [cx0, cy0, cx1, cy1] = cellsOf(b);
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) if (grid[cy * gw + cx]! & bits) return true;
    return false;
  };
  const markBox = (b: LabelBox) => {
    const [cx0, cy0, cx1, cy1] = cellsOf(b);
    for (let cy = cy0; cy <= cy1; cy++) for (let cx = cx0; cx <= cx1; cx++) grid[cy * gw + cx]! |= BOX_BIT;
  };
  /** The cells a segment passes through, sampled every half cell. */
  const segmentCells = (x0: number, y0: number, x1: number, y1: number, visit: (cell: number) => boolean) => {
    const steps = Math.max(1, Math.ceil((2 * Math.hypot(x1 - x0, y1 - y0)) / CELL));
    let last = -1;
    for (let i = 0; i <= steps; i++) {
      const cx = Math.min(gw - 1, Math.max(0, Math.floor((x0 + ((x1 - x0) * i) / steps) / CELL)));
      const cy = Math.min(gh - 1, Math.max(0, Math.floor((y0 + ((y1 - y0) * i) / steps) / CELL)));
      const c = cy * gw + cx;
      if (c !== last && !visit(c)) return;
      last = c;
    }
  };
  /** What a leader along a segment would cross: cells of placed boxes and of placed leaders. */
  const probe = (x0: number, y0: number, x1: number, y1: number) => {
    let boxes = 0;
    let leaders = 0;
    segmentCells(x0, y0, x1, y1, (c) => {
      const g = grid[c]!;
      if (g & BOX_BIT) boxes++;
      else if (g & LEADER_BIT) leaders++;
      return true;
    });
    return { boxes, leaders };
  };
  const markLeader = (x0: number, y0: number, x1: number, y1: number) =>
    segmentCells(x0, y0, x1, y1, (c) => {
      grid[c]! |= LEADER_BIT;
      return true;
    });

  /** Mean covering weight of the pixels under a box, on a lattice that includes its edges. */
  const coverOf = (b: LabelBox, own: number, smallArea: number) => {
    const nx = Math.max(1, Math.ceil((b.w - 1) / Math.max(1, Math.floor(b.h / 4))));
    const ny = Math.max(1, Math.ceil((b.h - 1) / Math.max(1, Math.floor(b.h / 4))));
    let sum = 0;
    for (let j = 0; j <= ny; j++) {
      const row = (b.y + Math.round((j * (b.h - 1)) / ny)) * width;
      for (let i = 0; i <= nx; i++) {
        const p = row + b.x + Math.round((i * (b.w - 1)) / nx);
        const l = labels[p]!;
        if ((avoid && avoid[p]) || l === own) sum += W_AVOID;
        else if (l !== 0) {
          const a = l <= maxValue ? visible[l]! : Infinity;
          sum += a < smallArea ? W_SMALL : a < 16 * smallArea ? W_MID : W_LARGE;
        }
      }
    }
    return sum / ((nx + 1) * (ny + 1));
  };
  /** Whether a box, its 1-px rim included, covers any set pixel of a row-major mask of the picture. */
  const touches = (mask: Uint8Array, b: LabelBox) => {
    for (let y = Math.max(0, b.y - 1); y < Math.min(height, b.y + b.h + 1); y++) {
      const row = y * width;
      for (let x = Math.max(0, b.x - 1); x < Math.min(width, b.x + b.w + 1); x++) if (mask[row + x]) return true;
    }
    return false;
  };
  const ownFraction = (b: LabelBox, own: number) => {
    let inside = 0;
    for (let y = b.y; y < b.y + b.h; y++) {
      const row = y * width;
      for (let x = b.x; x < b.x + b.w; x++) if (labels[row + x] === own && !(avoid && avoid[row + x])) inside++;
    }
    return inside / (b.w * b.h);
  };
  const boxAt = (cx: number, cy: number, w: number, h: number): LabelBox => ({
    x: Math.max(1, Math.min(width - w - 1, Math.round(cx - w / 2))),
    y: Math.max(1, Math.min(height - h - 1, Math.round(cy - h / 2))),
    w,
    h,
  });

  const placed: PlacedLabel[] = [];
  const omitted: LabelRequest[] = [];
  // `anchor`: the region's best interior point when the inside search found it already (null: it has none).
  const pending: { request: LabelRequest; w: number; h: number; anchor?: readonly [number, number] | null }[] = [];
  for (const request of requests) {
    const { w, h } = labelBoxSize(request.text, scale);
    if (w + 2 > width || h + 2 > height) {
      omitted.push(request);
      continue;
    }
    if (allowInside && !request.underOthers && visible[request.value]! >= 3 * w * h) {
      // Inside: the first well-inside spot (best first) that no earlier label occupies. The best spot alone
      // first (it is usually free); the other anchors, which cost a sort, only when it is not.
      const fits = (b: LabelBox) => !boxHits(b, BOX_BIT | LEADER_BIT) && ownFraction(b, request.value) >= 0.9;
      const first = interiorAnchors(labels, width, height, request.value, request.bbox, 1)[0];
      let box: LabelBox | undefined;
      if (first) {
        const b = boxAt(first[0], first[1], w, h);
        if (fits(b)) box = b;
        else {
          const more = interiorAnchors(labels, width, height, request.value, request.bbox, 8);
          for (let i = 1; i < more.length; i++) {
            const c = boxAt(more[i]![0], more[i]![1], w, h);
            if (fits(c)) {
              box = c;
              break;
            }
          }
        }
      }
      if (box) {
        markBox(box);
        placed.push({ request, box });
        continue;
      }
      pending.push({ request, w, h, anchor: first ?? null });
      continue;
    }
    pending.push({ request, w, h });
  }

  // Beside: rings of growing radius around the region's anchor; the cheapest free spot wins.
  const diagonal = Math.hypot(width, height);
  for (const { request, w, h, anchor: found } of pending) {
    const value = request.value;
    const anchor = request.underOthers
      ? request.fallback
      : ((found !== undefined ? found : interiorAnchors(labels, width, height, value, request.bbox, 1)[0]) ?? request.fallback);
    if (!anchor) {
      omitted.push(request);
      continue;
    }
    const [ax, ay] = anchor;
    // Beside the region (at the anchor itself for a region under others: its number sits on its parts).
    const radius = Math.min(Math.sqrt(visible[value]! / Math.PI), Math.hypot(request.bbox[2], request.bbox[3]) / 2);
    // With pixels to avoid the search starts at the anchor and skips every spot touching them, so the
    // label lands just outside the region's nearest edge, however wide the region is.
    const r0 = request.underOthers ? 0 : (avoid ? 0 : radius) + 0.5 * Math.hypot(w, h) + 2 * GAP;
    const step = Math.max(3, h / 2);
    const smallArea = 6 * w * h;
    let best: { cost: number; box: LabelBox } | undefined;
    let onAvoided: { cost: number; box: LabelBox } | undefined; // the best spot over avoided pixels, if no other
    for (let r = r0; r < r0 + diagonal; r += step) {
      const distance = (r - r0) / h;
      if (best && distance >= best.cost) break;
      const count = Math.min(32, Math.max(12, Math.ceil((2 * Math.PI * r) / step)));
      for (let i = 0; i < count; i++) {
        const t = (2 * Math.PI * i) / count - Math.PI / 2; // start above the region
        const box = boxAt(ax + r * Math.cos(t), ay + r * Math.sin(t), w, h);
        if (boxHits(box, BOX_BIT | LEADER_BIT)) continue;
        let cost = distance + COVER * coverOf(box, value, smallArea);
        if (best && cost >= best.cost) continue;
        if (avoid && touches(avoid, box)) {
          if (!onAvoided || cost < onAvoided.cost) onAvoided = { cost, box };
          continue;
        }
        // The path to the anchor is checked (the leader drawn stops earlier, where it enters the region).
        const [x0, y0] = rimPoint(box, ax, ay);
        // A leader passing under another label is allowed but costly; crossing a leader costs a little.
        const crossed = probe(x0, y0, ax, ay);
        cost += (crossed.boxes > 0 ? 2 : 0) + 0.5 * Math.min(2, crossed.leaders);
        if (!best || cost < best.cost) best = { cost, box };
      }
    }
    best ??= onAvoided;
    if (!best) {
      omitted.push(request);
      continue;
    }
    const b = best.box;
    markBox(b);
    if (request.underOthers && ax >= b.x && ax < b.x + b.w && ay >= b.y && ay < b.y + b.h) {
      placed.push({ request, box: b });
      continue;
    }
    const leader = request.underOthers ? rimLine(b, ax, ay) : leaderOf(b, ax, ay, labels, width, value, avoid, leaderWidth(scale) / 2 + 2);
    if (leader) markLeader(leader.x0, leader.y0, leader.x1, leader.y1);
    placed.push({ request, box: b, ...(leader && { leader }) });
  }
  return { placed, omitted };
}

/**
 * The leader from a box to the region: from the point of the box's rim nearest the anchor, towards the
 * anchor, ending where the line first enters the region (at the anchor when the region is hidden there).
 */
/** The point of a box's rim nearest to (ax, ay). */
function rimPoint(box: LabelBox, ax: number, ay: number): [number, number] {
  return [Math.max(box.x - 1, Math.min(box.x + box.w, ax)), Math.max(box.y - 1, Math.min(box.y + box.h, ay))];
}

function rimLine(box: LabelBox, ax: number, ay: number): Leader {
  const [x0, y0] = rimPoint(box, ax, ay);
  return { x0, y0, x1: ax, y1: ay, dot: true };
}

function leaderOf(
  box: LabelBox,
  ax: number,
  ay: number,
  labels: Uint16Array,
  width: number,
  value: number,
  avoid: Uint8Array | undefined,
  backoff: number,
): Leader | undefined {
  const [x0, y0] = rimPoint(box, ax, ay);
  const len = Math.hypot(ax - x0, ay - y0);
  const at = (s: number): [number, number] => [Math.round(x0 + ((ax - x0) * s) / Math.max(1, len)), Math.round(y0 + ((ay - y0) * s) / Math.max(1, len))];
  for (let s = 0; s <= len; s++) {
    const [x, y] = at(s);
    const p = y * width + x;
    if (avoid ? avoid[p] : labels[p] === value) {
      if (!avoid) return { x0, y0, x1: x, y1: y, dot: true };
      // Stop short of the pixels to keep off, so that neither the line nor its round cap reaches them;
      // a box that close needs no leader.
      if (s - backoff < 1) return undefined;
      const [x1, y1] = at(s - backoff);
      return { x0, y0, x1, y1, dot: false };
    }
  }
  return { x0, y0, x1: ax, y1: ay, dot: !avoid };
}

/** Width of leader lines at a label scale. */
function leaderWidth(scale: number): number {
  return Math.max(2, 0.7 * scale);
}

const RIM: Rgb = [20, 20, 20];
const UNDER_FILL: Rgb = [250, 250, 250];

/** Draws placed labels: leader lines (with a dark halo and a dot on the region) first, then the boxes. */
export function drawLabels(out: Uint8Array, width: number, height: number, placed: readonly PlacedLabel[], scale: number): void {
  const line = leaderWidth(scale);
  for (const { leader } of placed) {
    if (!leader) continue;
    drawSegment(out, width, height, leader.x0, leader.y0, leader.x1, leader.y1, line + 2, RIM, 0.8);
    if (leader.dot) fillDisc(out, width, height, leader.x1, leader.y1, line + 1.5, RIM);
  }
  for (const { request, leader } of placed) {
    if (!leader) continue;
    drawSegment(out, width, height, leader.x0, leader.y0, leader.x1, leader.y1, line, request.colour);
    if (leader.dot) fillDisc(out, width, height, leader.x1, leader.y1, line + 0.5, request.colour);
  }
  const pad = scale + 1;
  for (const { request, box } of placed) {
    fillRect(out, width, height, box.x - 1, box.y - 1, box.w + 2, box.h + 2, RIM);
    fillRect(out, width, height, box.x, box.y, box.w, box.h, request.colour);
    let text = contrastingText(request.colour);
    if (request.underOthers) {
      // A light box framed in the region's colour: this number is for the region under the ones around.
      fillRect(out, width, height, box.x + scale, box.y + scale, box.w - 2 * scale, box.h - 2 * scale, UNDER_FILL);
      text = RIM;
    }
    drawText(out, width, height, box.x + pad, box.y + pad, request.text, { scale, color: text });
  }
}
