/**
 * Tokens, stopwords and the light query analysis of the wordnet reasoner: which words name the wanted
 * thing (the head noun phrase), which are context (other nouns: "for the ship", "the persons"), which are
 * negated, and which are geometric words (position, size, superlatives) settled from boxes, not text.
 */

export const STOPWORDS = new Set(
  (
    "a an the this that these those there here it its it's they them their we our you your i me my he she his her " +
    "is are was were be been being am do does did done can could will would shall should may might must " +
    "of in on at to for from by with into onto over under as about than then so such very too also just only " +
    "and or but nor if because while when where what which who whom whose why how all any both each every " +
    "some most more less many much few other another own same not no without except " +
    "has have had having get gets got often usually typically always sometimes like likely " +
    "s t don doesn isn aren wasn weren won can't cannot"
  ).split(" "),
);

/** Words that say "a region" and carry no content ("what object", "something that"). */
export const GENERIC_NOUNS = new Set(
  "object objects thing things something anything item items stuff one ones picture image photo photograph scene region regions mask masks area part parts kind type sort element elements"
    .split(" "),
);

/** Words after which the next content words are negated, until a boundary. */
export const NEGATORS = new Set(["not", "no", "without", "except", "excluding", "non", "isn't", "aren't", "never", "nor"]);

/** Words that end a noun phrase (prepositions other than "of", relative pronouns, modals, infinitive "to"). */
export const PHRASE_BREAKS = new Set(
  ("in on at to for from by with into onto over under near beside behind above below across through along around " +
    "that which who whom whose where when can could will would should may might must is are was were does do did " +
    "has have had used use uses").split(" "),
);

/** Words that make the next word a verb ("to cross", "persons use", "can offer"). */
export const VERB_CUES = new Set(
  "to can could will would should may might must do does did they we i you he she people persons who that".split(" "),
);

export type Direction = "left" | "right" | "top" | "bottom" | "center";
export type SizeWord = "large" | "small";

export interface GeometryWord {
  kind: "position" | "size";
  value: Direction | SizeWord;
  superlative: boolean;
  word: string;
}

const GEOMETRY: Record<string, Omit<GeometryWord, "word">> = {};
for (const [words, kind, value, superlative] of [
  ["left", "position", "left", false],
  ["leftmost left-most", "position", "left", true],
  ["right", "position", "right", false],
  ["rightmost right-most", "position", "right", true],
  ["top upper above", "position", "top", false],
  ["topmost uppermost highest", "position", "top", true],
  ["bottom lower below", "position", "bottom", false],
  ["bottommost lowest lowermost", "position", "bottom", true],
  ["middle center centre central", "position", "center", false],
  ["large big huge giant bigger larger", "size", "large", false],
  ["largest biggest", "size", "large", true],
  ["small tiny little smaller", "size", "small", false],
  ["smallest tiniest", "size", "small", true],
] as const) {
  for (const w of words.split(" ")) GEOMETRY[w] = { kind, value, superlative };
}

export function geometryWord(word: string): GeometryWord | undefined {
  const g = GEOMETRY[word];
  return g ? { ...g, word } : undefined;
}

/** Lower-case word tokens; possessive "'s" dropped; hyphenated words kept whole. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /[a-z0-9]+(?:[-'][a-z0-9]+)*/g;
  const lower = text.toLowerCase().replace(/[’‘]/g, "'");
  for (let m = re.exec(lower); m; m = re.exec(lower)) {
    let w = m[0];
    if (w.endsWith("'s")) w = w.slice(0, -2);
    if (w.endsWith("n't")) {
      out.push(w.slice(0, -3), "not");
      continue;
    }
    out.push(w);
  }
  return out;
}

/** Sentences, split after . ? ! (a question mark ends the main sentence). */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.?!])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Index of the sentence that asks (the last with "?" or a wh-word; else the last). */
export function mainSentenceIndex(parts: readonly string[]): number {
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.includes("?")) return i;
  for (let i = parts.length - 1; i >= 0; i--) if (/\b(what|which|who|where|find|segment|show)\b/i.test(parts[i]!)) return i;
  return parts.length - 1;
}
