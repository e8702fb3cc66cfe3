/**
 * The attribute vocabulary: every word the attributes describer writes, by role (colour, tone, size,
 * position, shape, texture, relation, and the words of its sentence frames), plus the words other writers
 * (users, DAM) use for the same attributes. A leaf shared by two backends: the attributes describer builds its
 * sentences from these lists and the wordnet reasoner reads queries and descriptions with them, so both agree
 * on which words are attributes: a reasoner must match
 * "navy", "medium" or "bottom" as a colour, a size or a position, never as a WordNet noun (a navy is a
 * military force).
 */
import { ACHROMATIC, COLOUR_NAMES, colourCentroids } from "./colour-names.js";

export const SIZE_WORDS = ["tiny", "small", "medium", "large", "huge"] as const;
export type SizeWord = (typeof SIZE_WORDS)[number];
export const TONE_WORDS = ["dark", "light", "pale", "vivid", "greyish"] as const;
export type ToneWord = (typeof TONE_WORDS)[number];
export const HORIZONTAL_WORDS = ["left", "centre", "right"] as const;
export const VERTICAL_WORDS = ["top", "middle", "bottom"] as const;
export const SPAN_WORDS = ["width", "height"] as const;
export const SHAPE_WORDS = ["long and thin", "elongated", "rectangular", "round", "irregular", "horizontal", "vertical", "diagonal"] as const;
export type ShapeWord = (typeof SHAPE_WORDS)[number];
export const TEXTURE_WORDS = ["smooth", "slightly textured", "textured"] as const;
export type TextureWord = (typeof TEXTURE_WORDS)[number];
export const SUPERLATIVE_WORDS = ["largest", "smallest", "leftmost", "rightmost", "topmost", "bottommost"] as const;
/** The words of the describer's sentence frames ("A ... region ..., at the top left of the image, spanning the
 * width. Colours: ... Smooth surface. Inside region 3. Contains regions 4, 5 and 2 more."): they say nothing
 * about what the region is. */
export const FRAME_WORDS = ["region", "regions", "image", "colours", "colourless", "surface", "spanning", "inside", "contains", "more", "centre"] as const;

export type AttributeRole = "colour" | "tone" | "size" | "position" | "shape" | "texture" | "relation" | "frame";

/** A word read as an attribute: its role and the describer's word it stands for. */
export interface AttributeWord {
  role: AttributeRole;
  value: string;
}

/** Words others write for the describer's colour names (not those that are mostly things: wine, lemon, rose). */
const COLOUR_ALIASES: Record<string, string> = {
  gray: "grey", silver: "grey", silvery: "grey",
  gold: "yellow", golden: "yellow",
  violet: "purple", lavender: "purple", lilac: "purple", mauve: "purple",
  magenta: "pink", fuchsia: "pink", rosy: "pink",
  crimson: "red", scarlet: "red", burgundy: "maroon",
  cyan: "teal", turquoise: "teal", aqua: "teal", azure: "blue",
  tan: "beige", creamy: "beige", khaki: "beige", ivory: "white",
};
/** Words others write for the describer's tone words. */
const TONE_ALIASES: Record<string, ToneWord> = {
  bright: "light", lighter: "light", lightest: "light", darker: "dark", darkest: "dark", dim: "dark", shadowy: "dark", shaded: "dark",
  colourful: "vivid", colorful: "vivid", saturated: "vivid", brilliant: "vivid", paler: "pale", muted: "greyish", dull: "greyish", grayish: "greyish",
};
/** Words others write for the describer's shape words. */
const SHAPE_ALIASES: Record<string, ShapeWord> = {
  circular: "round", oval: "round", rounded: "round", spherical: "round",
  square: "rectangular", rectangle: "rectangular", boxy: "rectangular",
  long: "long and thin", thin: "long and thin", narrow: "long and thin", slender: "long and thin",
  oblong: "elongated", upright: "vertical", slanted: "diagonal", sloping: "diagonal", jagged: "irregular",
};
/** Words others write for the describer's texture words. */
const TEXTURE_ALIASES: Record<string, TextureWord> = {
  rough: "textured", patterned: "textured", striped: "textured", speckled: "textured", grainy: "textured", bumpy: "textured",
};

const VOCABULARY = new Map<string, AttributeWord>();
function add(role: AttributeRole, words: readonly string[], value?: (w: string) => string): void {
  for (const phrase of words) for (const w of phrase.split(" ")) if (w !== "and" && !VOCABULARY.has(w)) VOCABULARY.set(w, { role, value: value ? value(w) : phrase });
}
add("colour", COLOUR_NAMES, (w) => w);
add("tone", TONE_WORDS, (w) => w);
add("size", SIZE_WORDS, (w) => w);
add("position", [...HORIZONTAL_WORDS, ...VERTICAL_WORDS, ...SPAN_WORDS], (w) => w);
add("shape", SHAPE_WORDS);
add("texture", TEXTURE_WORDS);
add("relation", SUPERLATIVE_WORDS, (w) => w);
add("frame", FRAME_WORDS, (w) => w);
for (const [w, v] of Object.entries(COLOUR_ALIASES)) VOCABULARY.set(w, { role: "colour", value: v });
for (const [w, v] of Object.entries(TONE_ALIASES)) VOCABULARY.set(w, { role: "tone", value: v });
for (const [w, v] of Object.entries(SHAPE_ALIASES)) VOCABULARY.set(w, { role: "shape", value: v });
for (const [w, v] of Object.entries(TEXTURE_ALIASES)) VOCABULARY.set(w, { role: "texture", value: v });
VOCABULARY.set("slightly", { role: "texture", value: "slightly textured" });
VOCABULARY.set("colour", { role: "frame", value: "colour" });
VOCABULARY.set("color", { role: "frame", value: "colour" });
VOCABULARY.set("colors", { role: "frame", value: "colours" });

/**
 * The attribute a lower-case word stands for, or undefined. "-ish" colour words ("reddish") and hyphenated
 * colour compounds ("grayish-blue" → blue, the last colour) are colours.
 */
export function attributeWord(word: string): AttributeWord | undefined {
  const direct = VOCABULARY.get(word);
  if (direct) return direct;
  if (word.includes("-")) {
    const parts = word.split("-");
    for (let k = parts.length - 1; k >= 0; k--) {
      const a = attributeWord(parts[k]!);
      if (a && (a.role === "colour" || k === parts.length - 1)) return a;
    }
    return undefined;
  }
  if (word.endsWith("ish") && word.length > 5) {
    const stem = word.slice(0, -3);
    for (const base of [stem, stem.replace(/(.)\1$/, "$1"), stem + "e"]) {
      const a = VOCABULARY.get(base);
      if (a?.role === "colour") return a;
    }
  }
  return undefined;
}

/** Every word the describer itself writes (for tests and for callers that check a text against it). */
export function describerWords(): Set<string> {
  const out = new Set<string>();
  for (const [w, a] of VOCABULARY) {
    const own = a.value === w || a.value.split(" ").includes(w);
    if (own) out.add(w);
  }
  return out;
}

let centroids: [number, number, number][] | undefined;
function centroidOf(name: string): [number, number, number] | undefined {
  centroids ??= colourCentroids();
  const i = COLOUR_NAMES.indexOf(name);
  return i < 0 ? undefined : centroids[i];
}

/**
 * How alike two colour names are, 0..1: a Gaussian (σ = 30) of a CIE LCh distance between the names'
 * centroids in which a change of hue costs 1.5×, while lightness and chroma cost half between two
 * chromatic names (a maroon is a dark, dull red; a pink is a red of another hue). Between two achromatic
 * names lightness is all there is; between an achromatic and a chromatic name chroma costs fully.
 * red~maroon ≈ 0.64, red~orange ≈ 0.31, red~pink ≈ 0.26, grey~blue ≈ 0.28, white~grey ≈ 0.2.
 */
export function colourSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const p = centroidOf(a), q = centroidOf(b);
  if (!p || !q) return 0;
  const grayA = ACHROMATIC.has(a), grayB = ACHROMATIC.has(b);
  const c1 = Math.hypot(p[1], p[2]), c2 = Math.hypot(q[1], q[2]);
  const dh = Math.atan2(p[2], p[1]) - Math.atan2(q[2], q[1]);
  const dH = 1.5 * 2 * Math.sqrt(c1 * c2) * Math.sin(dh / 2);
  const kL = grayA && grayB ? 1 : 0.5;
  const kC = grayA || grayB ? 1 : 0.5;
  const d2 = (kL * (p[0] - q[0])) ** 2 + (kC * (c1 - c2)) ** 2 + dH * dH;
  return Math.exp(-d2 / (30 * 30));
}

/** L* (0..100) and chroma of a colour name's centroid. */
export function colourLightness(name: string): { lightness: number; chroma: number } | undefined {
  const c = centroidOf(name);
  return c ? { lightness: c[0], chroma: Math.hypot(c[1], c[2]) } : undefined;
}
