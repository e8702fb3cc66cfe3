/**
 * WordNet expansions, weighted by relation and depth, with the reason each word was reached (for the
 * explanation). Query terms expand "outwards" (synonyms, parts, derivations, broader terms, definitions);
 * description words expand "upwards" (a tomato is a kind of food; a tomato is "mildly acid ... fruit").
 * Expansions are cached per lemma, so the 100 regions of a photo share the work.
 */
import { pointersWith, type Pointer, type Pos, type Synset, type WordNet } from "./wordnet-db.js";
import { GENERIC_NOUNS, STOPWORDS, tokenize } from "./text.js";

/** Which relations a query term follows. */
export interface QueryScope {
  gloss: boolean;
  kinds: boolean;
  broader: boolean;
  /** Related forms and similar words ("water" → the verb "water", "make water"). */
  related: boolean;
  /** How many senses to follow (default 6). */
  senses?: number;
}

/** How a word was reached and how much it counts (0..1). */
export interface Link {
  w: number;
  /** Human-readable relation, "" when the word itself. */
  why: string;
  /** Description side: reached through a definition (what the thing is for, made of, found on), not its name. */
  gloss?: boolean;
}
export type Expansion = Map<string, Link>;

/** Relation weights. Tuned by hand on meaning, not on the benchmark: identity > synonym > part/kind > gloss. */
export const WEIGHTS = {
  synonym: 0.95,
  similar: 0.85,
  definedAs: 0.85,
  hyponym: 0.85,
  compound: 0.8,
  meronym: 0.75,
  derivation: 0.7,
  hypernym1: 0.55,
  hypernym2: 0.4,
  holonym: 0.45,
  queryGloss: 0.35,
  entailment: 0.5,
  // description side
  descHypernymDecay: 0.93,
  descGloss: 0.6,
} as const;

const MERONYMS = new Set(["%p", "%m", "%s"]);
const HOLONYMS = new Set(["#p", "#m", "#s"]);
const HYPERNYMS = new Set(["@", "@i"]);
const HYPONYMS = new Set(["~", "~i"]);

/** The relations a query term follows, by pointer symbol (wndb(5WN)); other pointers are not followed. */
const HYPERNYM = 1, HYPONYM = 2, MERONYM = 3, HOLONYM = 4, DERIVATION = 5, SIMILAR = 6, ENTAILMENT = 7;
const RELATIONS = new Map<string, number>([
  ...[...HYPERNYMS].map((s) => [s, HYPERNYM] as const),
  ...[...HYPONYMS].map((s) => [s, HYPONYM] as const),
  ...[...MERONYMS].map((s) => [s, MERONYM] as const),
  ...[...HOLONYMS].map((s) => [s, HOLONYM] as const),
  ...["+", "\\", "="].map((s) => [s, DERIVATION] as const),
  ...["&", "^", "$"].map((s) => [s, SIMILAR] as const),
  ...["*", ">"].map((s) => [s, ENTAILMENT] as const),
]);

/** Whether a query term with scope `sc` follows a pointer of this relation (undefined: not one it knows). */
function follows(relation: number | undefined, sc: QueryScope): boolean {
  if (relation === undefined) return false;
  if (!sc.broader && (relation === HYPERNYM || relation === HOLONYM || relation === ENTAILMENT)) return false;
  if (!sc.kinds && (relation === HYPONYM || relation === MERONYM)) return false;
  if (!sc.related && (relation === DERIVATION || relation === SIMILAR)) return false;
  return true;
}

function put(map: Expansion, word: string, w: number, why: string, gloss = false): void {
  const old = map.get(word);
  if (!old || old.w < w) map.set(word, gloss ? { w, why, gloss } : { w, why });
}

/** The parts of speech a definition's words are read in, in order. */
const GLOSS_POS: readonly Pos[] = ["n", "a", "v"];

const show = (lemma: string) => `"${lemma.replace(/_/g, " ")}"`;

export class Lexicon {
  readonly wn: WordNet;
  private readonly glossCache = new Map<string, string[]>();
  private readonly queryCache = new Map<string, Expansion>();
  private readonly descCache = new Map<string, Expansion>();
  private readonly specCache = new Map<string, number>();

  constructor(wn: WordNet) {
    this.wn = wn;
  }

  /** Base forms of `word` for each part of speech it has, in the order of `prefer`. */
  lemmas(word: string, prefer: readonly Pos[] = ["n", "v", "a", "r"]): { lemma: string; pos: Pos }[] {
    const out: { lemma: string; pos: Pos }[] = [];
    for (const pos of prefer) for (const lemma of this.wn.morphy(word, pos)) out.push({ lemma, pos });
    return out;
  }

  /** The first base form of `word` in the first of `prefer` that has one (`lemmas(word, prefer)[0]`), looking up
   * no further part of speech: a definition's word is nearly always a noun, and each look-up costs a bisection
   * of an index file. */
  firstLemma(word: string, prefer: readonly Pos[]): string | undefined {
    for (const pos of prefer) {
      const forms = this.wn.morphy(word, pos);
      if (forms.length > 0) return forms[0];
    }
    return undefined;
  }

  /** Content lemmas of a synset's gloss (examples in quotes dropped), cached. */
  glossWords(s: Synset): string[] {
    const key = s.pos + s.offset;
    let words = this.glossCache.get(key);
    if (!words) {
      const definition = s.gloss.replace(/"[^"]*"/g, " ");
      words = [];
      for (const tok of tokenize(definition)) {
        if (STOPWORDS.has(tok) || tok.length < 3 || /^\d/.test(tok)) continue;
        const l = this.firstLemma(tok, GLOSS_POS) ?? tok;
        if (!words.includes(l)) words.push(l);
        // A past participle is also its verb: "powered by the wind" says the vessel is powered ("-ing"
        // words in definitions are mostly nouns: "a covering", "clothing").
        if (/ed$/.test(tok)) {
          const v = this.wn.morphy(tok, "v")[0];
          if (v !== undefined && !words.includes(v)) words.push(v);
        }
      }
      this.glossCache.set(key, words);
    }
    return words;
  }

  /** Noun entries whose last word is `head` ("sailing_ship" for "ship"): WordNet's compounds are mostly kinds of their head. */
  compounds(head: string): Promise<readonly string[]> {
    return this.wn.nounCompounds(head);
  }

  /** Senses of a common word: proper-noun senses ("Pole", "Mast") are dropped. */
  async senses(lemma: string, pos: Pos): Promise<Synset[]> {
    const all = await this.wn.lookup(lemma, pos);
    return all.filter((s) => {
      const k = s.words.indexOf(lemma);
      return k < 0 || !s.proper[k];
    });
  }

  /**
   * How specific a word is, 0.02..1: nouns by their first sense, the lesser of its depth below "entity" and
   * its intrinsic information content (how few synsets lie below it), so that links through "object",
   * "artifact", "whole" or "structure" count for almost nothing; other parts of speech 0.7. Cached.
   */
  async specificity(word: string): Promise<number> {
    const cached = this.specCache.get(word);
    if (cached !== undefined) return cached;
    const s = (await this.senses(word, "n"))[0];
    const value = s ? await this.synsetSpecificity(s) : 0.7;
    this.specCache.set(word, value);
    return value;
  }

  /** The specificity of one noun synset (see `specificity`); other parts of speech 0.7. */
  async synsetSpecificity(s: Synset): Promise<number> {
    const key = "#" + s.pos + s.offset;
    const cached = this.specCache.get(key);
    if (cached !== undefined) return cached;
    let value = 0.7;
    if (s.pos === "n") {
      let depth = 0;
      let cur: Synset | undefined = s;
      while (cur && depth < 30) {
        const up: Pointer | undefined = pointersWith(cur, HYPERNYMS)[0];
        if (!up) break;
        cur = await this.wn.synset(up.offset, up.pos);
        depth++;
      }
      const { size, total } = await this.wn.nounSubtreeSizes();
      const ic = 1 - Math.log(size.get(s.offset) ?? 1) / Math.log(total);
      value = Math.min(1, Math.max(0.02, Math.min((depth - 3) / 4, (ic - 0.2) / 0.4)));
    }
    this.specCache.set(key, value);
    return value;
  }

  private readonly rarityCache = new Map<string, number>();

  /**
   * How informative a word is inside definitions, 0.1..1: an inverse document frequency over the noun
   * glosses (words starting with it: "use" also counts "used", "uses"). "used" is in a tenth of all
   * definitions and says little; "water" or "travel" say more. Cached.
   */
  async glossRarity(word: string): Promise<number> {
    const cached = this.rarityCache.get(word);
    if (cached !== undefined) return cached;
    const { df, total } = await this.wn.glossFrequency(word.replace(/_/g, " "), "n");
    const value = Math.min(1, Math.max(0.1, Math.log(total / Math.max(1, df)) / Math.log(total / 20)));
    this.rarityCache.set(word, value);
    return value;
  }

  /**
   * Query-side expansion of a lemma in the given parts of speech. `scope` (default: everything) can leave
   * out definitions, kinds (hyponyms and compounds) and broader terms (hypernyms, holonyms, entailments).
   */
  async expandQuery(lemma: string, poses: readonly Pos[], scope: boolean | Partial<QueryScope> = true): Promise<Expansion> {
    const all: QueryScope = { gloss: true, kinds: true, broader: true, related: true };
    const sc: QueryScope = typeof scope === "boolean" ? { ...all, gloss: scope } : { ...all, ...scope };
    const withGloss = sc.gloss;
    const key = lemma + "/" + poses.join("") + (withGloss ? "/g" : "") + (sc.kinds ? "/k" : "") + (sc.broader ? "/b" : "") + (sc.related ? "/r" : "") + "/" + (sc.senses ?? 6);
    const cached = this.queryCache.get(key);
    if (cached) return cached;
    const map: Expansion = new Map();
    map.set(lemma, { w: 1, why: "" });
    const me = show(lemma);
    for (const pos of poses) {
      const senses = await this.senses(lemma, pos);
      for (let k = 0; k < senses.length && k < (sc.senses ?? 6); k++) {
        const s = senses[k]!;
        const sw = Math.max(0.6, 1 - 0.08 * k);
        for (const w of s.words) if (w !== lemma) put(map, w, WEIGHTS.synonym * sw, `synonym of ${me}`);
        if (withGloss && k < 3) for (const g of this.glossWords(s)) put(map, g, WEIGHTS.queryGloss * sw, `in the definition of ${me}`);
        // A word with hundreds of kinds ("person": divider, fastener, white ...) says little through any one of them.
        let kindShare: number | undefined;
        // The synsets the loop below reads, and the parts of the kinds among them, read ahead together.
        const followed = s.pointers.filter((p) => follows(RELATIONS.get(p.symbol), sc));
        this.wn.prefetch(followed);
        this.prefetchParts(followed.filter((p) => RELATIONS.get(p.symbol) === HYPONYM));
        for (const p of s.pointers) {
          // The pointed-to synset is read only for a relation followed (domains, antonyms and the like are not).
          const relation = RELATIONS.get(p.symbol);
          if (!follows(relation, sc)) continue;
          const t = await this.wn.synset(p.offset, p.pos);
          if (relation === HYPERNYM) {
            for (const w of t.words) put(map, w, WEIGHTS.hypernym1 * sw, `${me} is a kind of ${show(w)} (hypernym)`);
            for (const p2 of pointersWith(t, HYPERNYMS)) {
              const t2 = await this.wn.synset(p2.offset, p2.pos);
              for (const w of t2.words) put(map, w, WEIGHTS.hypernym2 * sw, `${me} is a kind of ${show(w)} (hypernym)`);
            }
          } else if (relation === HYPONYM) {
            kindShare ??= Math.min(1, 4 / Math.sqrt(s.pointers.filter((q) => HYPONYMS.has(q.symbol)).length));
            const share = kindShare;
            for (const w of t.words) put(map, w, WEIGHTS.hyponym * sw * share, `a kind of ${me} (hyponym)`);
            await this.addMeronyms(map, t, `part of ${show(t.words[0]!)}, a kind of ${me} (meronym)`, sw * share);
          } else if (relation === MERONYM) {
            for (const w of t.words) put(map, w, WEIGHTS.meronym * sw, `part of ${me} (meronym)`);
          } else if (relation === HOLONYM) {
            for (const w of t.words) put(map, w, WEIGHTS.holonym * sw, `has ${me} as a part (holonym)`);
          } else if (relation === DERIVATION) {
            for (const w of t.words) put(map, w, WEIGHTS.derivation * sw, `related form of ${me}`);
          } else if (relation === SIMILAR) {
            for (const w of t.words) put(map, w, WEIGHTS.similar * sw, `similar to ${me}`);
          } else {
            for (const w of t.words) put(map, w, WEIGHTS.entailment * sw, `implied by ${me}`);
          }
        }
      }
      if (pos === "n" && sc.kinds) {
        const compounds = (await this.compounds(lemma)).slice(0, 400);
        const firsts: Pointer[] = [];
        for (const c of compounds) {
          const offset = this.wn.firstNounOffset(c);
          if (offset !== undefined) firsts.push({ symbol: "", offset, pos: "n" });
        }
        this.wn.prefetch(firsts);
        this.prefetchParts(firsts);
        for (const c of compounds) {
          // Only the most frequent sense is wanted: the others are not read.
          const off = this.wn.firstNounOffset(c);
          if (off === undefined) continue;
          const first = await this.wn.synset(off, "n");
          put(map, c, WEIGHTS.compound, `a kind of ${me}`);
          await this.addMeronyms(map, first, `part of ${show(c)}, a kind of ${me} (meronym)`, WEIGHTS.compound);
        }
      }
    }
    this.queryCache.set(key, map);
    return map;
  }

  /** Reads ahead the parts of the synsets `pointers` lead to (those read already), for `addMeronyms`. */
  private prefetchParts(pointers: readonly Pointer[]): void {
    const parts: Pointer[] = [];
    for (const p of pointers) {
      const t = this.wn.readSynset(p.offset, p.pos);
      if (t) for (const q of pointersWith(t, MERONYMS)) parts.push(q);
    }
    this.wn.prefetch(parts);
  }

  private async addMeronyms(map: Expansion, s: Synset, why: string, factor: number): Promise<void> {
    for (const p of pointersWith(s, MERONYMS)) {
      const t = await this.wn.synset(p.offset, p.pos);
      for (const w of t.words) put(map, w, WEIGHTS.meronym * factor, why);
    }
  }

  /**
   * Synsets defined by a multi-word phrase ("conveyance: something that serves as a means of
   * transportation"): the phrase ends the first clause of the gloss or starts it after an article.
   */
  async definedAs(phrase: string): Promise<Expansion> {
    const map: Expansion = new Map();
    const hits = await this.wn.glossSearch(phrase, "n", 200);
    for (const s of hits) {
      const first = (s.gloss.split(";")[0] ?? "").replace(/\(.*?\)/g, "").trim().toLowerCase();
      if (first.endsWith(phrase) || new RegExp(`^(a|an|the|any)? ?${phrase}\\b`).test(first)) {
        for (const w of s.words) put(map, w, WEIGHTS.definedAs, `${show(w)} is "${first}"`);
      }
    }
    return map;
  }

  /**
   * Description-side expansion of a description word. `full` (the words that name the region) adds
   * broader terms with their definitions; other words get broader terms only.
   */
  async expandDescription(lemma: string, pos: Pos, full: boolean): Promise<Expansion> {
    const key = `${lemma}/${pos}/${full ? 1 : 0}`;
    const cached = this.descCache.get(key);
    if (cached) return cached;
    const map: Expansion = new Map();
    map.set(lemma, { w: 1, why: "" });
    const me = show(lemma);
    const senses = await this.senses(lemma, pos);
    // Nouns: the first (most frequent) sense only; DAM names visible things ("mast" the pole, not the
    // nuts fed to swine). Adjectives and verbs: two senses.
    for (let k = 0; k < senses.length && k < (pos === "n" ? 1 : 2); k++) {
      const s = senses[k]!;
      const sw = k === 0 ? 1 : 0.85;
      for (const w of s.words) if (w !== lemma) put(map, w, WEIGHTS.synonym * sw, `${me} is also called ${show(w)}`);
      if (full) for (const g of this.glossWords(s)) put(map, g, WEIGHTS.descGloss * sw, `${me} is "${firstClause(s.gloss)}"`, true);
      if (pos === "a" || pos === "v") {
        for (const p of s.pointers) {
          if (p.symbol !== "&" && p.symbol !== "+" && p.symbol !== "\\") continue;
          const t = await this.wn.synset(p.offset, p.pos);
          for (const w of t.words) put(map, w, WEIGHTS.similar * sw, `${me} ~ ${show(w)}`);
        }
      }
      // What the thing is part of, with its definition (a sail is part of a sailing vessel, "a vessel
      // that is powered by the wind"): weaker than what the thing itself is.
      if (full && pos === "n") {
        for (const p of pointersWith(s, HOLONYMS)) {
          const t = await this.wn.synset(p.offset, p.pos);
          for (const word of t.words) put(map, word, WEIGHTS.holonym * sw, `${me} is part of ${show(word)}`);
          const gw = WEIGHTS.holonym * (await this.synsetSpecificity(t)) * sw;
          for (const g of this.glossWords(t)) put(map, g, gw, `${me} is part of ${show(t.words[0]!)}: "${firstClause(t.gloss)}"`, true);
        }
      }
      // Broader terms, breadth first, each reached once, weight decaying with depth.
      let frontier: Synset[] = [s];
      const seen = new Set<number>([s.offset]);
      for (let depth = 1; depth <= (full ? 10 : 4) && frontier.length; depth++) {
        const next: Synset[] = [];
        for (const f of frontier) {
          for (const p of pointersWith(f, HYPERNYMS)) {
            if (seen.has(p.offset)) continue;
            seen.add(p.offset);
            const t = await this.wn.synset(p.offset, p.pos);
            next.push(t);
            const w = Math.pow(WEIGHTS.descHypernymDecay, depth) * sw;
            for (const word of t.words) put(map, word, w, `${me} is a kind of ${show(word)}`);
            if (full && depth <= 6) {
              // What is true of a boat is true of a canoe: a broader term's definition is inherited, less
              // the broader the term ("instrumentality" says little) and a little less at each step.
              const gw = WEIGHTS.descGloss * (await this.synsetSpecificity(t)) * w;
              for (const g of this.glossWords(t)) put(map, g, gw, `${me} is a kind of ${show(t.words[0]!)}: "${firstClause(t.gloss)}"`, true);
            }
          }
        }
        frontier = next;
      }
    }
    this.descCache.set(key, map);
    return map;
  }
}

function firstClause(gloss: string): string {
  return (gloss.split(";")[0] ?? "").trim();
}

export { GENERIC_NOUNS };
