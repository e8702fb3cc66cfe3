/**
 * The caption band above the result picture: the query, wrapped to the image width and cut to a few lines,
 * followed by the answer ("→ masks 3, 8"), which is always shown whole. Cutting bounds the band: a query
 * of a million characters once made a 16 × 1,108,580 px picture that no viewer could open.
 */
import { ADVANCE, GLYPH_WIDTH, LINE_HEIGHT, drawText, measureText, normalizeText, wrapText, type Rgb } from "./font.js";
import type { RgbImage } from "./types.js";

const BAND_BACKGROUND: Rgb = [24, 26, 30];
const BAND_TEXT: Rgb = [245, 245, 245];
const ELLIPSIS = "\u2026";
const SEPARATOR = "  \u2192  ";

/** Font scale for captions: one step per 600 px of width (about 50–100 characters per line). */
export function captionScale(width: number): number {
  return Math.max(1, Math.ceil(width / 600));
}

/** Most caption lines for an image: about a quarter of its height, 2 to 5 lines. */
export function captionMaxLines(height: number, scale: number): number {
  return Math.max(2, Math.min(5, Math.floor(height / (4 * LINE_HEIGHT * scale))));
}

/**
 * `text` then `tail` wrapped to `maxWidth` pixels in at most `maxLines` lines. When they do not fit, `text`
 * is cut (at a space when one is near) and ends in "…"; `tail` is kept whole unless it alone is too long.
 */
export function fitCaption(text: string, tail: string, maxWidth: number, scale: number, maxLines: number): string[] {
  const perLine = Math.max(1, Math.floor((maxWidth / scale + (ADVANCE - GLYPH_WIDTH)) / ADVANCE));
  const room = perLine * maxLines;
  // No more characters than the lines can hold take part (normalising or wrapping a huge query is slow).
  const sliced = text.length > 2 * room + 16;
  const head = normalizeText(sliced ? text.slice(0, 2 * room + 16) : text).join("").replace(/\s+/g, " ").trim();
  const join = (t: string) => (t && tail ? t + SEPARATOR + tail : t || tail);
  const wrap = (t: string) => wrapText(t, maxWidth, scale);
  const whole = wrap(join(head));
  if (!sliced && whole.length <= maxLines) return whole;
  const cut = (n: number) => {
    let t = head.slice(0, n);
    const space = t.lastIndexOf(" ");
    if (n < head.length && space > n - 12 && space > 0) t = t.slice(0, space); // end at a word when one ends near
    return t.trimEnd() + ELLIPSIS;
  };
  // The longest prefix that fits; wrapping grows with the prefix, so a binary search finds it.
  let lo = 0;
  let hi = Math.min(head.length, room);
  if (wrap(join(cut(hi))).length <= maxLines) lo = hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (wrap(join(cut(mid))).length <= maxLines) lo = mid;
    else hi = mid;
  }
  const lines = wrap(join(lo > 0 ? cut(lo) : ""));
  if (lines.length <= maxLines) return lines;
  // The tail alone is too long for the band: cut it too.
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  kept[maxLines - 1] = (last.length >= perLine ? last.slice(0, perLine - 1) : last) + ELLIPSIS;
  return kept;
}

/** How a caption band is laid out above a picture `width` wide and `height` tall: its text and height. */
export interface CaptionBand {
  readonly text: string;
  readonly height: number;
  readonly scale: number;
  readonly margin: number;
}

/** The band `withCaptionBand` puts above a `width` × `height` picture for `caption` and `tail`. */
export function captionBand(width: number, height: number, caption: string, tail = ""): CaptionBand {
  const scale = captionScale(width);
  const margin = 4 * scale;
  const lines = fitCaption(caption, tail, Math.max(1, width - 2 * margin), scale, captionMaxLines(height, scale));
  const text = lines.join("\n");
  return { text, height: measureText(text, scale).height + 2 * margin, scale, margin };
}

/** Paints a band (from `captionBand`) into the top `band.height` rows of an RGB buffer `width` wide. */
export function drawCaptionBand(data: Uint8Array, width: number, totalHeight: number, band: CaptionBand): void {
  for (let p = 0; p < width * band.height; p++) {
    data[p * 3] = BAND_BACKGROUND[0];
    data[p * 3 + 1] = BAND_BACKGROUND[1];
    data[p * 3 + 2] = BAND_BACKGROUND[2];
  }
  drawText(data, width, totalHeight, band.margin, band.margin, band.text, { scale: band.scale, color: BAND_TEXT });
}

/**
 * A copy of `image` with `caption` (and `tail`, e.g. "masks 3, 8", after an arrow) in a dark band above
 * it; the band is at most a few lines tall (see `fitCaption`).
 */
export function withCaptionBand(image: RgbImage, caption: string, tail = ""): RgbImage {
  const { width, height } = image;
  const band = captionBand(width, height, caption, tail);
  const outH = height + band.height;
  const data = new Uint8Array(width * outH * 3);
  data.set(image.data, width * band.height * 3);
  drawCaptionBand(data, width, outH, band);
  return { width, height: outH, data, source: image.source };
}
