/**
 * A light part-of-speech reading of region descriptions and queries, enough to tell which words name the
 * thing and which describe it. DAM descriptions are simple noun-phrase prose ("A long, narrow, rustic boat
 * with a curved hull. The boat features ..."), so closed-class words and punctuation split a sentence into
 * runs of open words; commas and "and" join runs of modifiers ("long, narrow, rustic"); in a run the last
 * word with a noun reading is the head noun and the words before it are modifiers (adjectives when WordNet
 * has them as adjectives, else nouns used as modifiers: "kitchen knife"); a word ending in -ly is an adverb;
 * a word with a verb reading right before a determiner is a verb ("The boat features a ..."). WordNet's
 * index membership and its tagged-sense counts break the remaining ties. The subject of the first clause
 * (its head nouns, through a partitive "the visible part of the boat" to "boat") names the region.
 */
import type { Pos, WordNet } from "./wordnet-db.js";
import { GENERIC_NOUNS } from "./text.js";

export type Tag = Pos | "det" | "prep" | "conj" | "aux" | "pron" | "num" | "punct";

export interface TaggedWord {
  /** The word as written (lower case; collocations are not merged here). */
  text: string;
  tag: Tag;
  /** Sentence index (0-based). */
  sentence: number;
  /** The head noun of its noun phrase. */
  head: boolean;
  /** A possessive ("dog's"): a noun that modifies the next noun phrase. */
  possessive: boolean;
}

export interface DescriptionReading {
  words: TaggedWord[];
  /** Head nouns of the subject of the first clause (text as written), in order. */
  subject: string[];
  /** Nouns modifying the subject ("tomato" in "a tomato slice", "dog" in "a dog's fur"). */
  subjectModifiers: string[];
  /** Indexes into `words` of the subject's head nouns and of its modifier nouns. */
  subjectIndex: number[];
  modifierIndex: number[];
}

const DETERMINERS = new Set(
  "a an the this that these those its their his her our your my some each every any no another either neither both several".split(" "),
);
const PREPOSITIONS = new Set(
  ("of in on at to for from by with into onto over under near beside besides behind above below across through along around " +
    "against toward towards upon within without between among amid beneath underneath inside outside atop via like than as about").split(" "),
);
const CONJUNCTIONS = new Set("and or but nor while whereas although though because so yet if".split(" "));
const AUXILIARIES = new Set(
  ("is are was were be been being am has have had do does did can could will would shall should may might must " +
    "appears appear appeared seems seem seemed looks look consists consist features feature shows show showing featuring " +
    "giving gives creating creates suggesting suggests indicating indicates possibly likely").split(" "),
);
const MODALS = new Set("can could will would shall should may might must do does did".split(" "));
const PRONOUNS = new Set("it they them which who whom whose what there here one ones he she him we i you".split(" "));
/** Nouns that name a portion, view or group of something else: "the visible part of the boat" is the boat. */
const PARTITIVES = new Set(
  "part parts portion portions section sections piece pieces segment segments view close-up closeup series set row rows pair group cluster bunch pile stack edge side slice slices wedge half halves chunk chunks strip strips sliver dollop scoop"
    .split(" "),
);

function closedTag(w: string): Tag | undefined {
  if (DETERMINERS.has(w)) return "det";
  if (PREPOSITIONS.has(w)) return "prep";
  if (CONJUNCTIONS.has(w)) return "conj";
  if (AUXILIARIES.has(w)) return "aux";
  if (PRONOUNS.has(w)) return "pron";
  if (/^\d+(\.\d+)?%?$/.test(w)) return "num";
  return undefined;
}

/** Tokens with punctuation kept as its own token; "'s" marks a possessive. */
function rawTokens(text: string): { text: string; possessive: boolean }[] {
  const out: { text: string; possessive: boolean }[] = [];
  const re = /[a-z0-9]+(?:[-'][a-z0-9]+)*%?|[,.;:!?()]/g;
  const lower = text.toLowerCase().replace(/[’‘]/g, "'");
  for (let m = re.exec(lower); m; m = re.exec(lower)) {
    let w = m[0];
    let possessive = false;
    if (w.endsWith("'s")) {
      w = w.slice(0, -2);
      possessive = true;
    } else if (w.endsWith("s'")) {
      w = w.slice(0, -1);
      possessive = true;
    }
    if (w.endsWith("n't")) {
      out.push({ text: w.slice(0, -3), possessive: false }, { text: "not", possessive: false });
      continue;
    }
    out.push({ text: w, possessive });
  }
  return out;
}

export class PosTagger {
  readonly wn: WordNet;
  private readonly readings = new Map<string, Set<Pos>>();

  constructor(wn: WordNet) {
    this.wn = wn;
  }

  /** The parts of speech WordNet has for a word (through morphy). */
  posesOf(word: string): Set<Pos> {
    let set = this.readings.get(word);
    if (!set) {
      set = new Set();
      for (const p of ["n", "v", "a", "r"] as Pos[]) if (this.wn.morphy(word, p).length > 0) set.add(p);
      this.readings.set(word, set);
    }
    return set;
  }

  /** Tagged-corpus count of a word's base forms in `pos`. */
  private frequency(word: string, pos: Pos): number {
    let n = 0;
    for (const l of this.wn.morphy(word, pos)) n += this.wn.taggedCount(l, pos);
    return n;
  }

  private isAdverb(word: string): boolean {
    const p = this.posesOf(word);
    return /ly$/.test(word) && (p.has("r") || !p.has("n"));
  }

  /** Can be an adjective: WordNet has it as one, or it is a participle ("curved", "running"). */
  private adjectival(word: string): boolean {
    const p = this.posesOf(word);
    return p.has("a") || (/(ed|ing|en)$/.test(word) && p.has("v"));
  }

  /** A modifier word before a head noun: adjective when WordNet has one (or it is a participle), else a noun. */
  private modifierTag(word: string): Pos {
    const p = this.posesOf(word);
    if (p.has("a")) return "a";
    if (/(ed|ing|en)$/.test(word) && p.has("v")) return "a";
    if (p.has("n")) return "n";
    if (p.has("v")) return "v";
    return "a";
  }

  /** Tag a text (a description or a query). */
  tag(text: string): DescriptionReading {
    const toks = rawTokens(text);
    const words: TaggedWord[] = [];
    let sentence = 0;
    for (const t of toks) {
      const punct = /^[,.;:!?()]$/.test(t.text);
      words.push({ text: t.text, tag: punct ? "punct" : (closedTag(t.text) ?? "n"), sentence, head: false, possessive: t.possessive });
      if (punct && /[.;!?]/.test(t.text)) sentence++;
    }
    // Open words: adverbs first, then verbs that precede a determiner or a pronoun object.
    const open = (k: number) => words[k] !== undefined && words[k]!.tag !== "punct" && closedTag(words[k]!.text) === undefined;
    for (let k = 0; k < words.length; k++) {
      if (!open(k)) continue;
      const w = words[k]!;
      const p = this.posesOf(w.text);
      if (w.possessive) w.tag = "n";
      else if (this.isAdverb(w.text)) w.tag = "r";
      else if (p.size === 0) w.tag = "n";
      else if (p.has("v") && this.verbContext(words, k, open)) w.tag = "v";
      else w.tag = "n"; // provisional: settled by the run analysis below
    }
    // Runs of open words (verbs and adverbs split them; commas and "and" join runs of modifiers).
    let k = 0;
    while (k < words.length) {
      if (!open(k) || words[k]!.tag === "v") {
        k++;
        continue;
      }
      const run: number[] = [];
      let j = k;
      for (;;) {
        while (j < words.length && open(j) && words[j]!.tag !== "v" && !words[j]!.possessive) {
          run.push(j);
          j++;
        }
        if (j < words.length && words[j]!.possessive && open(j)) {
          // "a dog's white fur": the possessive closes its own phrase and the run goes on.
          run.push(j);
          j++;
          continue;
        }
        // ", " or " and " between modifiers: "long, narrow, rustic boat", "soft and comfortable surface".
        const sep = words[j];
        const last = run.length ? words[run[run.length - 1]!]! : undefined;
        if (sep && last && (sep.text === "," || sep.text === "and") && open(j + 1) && words[j + 1]!.tag !== "v") {
          // Both sides read as adjectives (or participles): a list of modifiers, not two phrases.
          if ((this.adjectival(last.text) || last.tag === "r") && (this.adjectival(words[j + 1]!.text) || this.isAdverb(words[j + 1]!.text))) {
            j++;
            continue;
          }
        }
        break;
      }
      this.settleRun(words, run);
      k = Math.max(j, k + 1);
    }
    // Pronouns, numbers and the like stay closed; a remaining untagged open word keeps "n".
    const { subjectIndex, modifierIndex } = this.subjectOf(words);
    const at = (i: number) => words[i]!.text;
    return { words, subject: subjectIndex.map(at), subjectModifiers: modifierIndex.map(at), subjectIndex, modifierIndex };
  }

  /**
   * A verb-capable word is a verb: after a noun and before a determiner or object pronoun ("the boat
   * features a ..."), after a modal ("can offer") or infinitive "to" ("to cross the water", "to lie on"),
   * or after a noun and before "to" ("persons use to ...").
   */
  private verbContext(words: TaggedWord[], k: number, open: (k: number) => boolean): boolean {
    const prev = words[k - 1];
    const next = words[k + 1];
    const nextClosed = next === undefined || next.tag === "det" || next.tag === "prep" || next.tag === "punct" || next.tag === "pron";
    if (prev && MODALS.has(prev.text)) return true;
    if (prev?.text === "to" && nextClosed) return true;
    if (k > 0 && open(k - 1) && (next?.tag === "det" || next?.tag === "pron")) return true;
    if (k > 0 && open(k - 1) && next?.text === "to" && !this.adjectival(words[k]!.text)) return true;
    return false;
  }

  /** The last noun-capable word of a run is its head; the words before it modify it. */
  private settleRun(words: TaggedWord[], run: number[]): void {
    const body = run.filter((i) => words[i]!.tag !== "r");
    // A trailing participle after a noun is a verb: "a ridge running along", "a boat moored at".
    while (body.length >= 2) {
      const last = words[body[body.length - 1]!]!;
      const before = words[body[body.length - 2]!]!;
      if (!/(ing|ed)$/.test(last.text) || !this.posesOf(last.text).has("v") || !this.posesOf(before.text).has("n")) break;
      last.tag = "v";
      body.pop();
    }
    let head = -1;
    for (let q = body.length - 1; q >= 0; q--) {
      const w = words[body[q]!]!;
      if (w.possessive) break;
      const p = this.posesOf(w.text);
      if (p.has("n") || p.size === 0) {
        head = q;
        break;
      }
    }
    // A run after a determiner or possessive whose last word also reads as an adjective (predicate "is
    // green") is still a noun phrase; a run with no noun reading is a list of adjectives or verbs.
    for (let q = 0; q < body.length; q++) {
      const w = words[body[q]!]!;
      if (w.possessive) {
        w.tag = "n";
        continue;
      }
      if (q === head) {
        w.tag = "n";
        w.head = true;
      } else if (head >= 0 && q < head) {
        w.tag = this.modifierTag(w.text);
      } else {
        const p = this.posesOf(w.text);
        w.tag = p.has("a") ? "a" : p.has("v") ? "v" : p.has("r") ? "r" : "n";
      }
    }
  }

  /** The subject of the first clause: its head nouns ("and"-joined), through partitives and generic heads. */
  private subjectOf(words: TaggedWord[]): { subjectIndex: number[]; modifierIndex: number[] } {
    const subject: number[] = [];
    const subjectModifiers: number[] = [];
    let k = 0;
    // The first noun phrase of the first sentence; stop at the first verb or auxiliary.
    for (; k < words.length; k++) {
      const w = words[k]!;
      if (w.tag === "aux" || w.tag === "v" || (w.tag === "punct" && w.text !== ",")) break;
      if (w.tag === "prep" && w.text !== "of") break;
      if (w.tag === "n" && w.possessive) {
        subjectModifiers.push(k);
        continue;
      }
      if (w.tag === "n" && !w.head) {
        subjectModifiers.push(k);
        continue;
      }
      if (!w.head) continue;
      const through = words[k + 1]?.text === "of" && (PARTITIVES.has(w.text) || GENERIC_NOUNS.has(w.text));
      if (through) {
        // "the visible part of the boat": the boat; the partitive stays a weak name.
        subjectModifiers.push(k);
        k++;
        continue;
      }
      if (!GENERIC_NOUNS.has(w.text)) subject.push(k);
      // "a tomato slice", "a cheese wedge": the modifier noun says what the portion is of.
      if (PARTITIVES.has(w.text)) {
        for (let q = k - 1; q >= 0 && (words[q]!.tag === "n" || words[q]!.tag === "a") && !words[q]!.head; q--) {
          if (words[q]!.tag === "n" && !words[q]!.possessive) {
            const at = subjectModifiers.indexOf(q);
            if (at >= 0) subjectModifiers.splice(at, 1);
            subject.push(q);
          }
        }
      }
      // "X of Y" keeps Y as a modifier ("a wedge of cheese": a wedge, of cheese); "X and Y" both heads.
      const next = words[k + 1];
      if (next?.text === "of") {
        for (let q = k + 2; q < words.length; q++) {
          const u = words[q]!;
          if (u.tag === "aux" || u.tag === "v" || u.tag === "punct" || (u.tag === "prep" && u.text !== "of")) break;
          if (u.head) {
            subjectModifiers.push(q);
            break;
          }
        }
        break;
      }
      if (next?.text === "and" && words[k + 2] !== undefined) continue;
      break;
    }
    return { subjectIndex: subject, modifierIndex: subjectModifiers };
  }
}
