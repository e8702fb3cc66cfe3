/**
 * A built-in bitmap font, so that labels and captions render on machines without system fonts (sharp's
 * text rendering needs fontconfig fonts, which fresh servers and containers lack).
 *
 * Each glyph is a 5×9 cell: rows 0–6 are the body (capitals and digits are 7 rows tall, lower case has a
 * 5-row x-height), rows 7–8 hold descenders. A glyph is stored as 9 base-32 characters, one per row, whose
 * 5 bits are the row's pixels, leftmost pixel = most significant bit. The glyph art is our own.
 */

/** Pixel columns of a glyph at scale 1. */
export const GLYPH_WIDTH = 5;
/** Pixel rows of a glyph cell at scale 1, descenders included. */
export const GLYPH_HEIGHT = 9;
/** Height of capitals and digits at scale 1 (rows above the baseline). */
export const CAP_HEIGHT = 7;
/** Horizontal distance from one character to the next at scale 1 (glyph + 1 px gap). */
export const ADVANCE = 6;
/** Vertical distance from one line to the next at scale 1. */
export const LINE_HEIGHT = 11;

// ASCII 32..126, 9 characters per glyph (see the header comment).
const ASCII_GLYPHS =
  "000000000444440400aaa000000aavavaa004fke5u400op248j300cik8lid00448000000" + //  !"#$%&'
  "24888420084222480004lel4000044v4400000000cc48000v0000000000cc0001248g000" + // ()*+,-./
  "ehjlphe004c4444e00eh1248v00v2421he0026aiv2200vgu11he0068guhhe00v12488800" + // 01234567
  "ehhehhe00ehhf12c000cc0cc0000cc0cc480248g8420000v0v0000842124800eh1240400" + // 89:;<=>?
  "eh1dlle00ehhvhhh00uhhuhhu00ehggghe00sihhhis00vgguggv00vgguggg00ehgnhhf00" + // @ABCDEFG
  "hhhvhhh00e44444e0072222ic00hikokih00ggggggv00hrllhhh00hhpljhh00ehhhhhe00" + // HIJKLMNO
  "uhhuggg00ehhhlid00uhhukih00fgge11u00v44444400hhhhhhe00hhhhha400hhhllla00" + // PQRSTUVW
  "hha4ahh00hha444400v1248gv00e88888e000g8421000e22222e004ah0000000000000v0" + // XYZ[\]^_
  "84200000000e1fhf00ggmphhu0000egghe0011djhhf0000ehvge00698s8880000fhhhf1e" + // `abcdefg
  "ggmphhh0040c444e002062222icggikoki00c44444e0000qllll0000mphhh0000ehhhe00" + // hijklmno
  "00uhhhugg00fhhhf1100mpggg0000ege1u0088s88960000hhhjd0000hhha40000hhlla00" + // pqrstuvw
  "00ha4ah0000hhhhf1e00v248v00244844200444444400844244800008l20000"; //          xyz{|}~

// A few non-ASCII glyphs that captions use.
const EXTRA_GLYPHS: ReadonlyArray<[number, string]> = [
  [0x2192, "042v24000"], // → (captions: "query → masks 3, 8")
  [0xd7, "0ha4ah000"], // ×
  [0x2026, "000000l00"], // …
  [0xb0, "ciic00000"], // °
];
/** Drawn for characters the font lacks: a hollow box. */
const MISSING_GLYPH = "vhhhhhv00";

/** Characters folded onto ASCII before lookup (typographic quotes and dashes, spaces). */
const FOLD: Record<string, string> = {
  "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"', "\u201d": '"', "\u201e": '"',
  "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\t": " ", "\u2022": "*", "\u00b7": ".",
};

function decodeRows(code: string): Uint8Array {
  const rows = new Uint8Array(GLYPH_HEIGHT);
  for (let r = 0; r < GLYPH_HEIGHT; r++) rows[r] = parseInt(code[r]!, 32);
  return rows;
}

const glyphCache = new Map<number, Uint8Array>();
const extraByCode = new Map(EXTRA_GLYPHS);

/** The 9 row bitmasks (bit 4 = leftmost pixel) of a character's glyph; a box for characters we lack. */
export function glyphRows(char: string): Uint8Array {
  const cp = char.codePointAt(0) ?? 0xfffd;
  let rows = glyphCache.get(cp);
  if (rows) return rows;
  let code: string | undefined;
  if (cp >= 32 && cp <= 126) code = ASCII_GLYPHS.slice((cp - 32) * GLYPH_HEIGHT, (cp - 31) * GLYPH_HEIGHT);
  else code = extraByCode.get(cp);
  rows = decodeRows(code ?? MISSING_GLYPH);
  glyphCache.set(cp, rows);
  return rows;
}

/** Whether the font has a real glyph for a character (after folding accents and typographic marks). */
export function hasGlyph(char: string): boolean {
  const cp = char.codePointAt(0) ?? 0;
  return (cp >= 32 && cp <= 126) || extraByCode.has(cp);
}

/** Text as the font will draw it: accents stripped (é → e), typographic quotes and dashes folded to ASCII,
 * other control characters dropped. One array entry per drawn character. */
export function normalizeText(text: string): string[] {
  const chars: string[] = [];
  for (const raw of text.normalize("NFD")) {
    const cp = raw.codePointAt(0)!;
    if (cp >= 0x300 && cp <= 0x36f) continue; // combining accent
    const c = FOLD[raw] ?? raw;
    if (c !== "\n" && (cp < 32 || cp === 127)) continue;
    chars.push(c);
  }
  return chars;
}

export interface TextSize {
  width: number;
  height: number;
}

/** The size in pixels of text drawn at `scale` (lines split at "\n"; no padding, halo or background). */
export function measureText(text: string, scale = 1): TextSize {
  const s = checkScale(scale);
  const lines = text.split("\n");
  let longest = 0;
  for (const line of lines) longest = Math.max(longest, normalizeText(line).length);
  const width = longest === 0 ? 0 : (longest * ADVANCE - (ADVANCE - GLYPH_WIDTH)) * s;
  const height = (lines.length * LINE_HEIGHT - (LINE_HEIGHT - GLYPH_HEIGHT)) * s;
  return { width, height };
}

function checkScale(scale: number): number {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`font scale must be a positive integer (got ${scale})`);
  return scale;
}

/**
 * Breaks text into lines no wider than `maxWidth` pixels at `scale`: at spaces when possible, inside a
 * word only when the word alone is too long. Existing "\n" are kept.
 */
export function wrapText(text: string, maxWidth: number, scale = 1): string[] {
  const s = checkScale(scale);
  const perLine = Math.max(1, Math.floor((maxWidth / s + (ADVANCE - GLYPH_WIDTH)) / ADVANCE));
  const out: string[] = [];
  for (const paragraph of text.split("\n")) {
    const words = normalizeText(paragraph).join("").split(/ +/).filter((w) => w.length > 0);
    let line = "";
    for (let word of words) {
      if (word.length > perLine) {
        if (line) out.push(line);
        // Whole line-long pieces by index (slicing the rest again each time is quadratic in a long word).
        let at = 0;
        for (; word.length - at > perLine; at += perLine) out.push(word.slice(at, at + perLine));
        word = word.slice(at);
        line = "";
      }
      if (!word) continue;
      if (!line) line = word;
      else if (line.length + 1 + word.length <= perLine) line += " " + word;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

export type Rgb = readonly [number, number, number];

export interface DrawTextOptions {
  /** Integer magnification of the 5×9 glyph cell (default 1). */
  scale?: number;
  color: Rgb;
  /** Fill a box behind the text (padded by `padding`). */
  background?: Rgb;
  /** Outline every glyph stroke in this colour (`haloWidth` pixels, default = scale), so that text stays
   * readable on any background. */
  halo?: Rgb;
  haloWidth?: number;
  /** Padding of the background box in pixels (default = scale). */
  padding?: number;
}

export interface DrawnBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Draws text into an interleaved RGB buffer (row-major, `width * height * 3` bytes), top-left of the first
 * glyph at (x, y); pixels outside the buffer are clipped. Returns the box painted (background included).
 */
export function drawText(
  buffer: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
  text: string,
  options: DrawTextOptions,
): DrawnBox {
  if (buffer.length < width * height * 3) throw new RangeError(`drawText: buffer holds ${buffer.length} bytes, ${width}×${height} RGB needs ${width * height * 3}`);
  const s = checkScale(options.scale ?? 1);
  x = Math.round(x);
  y = Math.round(y);
  const lines = text.split("\n").map(normalizeText);
  const size = measureText(text, s);
  const halo = options.halo ? Math.max(0, Math.round(options.haloWidth ?? s)) : 0;
  const pad = options.background ? Math.max(0, Math.round(options.padding ?? s)) : 0;
  const margin = Math.max(halo, pad);

  // Coverage of the glyphs in a small local bitmap (with room for the halo), then the halo by dilation.
  const bw = size.width + 2 * margin;
  const bh = size.height + 2 * margin;
  const ink = inkBitmap(lines, s, margin, bw, bh);
  const haloMask = halo > 0 ? dilateSquare(ink, bw, bh, halo) : undefined;
  const ox = x - margin;
  const oy = y - margin;
  const bg = options.background;
  const padX0 = margin - pad;
  const padX1 = bw - (margin - pad);
  paintInk(buffer, width, height, ink, haloMask, bw, bh, ox, oy, options.color, options.halo, bg, padX0, padX1);
  return bg
    ? { x: ox + padX0, y: oy + (margin - pad), width: padX1 - padX0, height: bh - 2 * (margin - pad) }
    : { x: ox, y: oy, width: bw, height: bh };
}

// The glyph and pixel loops are functions of their own, apart from drawText's string handling: compiled
// small and alone, they are optimised once instead of being recompiled with it (a label is a few digits,
// a caption a sentence, and drawText's own code sees both).

/** The text's pixels (1) in a bw × bh bitmap, the first glyph's top-left at (margin, margin). */
function inkBitmap(lines: readonly string[][], s: number, margin: number, bw: number, bh: number): Uint8Array {
  const ink = new Uint8Array(bw * bh);
  for (let li = 0; li < lines.length; li++) {
    const chars = lines[li]!;
    const top = margin + li * LINE_HEIGHT * s;
    for (let ci = 0; ci < chars.length; ci++) inkGlyph(ink, bw, glyphRows(chars[ci]!), margin + ci * ADVANCE * s, top, s);
  }
  return ink;
}

function inkGlyph(ink: Uint8Array, bw: number, rows: Uint8Array, left: number, top: number, s: number): void {
  for (let r = 0; r < GLYPH_HEIGHT; r++) {
    const bits = rows[r]!;
    if (bits === 0) continue;
    for (let c = 0; c < GLYPH_WIDTH; c++) {
      if ((bits & (16 >> c)) === 0) continue;
      for (let dy = 0; dy < s; dy++) {
        const at = (top + r * s + dy) * bw + left + c * s;
        ink.fill(1, at, at + s);
      }
    }
  }
}

/** The bitmap onto the picture at (ox, oy): ink in `colour`, the halo in `halo`, the padded box in `bg`. */
function paintInk(
  buffer: Uint8Array,
  width: number,
  height: number,
  ink: Uint8Array,
  haloMask: Uint8Array | undefined,
  bw: number,
  bh: number,
  ox: number,
  oy: number,
  colour: Rgb,
  halo: Rgb | undefined,
  bg: Rgb | undefined,
  padX0: number,
  padX1: number,
): void {
  const x0 = Math.max(0, ox);
  const y0 = Math.max(0, oy);
  const x1 = Math.min(width, ox + bw);
  const y1 = Math.min(height, oy + bh);
  for (let py = y0; py < y1; py++) {
    const ly = py - oy;
    const inPadRows = ly >= padX0 && ly < bh - padX0;
    for (let px = x0; px < x1; px++) {
      const lx = px - ox;
      const k = ly * bw + lx;
      const c = ink[k] ? colour : haloMask && haloMask[k] ? halo! : bg && inPadRows && lx >= padX0 && lx < padX1 ? bg : undefined;
      if (c === undefined) continue;
      const i = (py * width + px) * 3;
      buffer[i] = c[0];
      buffer[i + 1] = c[1];
      buffer[i + 2] = c[2];
    }
  }
}

/** Square (Chebyshev) dilation by `radius`, as two separable passes of running maxima. */
function dilateSquare(src: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  const tmp = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let last = -Infinity; // last ink column seen from the left
    for (let x = 0; x < w; x++) {
      if (src[row + x]) last = x;
      if (x - last <= radius) tmp[row + x] = 1;
    }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) {
      if (src[row + x]) last = x;
      if (last - x <= radius) tmp[row + x] = 1;
    }
  }
  const out = new Uint8Array(w * h);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) {
      if (tmp[y * w + x]) last = y;
      if (y - last <= radius) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) {
      if (tmp[y * w + x]) last = y;
      if (last - y <= radius) out[y * w + x] = 1;
    }
  }
  return out;
}
