/**
 * Attribute words (colour, tone, shape, texture) in queries and descriptions, read with the attributes
 * describer's vocabulary so that a colour is only ever a colour: "navy" in "navy 40%" is a colour share,
 * never WordNet's navy (a military force). A region's evidence comes from its description (colour shares
 * "red 80%", or colour words in prose) and, for shape, from its box and area when the text is silent.
 */
import { attributeWord, colourLightness, colourSimilarity, type AttributeWord } from "../../vocabulary/attribute-words.js";
import type { RegionFacts } from "../../pipeline/types.js";
import { STOPWORDS, tokenize } from "./text.js";

/** Roles a query attribute term can have (size and position words are geometry, settled from boxes). */
export type AttributeTermRole = "colour" | "tone" | "shape" | "texture";

export interface AttributeTerm {
  text: string;
  role: AttributeTermRole;
  /** The describer's word it stands for ("gray" → "grey", "circular" → "round"). */
  value: string;
  negated: boolean;
}

/** What a description says about a region's attributes. */
export interface AttributeEvidence {
  /** Colour name → share (0..1): from "red 80%", else estimated from where the word stands. */
  colours: Map<string, number>;
  tones: Set<string>;
  shapes: Set<string>;
  textures: Set<string>;
}

/** The query term for a word, when the word is a colour, tone, shape or texture word. */
export function queryAttribute(word: string): AttributeWord | undefined {
  const a = attributeWord(word);
  return a && (a.role === "colour" || a.role === "tone" || a.role === "shape" || a.role === "texture") ? a : undefined;
}

/** Words that end the clause naming the region (as the reasoner's description reading uses). */
const CLAUSE_END = new Set("with is are has have featuring features that which appears shows and having set against".split(" "));

/** Read the attribute words of a description. */
export function readEvidence(description: string): AttributeEvidence {
  const toks = tokenize(description);
  const measured = new Map<string, number>();
  const prose = new Map<string, number>();
  const tones = new Set<string>();
  const shapes = new Set<string>();
  const textures = new Set<string>();
  let naming = true;
  let colourInNaming = 0;
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k]!;
    if (k > 0 && CLAUSE_END.has(tok)) naming = false;
    if (STOPWORDS.has(tok)) continue;
    const a = attributeWord(tok);
    if (!a) continue;
    if (a.role === "colour") {
      const next = toks[k + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        measured.set(a.value, Math.max(measured.get(a.value) ?? 0, Math.min(100, Number(next)) / 100));
        continue;
      }
      // A colour word in prose: the first one naming the region stands for most of it.
      const share = naming ? (colourInNaming++ === 0 ? 0.7 : 0.5) : 0.3;
      prose.set(a.value, Math.max(prose.get(a.value) ?? 0, share));
    } else if (a.role === "tone") tones.add(a.value);
    else if (a.role === "shape") shapes.add(a.value);
    else if (a.role === "texture" && !(a.value === "textured" && toks[k - 1] === "slightly")) textures.add(a.value);
  }
  // Measured shares, when the description has them, are the better evidence.
  return { colours: measured.size ? measured : prose, tones, shapes, textures };
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Share-weighted evidence: Σ share × f(colour). */
function overColours(ev: AttributeEvidence, f: (name: string) => number): number {
  let s = 0;
  for (const [name, share] of ev.colours) s += share * f(name);
  return clamp01(s);
}

/** How well the region fits an attribute term, 0..1 (negation not applied), with a few words of why (or "" when
 * not `explain`: the words are wanted for the chosen regions only). */
export function attributeScore(term: AttributeTerm, ev: AttributeEvidence, r: RegionFacts, explain = true): { score: number; why: string } {
  const [, , bw, bh] = r.bbox;
  const w = Math.max(1, bw), h = Math.max(1, bh);
  const aspect = Math.min(w, h) / Math.max(w, h);
  const extent = r.area / (w * h);
  const light = (n: string) => colourLightness(n)?.lightness ?? 50;
  const shares = () => !explain ? "" : [...ev.colours].sort((a, b) => b[1] - a[1]).map(([n, s]) => `${n} ${Math.round(100 * s)}%`).join(", ") || "no colour named";
  switch (term.role) {
    case "colour": {
      const score = overColours(ev, (n) => colourSimilarity(term.value, n));
      return { score, why: shares() };
    }
    case "tone": {
      let score: number;
      if (term.value === "dark") score = Math.max(ev.tones.has("dark") ? 1 : 0, overColours(ev, (n) => clamp01((55 - light(n)) / 35)));
      else if (term.value === "light" || term.value === "pale") {
        score = Math.max(ev.tones.has("light") || ev.tones.has("pale") ? 1 : 0, overColours(ev, (n) => clamp01((light(n) - 55) / 30)));
      } else if (term.value === "vivid") score = Math.max(ev.tones.has("vivid") ? 1 : 0, overColours(ev, (n) => clamp01(((colourLightness(n)?.chroma ?? 0) - 20) / 50)));
      else score = Math.max(ev.tones.has("greyish") ? 1 : 0, overColours(ev, (n) => colourSimilarity("grey", n)));
      const said = [...ev.tones].join(", ");
      return { score, why: said ? `${said}; ${shares()}` : shares() };
    }
    case "shape": {
      // Said in words counts fully; otherwise the box and area suggest it, at most 0.6.
      const said = ev.shapes.has(term.value);
      let fromBox = 0;
      if (term.value === "round") fromBox = aspect * Math.exp(-(((extent - Math.PI / 4) / 0.12) ** 2));
      else if (term.value === "rectangular") fromBox = clamp01((extent - 0.6) / 0.35);
      else if (term.value === "long and thin") fromBox = ev.shapes.has("elongated") ? 0.7 / 0.6 : clamp01((1 / aspect - 1.5) / 3);
      else if (term.value === "elongated") fromBox = ev.shapes.has("long and thin") ? 1 / 0.6 : clamp01((1 / aspect - 1.2) / 2);
      else if (term.value === "horizontal") fromBox = clamp01((w / h - 1) / 2);
      else if (term.value === "vertical") fromBox = clamp01((h / w - 1) / 2);
      else if (term.value === "irregular") fromBox = clamp01((0.5 - extent) / 0.3);
      const score = said ? 1 : Math.min(1, 0.6 * fromBox);
      return { score, why: said ? `said "${term.value}"` : `box ${w}x${h}, fills ${Math.round(100 * extent)}% of it` };
    }
    case "texture": {
      const level = ev.textures.has("textured") ? 1 : ev.textures.has("slightly textured") ? 0.5 : ev.textures.has("smooth") ? 0 : -1;
      const score = level < 0 ? 0.3 : term.value === "smooth" ? 1 - level : term.value === "textured" ? level : 1 - Math.abs(level - 0.5) * 2;
      return { score, why: level < 0 ? "texture not said" : `said "${[...ev.textures].join(", ")}"` };
    }
  }
}
