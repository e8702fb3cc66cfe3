// The words the attributes describer uses for detected objects, read by the WordNet reasoner: a sure name beats a
// sibling kind ("car" for "the truck" through "motor vehicle"), a hedged name counts less than a sure one but more
// than a sibling, and "with a dog on it" answers what the dog lies on. Every description below is one the
// describer writes (src/detections/detections.test.ts pins its words).
import { describe, expect, it } from "vitest";
import { createBackend } from "../../stack/registry.js";
import type { RegionFacts } from "../../pipeline/types.js";

const descriptions = [
  "A large dark red car, horizontal, at the middle left of the image. Colours: red 50%. Smooth surface.",
  "A possible truck: a large black region, round, at the middle right of the image. Colours: black 37%. Smooth surface.",
  "A medium black region, possibly part of a truck, at the bottom right of the image. Colours: black 90%. Smooth surface.",
  "A huge grey region, at the bottom centre of the image, with a dog and what may be 2 cats on it. Colours: grey 80%. Textured surface.",
  "A large black dog, at the middle right of the image. Colours: black 70%. Slightly textured surface.",
  "A possible boat: a large white region, vertical, at the middle left of the image. Colours: white 80%. Smooth surface.",
];
const regions: RegionFacts[] = descriptions.map((description, id) => ({ id, description, bbox: [10 * id, 10, 10, 10], area: 1000 - id }));

async function ask(query: string, only?: number[]) {
  const reasoner = await createBackend("reasoner", "wordnet", {});
  const facts = only ? regions.filter((r) => only.includes(r.id)) : regions;
  return reasoner.reason({ query, mode: "reasoning", scene: "", regions: facts, imageWidth: 100, imageHeight: 100, maxMasks: 6 });
}

describe("the wordnet reasoner on object descriptions", () => {
  it("chooses the sure name, then the hedged one, over a sibling kind", async () => {
    expect((await ask("the car")).maskIds).toEqual([0]);
    expect((await ask("the truck")).maskIds).toEqual([1]);
    // With the hedged truck gone, the car is the closest thing WordNet knows (then a part of a possible truck).
    const sibling = (await ask("the truck", [0, 2, 3, 4])).maskIds;
    expect(sibling[0]).toBe(0);
    expect(sibling).not.toContain(4);
    // A hedged name still answers its own class.
    expect((await ask("the boat")).maskIds).toEqual([5]);
  });

  it("answers what the dog lies on with the region that carries it, not the dog", async () => {
    const a = await ask("What object in the picture can offer a soft and comfortable surface for the dog to lie on?");
    expect(a.maskIds).toEqual([3]);
    expect(a.explanation).toContain('"dog" is on it');
    // A hedged passenger counts too ("what may be 2 cats"), and without "on" nothing is asked about support.
    expect((await ask("where does the cat sleep on?")).maskIds).toEqual([3]);
    expect((await ask("the dog")).maskIds).toEqual([4]);
  });
});
