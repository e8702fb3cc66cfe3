import { createBackend } from "../../stack/registry.js";
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadMaskPng } from "../../image/decode.js";
import { maskBbox } from "../../masks/bbox.js";
import { maskArea } from "../../masks/rle.js";
import type { ReasonRequest, RegionFacts } from "../../pipeline/types.js";
import { UsageError } from "../../util/errors.js";
import { Lexicon } from "./expand.js";

import { openWordNet } from "./wordnet-db.js";
import { conformance, squaresScene } from "../../../test/helpers/conformance.js";
import { glossFrequencyByLines } from "../../../test/oracles/gloss-frequency.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");
const samples = resolve(repoRoot, "../shared/data/gear-seg-samples");

describe("WordNet reader and morphy", () => {
  it("follows hypernyms, glosses and lemmatises", async () => {
    const wn = await openWordNet();
    const car = (await wn.lookup("car", "n"))[0]!;
    expect(car.words).toContain("automobile");
    const chain: string[] = [];
    let cur = car;
    for (let d = 0; d < 6; d++) {
      const up = cur.pointers.find((p) => p.symbol === "@");
      if (!up) break;
      cur = await wn.synset(up.offset, up.pos);
      chain.push(...cur.words);
    }
    expect(chain).toContain("motor_vehicle");
    expect(chain).toContain("vehicle");
    expect((await wn.lookup("tomato", "n"))[0]!.gloss).toMatch(/acid/);
    expect(wn.morphy("strawberries", "n")).toEqual(["strawberry"]);
    expect(wn.morphy("ran", "v")[0]).toBe("run");
    expect(wn.morphy("boxes", "n")).toContain("box");
    expect(wn.morphy("running", "v")).toContain("run");
    expect(wn.morphy("glass", "n")).toEqual(["glass"]);
    expect(wn.morphy("xyzzies", "n")).toEqual([]);
  });

  it("counts the definitions a word starts a word of as a line-by-line reading does", async () => {
    const wn = await openWordNet();
    await wn.nounSubtreeSizes(); // its scan counts the synsets too (glossFrequency's total)
    const words = ["metal", "form", "means", "road", "transportation", "street light", "co-op"];
    const want = glossFrequencyByLines(await readFile(join(wn.dictDir, "data.noun")), words);
    for (const [k, word] of words.entries()) expect(await wn.glossFrequency(word, "n"), word).toEqual(want[k]);
  });

  it("finds the compounds that end in a word as a line-by-line reading of the index does", async () => {
    const wn = await openWordNet();
    const lemmas = (await readFile(join(wn.dictDir, "index.noun"), "utf8"))
      .split("\n")
      .filter((line) => line.length > 0 && !line.startsWith(" "))
      .map((line) => line.slice(0, line.indexOf(" ")));
    for (const head of ["ship", "car", "tree", "light", "a", "sailing_ship", "zzzz"]) {
      const want = lemmas.filter((l) => l.lastIndexOf("_") > 0 && l.slice(l.lastIndexOf("_") + 1) === head);
      expect(await wn.nounCompounds(head), head).toEqual(want);
    }
    expect(await wn.nounCompounds("ship")).toContain("sailing_ship");
  });

  it("expands terms by relation", async () => {
    const lex = new Lexicon(await openWordNet());
    const ship = await lex.expandQuery("ship", ["n"]);
    expect(ship.get("sail")?.why).toMatch(/part of .*meronym/);
    expect(ship.get("deck")?.why).toMatch(/part of "ship"/);
    const sour = await lex.expandQuery("sour", ["a"]);
    expect(sour.get("acidic")?.why).toMatch(/similar to "sour"/);
    const tomato = await lex.expandDescription("tomato", "n", true);
    expect(tomato.get("food")?.why).toMatch(/"tomato" is a kind of "food"/);
    expect(tomato.get("acid")).toBeDefined();
    const conveyance = await lex.definedAs("means of transportation");
    expect(conveyance.has("conveyance")).toBe(true);
  });
});

const box = (x: number, y: number, w: number, h: number): RegionFacts["bbox"] => [x, y, w, h];
const facts: RegionFacts[] = [
  { id: 0, description: "A shiny red apple with a short brown stem.", bbox: box(10, 40, 30, 30), area: 700 },
  { id: 1, description: "A large red ball with a smooth rubber surface.", bbox: box(200, 50, 80, 80), area: 5000 },
  { id: 2, description: "A green apple with a glossy skin.", bbox: box(120, 45, 30, 30), area: 710 },
  { id: 3, description: "A wooden kitchen knife with a sharp steel blade.", bbox: box(60, 150, 90, 10), area: 600 },
];
const request = (query: string, mode: ReasonRequest["mode"] = "referring"): ReasonRequest => ({
  query, mode, scene: "", regions: facts, imageWidth: 300, imageHeight: 200, maxMasks: 6,
});

describe("wordnet reasoner on hand-made regions", () => {
  it("settles superlatives, negation, glosses and no-match", async () => {
    const r = await createBackend("reasoner", "wordnet", {});
    expect((await r.reason(request("the smallest red thing"))).maskIds).toEqual([0]);
    expect((await r.reason(request("the largest red object"))).maskIds).toEqual([1]);
    expect((await r.reason(request("the leftmost apple"))).maskIds).toEqual([0]);
    expect((await r.reason(request("the rightmost apple"))).maskIds).toEqual([2]);
    expect((await r.reason(request("the apple that is not red"))).maskIds).toEqual([2]);
    expect((await r.reason(request("the apples"))).maskIds.sort()).toEqual([0, 2]);
    expect((await r.reason(request("the fruit"))).maskIds.sort()).toEqual([0, 2]);
    const cut = await r.reason(request("something used to cut bread", "reasoning"));
    expect(cut.maskIds).toEqual([3]);
    expect(cut.explanation).toMatch(/Mask 3: .*"cut"/);
    const none = await r.reason(request("the telescope"));
    expect(none.maskIds).toEqual([]);
    expect(none.confidence).toBe(0);
  });

  it("reports scores a reader can place, and no bare zero score", async () => {
    const r = await createBackend("reasoner", "wordnet", {});
    const apples = await r.reason(request("the apples"));
    const lines = apples.explanation.split("\n");
    expect(lines[0]).toMatch(/\(score \d\.\d\d, the best of 4 regions\)$/);
    expect(lines[1]).toMatch(/\(score \d\.\d\d, \d+% of the best\)$/);
    // A superlative among matches: placed against the best match, not called the best itself.
    expect((await r.reason(request("the smallest red thing"))).explanation).toMatch(/\(score 0\.77, the best of 4 regions\)$/);
    expect((await r.reason(request("the largest red object"))).explanation).toMatch(/\(score 0\.70, 91% of the best\)$/);
    // Size alone: no score to show.
    const largest = await r.reason(request("the largest one"));
    expect(largest.maskIds).toHaveLength(1);
    expect(largest.explanation).not.toMatch(/score/);
    // Nothing related: say so, not "best score 0.00".
    for (const query of ["the telescope", "where can I sit?"]) {
      const none = await r.reason(request(query));
      expect(none.maskIds).toEqual([]);
      expect(none.explanation).not.toMatch(/0\.00/);
    }
  });

  it("validates options with the key's name", async () => {
    await expect(createBackend("reasoner", "wordnet", { ratios: 0.5 })).rejects.toThrow(/unknown option "ratios"/);
    await expect(createBackend("reasoner", "wordnet", { ratio: 2 })).rejects.toBeInstanceOf(UsageError);
    const r = await createBackend("reasoner", "wordnet", { ratio: 0.1, maxMasks: 1 });
    expect((await r.reason(request("the apples"))).maskIds).toHaveLength(1);
  });
});

/** Sample image: regions from the SAM masks, query, descriptions, and a simple ground-truth raster. */
async function loadSample(name: string) {
  const out = join(samples, "outputs/reasonseg_task/ReasonSeg_val");
  const question = JSON.parse(await readFile(join(samples, "dataset/ReasonSeg_val/questions", `${name}.json`), "utf8"));
  const des = JSON.parse(await readFile(join(out, "dam/descriptions", `${name}.json`), "utf8"));
  const dir = join(out, "sam/masks", name);
  const masks = new Map<number, Uint8Array>();
  const regions: RegionFacts[] = [];
  let width = 0, height = 0;
  for (const f of (await readdir(dir)).filter((f) => /^mask_\d+\.png$/.test(f))) {
    const id = Number(f.slice(5, -4));
    const mask = await loadMaskPng(join(dir, f));
    width = mask.width; height = mask.height;
    masks.set(id, mask.data);
    if (des[String(id)]) regions.push({ id, description: des[String(id)].des, bbox: maskBbox(mask) ?? [0, 0, 0, 0], area: maskArea(mask) });
  }
  regions.sort((a, b) => a.id - b.id);
  // Ground truth: pixel centres inside the `target` polygons (even-odd), `ignore` polygons excluded.
  const gt = new Uint8Array(width * height);
  const shapes = (question.shapes as { label: string; points: [number, number][] }[]).filter((s) => s.label === "target" || s.label === "ignore");
  for (const s of shapes) {
    const pts = s.points;
    for (let y = 0; y < height; y++) {
      const xs: number[] = [];
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [xa, ya] = pts[i]!, [xb, yb] = pts[j]!;
        if ((ya > y + 0.5) !== (yb > y + 0.5)) xs.push(xa + ((y + 0.5 - ya) * (xb - xa)) / (yb - ya));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2)
        for (let x = Math.max(0, Math.ceil(xs[k]! - 0.5)); x <= Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5)); x++)
          gt[y * width + x] = s.label === "target" ? 1 : 255;
    }
  }
  const iou = (ids: number[]) => {
    let i = 0, u = 0;
    for (let p = 0; p < gt.length; p++) {
      if (gt[p] === 255) continue;
      const pred = ids.some((id) => masks.get(id)![p] === 1);
      if (pred && gt[p]) i++;
      if (pred || gt[p]) u++;
    }
    return u ? i / u : 1;
  };
  const overlapsTarget = (id: number) => {
    const m = masks.get(id)!;
    for (let p = 0; p < gt.length; p++) if (m[p] && gt[p] === 1) return true;
    return false;
  };
  return { query: question.text[0] as string, scene: des.whole?.des ?? "", regions, width, height, iou, overlapsTarget };
}

describe("wordnet reasoner on the GEAR-Seg samples (real DAM descriptions)", () => {
  const cases: [string, number][] = [
    ["3417356_b6f97b6b6e_o", 0.8], // "the source of power for the ship" → sails
    ["4220420_7397afecdb_o", 0.8], // "the sour food" → tomatoes (gloss: "mildly acid")
    ["692198_ac99d18ac5_o", 0.8], // "a soft and comfortable surface for the dog to lie on" → carpet
  ];
  for (const [name, minIou] of cases) {
    it(`${name}: IoU ≥ ${minIou}`, async () => {
      const s = await loadSample(name);
      const r = await createBackend("reasoner", "wordnet", {});
      const answer = await r.reason({ query: s.query, mode: "reasoning", scene: s.scene, regions: s.regions, imageWidth: s.width, imageHeight: s.height, maxMasks: 6 });
      expect(answer.maskIds.length).toBeGreaterThan(0);
      expect(answer.maskIds.some((id) => s.overlapsTarget(id))).toBe(true);
      expect(s.iou(answer.maskIds)).toBeGreaterThanOrEqual(minIou);
      expect(answer.explanation).toMatch(new RegExp(`Mask ${answer.maskIds[0]}: `));
    });
  }
  it("4537339_3d8e488294_o: a chosen region overlaps the boat", async () => {
    const s = await loadSample("4537339_3d8e488294_o");
    const r = await createBackend("reasoner", "wordnet", {});
    const answer = await r.reason({ query: s.query, mode: "reasoning", scene: s.scene, regions: s.regions, imageWidth: s.width, imageHeight: s.height, maxMasks: 6 });
    expect(answer.maskIds.some((id) => s.overlapsTarget(id))).toBe(true);
  });
});

describe("part of speech and definitions in descriptions", () => {
  it("reads adjectives as adjectives and finds the subject's head nouns", async () => {
    const { PosTagger } = await import("./pos.js");
    const tagger = new PosTagger(await openWordNet());
    const boat = tagger.tag("A long, narrow, rustic boat with a curved hull. The boat features a longer deck.");
    const tagOf = (w: string) => boat.words.find((t) => t.text === w)!.tag;
    expect([tagOf("long"), tagOf("narrow"), tagOf("rustic"), tagOf("longer")]).toEqual(["a", "a", "a", "a"]);
    expect(tagOf("features")).toBe("aux");
    expect(boat.subject).toEqual(["boat"]);
    expect(tagger.tag("The visible part of the boat is a smooth surface.").subject).toEqual(["boat"]);
    expect(tagger.tag("A dark green, elongated canoe with a subtle ridge running along the top.").subject).toEqual(["canoe"]);
    expect(tagger.tag("A close-up view of a ripe, red tomato slice.").subject).toContain("tomato");
    expect(tagger.tag("The sails and the mast are white.").subject).toEqual(["sails", "mast"]);
    const dog = tagger.tag("A close-up of a dog's white fur, featuring a soft texture.");
    expect(dog.subject).toEqual(["fur"]);
    expect(dog.subjectModifiers).toContain("dog");
  });

  it("answers a query that names no thing from the subjects' definitions, not from adjectives or context", async () => {
    const r = await createBackend("reasoner", "wordnet", {});
    const regions: RegionFacts[] = [
      { id: 0, description: "A long, narrow, rustic boat with a curved hull and a raised bow.", bbox: box(40, 100, 120, 20), area: 1800 },
      { id: 1, description: "The railing has a rustic, aged appearance with vertical metal bars.", bbox: box(10, 20, 100, 30), area: 1500 },
      { id: 2, description: "The water is calm and dark green with gentle ripples.", bbox: box(0, 90, 300, 110), area: 30000 },
      { id: 3, description: "A person with short brown hair wearing a dark jacket.", bbox: box(200, 40, 20, 50), area: 700 },
    ];
    const ask = (query: string) => r.reason({ query, mode: "reasoning", scene: "", regions, imageWidth: 300, imageHeight: 200, maxMasks: 6 });
    const cross = await ask("something that the persons use to cross the water");
    expect(cross.maskIds).toEqual([0]);
    // The boat is found through its definition ("a small vessel for travel on water"), never through "rustic".
    expect(cross.explanation).toMatch(/Mask 0: .*"boat" is "a small vessel for travel on water"/);
    expect(cross.explanation).not.toMatch(/rustic/);
    // A thing nobody describes is still reported, not guessed.
    const none = await ask("the telescope");
    expect(none.maskIds).toEqual([]);
  });
});

conformance("wordnet", { kind: "reasoner", spec: "wordnet", variant: { ratio: 0.5 }, input: squaresScene });
