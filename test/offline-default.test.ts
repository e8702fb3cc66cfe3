// The offline default's describer and reasoner together: attribute queries on synthetic scenes with known
// coloured objects, object queries that no attribute description can support, and one real photo.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { encode } from "../src/masks/index.js";
import type { Region, RegionFacts } from "../src/pipeline/types.js";
import type { RgbImage } from "../src/image/types.js";
import { loadImage } from "../src/image/index.js";
import { regionAttributes } from "../src/describers/attributes/index.js";
import { attributeWord, colourSimilarity, describerWords } from "../src/vocabulary/attribute-words.js";
import { createBackend } from "../src/stack/registry.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../..");
const W = 160;
const H = 120;

/** Blue background; red disc on the left; green square at the top centre; small yellow disc bottom right; dark
 * bar at the top left; a half-red, half-grey block at the centre left. */
function scene(): { image: RgbImage; regions: Region[] } {
  const data = new Uint8Array(W * H * 3);
  const masks: Uint8Array[] = [];
  const names = ["background", "red disc", "green square", "yellow disc", "dark bar", "half-red block"];
  for (let k = 0; k < names.length; k++) masks.push(new Uint8Array(W * H));
  const inside: ((x: number, y: number) => [number, number, number] | null)[] = [
    () => [40, 80, 200],
    (x, y) => ((x - 22) ** 2 + (y - 70) ** 2 <= 15 ** 2 ? [205, 30, 35] : null),
    (x, y) => (x >= 70 && x < 92 && y >= 4 && y < 26 ? [50, 160, 60] : null),
    (x, y) => ((x - 140) ** 2 + (y - 100) ** 2 <= 7 ** 2 ? [245, 215, 50] : null),
    (x, y) => (x >= 4 && x < 44 && y >= 4 && y < 12 ? [15, 15, 18] : null),
    (x, y) => (x >= 56 && x < 80 && y >= 50 && y < 90 ? (x < 61 ? [205, 30, 35] : [128, 128, 128]) : null),
  ];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let k = 0;
      for (let j = inside.length - 1; j >= 1; j--) if (inside[j]!(x, y)) { k = j; break; }
      data.set(inside[k]!(x, y)!, (y * W + x) * 3);
      masks[k]![y * W + x] = 1;
      masks[0]![y * W + x] = 1; // the background region is the whole frame
    }
  }
  const regions = masks.map((m, id): Region => {
    let x0 = W, y0 = H, x1 = -1, y1 = -1, area = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (m[y * W + x]) {
      area++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    return { id, rle: encode({ height: H, width: W, data: m }), bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1], area };
  });
  return { image: { width: W, height: H, data }, regions };
}

async function describedScene() {
  const { image, regions } = scene();
  const describer = await createBackend("describer", "attributes", {});
  const texts = await describer.describe(image, regions);
  const facts: RegionFacts[] = regions.map((r, i) => ({ id: r.id, description: texts[i]!, bbox: r.bbox, area: r.area }));
  return { image, regions, texts, facts };
}

const ask = async (facts: RegionFacts[], query: string) => {
  const reasoner = await createBackend("reasoner", "wordnet", {});
  return reasoner.reason({ query, mode: "referring", scene: "", regions: facts, imageWidth: W, imageHeight: H, maxMasks: 6 });
};

describe("attribute vocabulary shared by the describer and the reasoner", () => {
  it("covers every word the describer writes, and reads colours as colours", async () => {
    const { texts } = await describedScene();
    const known = describerWords();
    for (const text of texts) {
      for (const word of text.toLowerCase().match(/[a-z]+/g)!) {
        if (["a", "an", "at", "the", "of", "in", "and"].includes(word)) continue;
        expect(known.has(word), `"${word}" in "${text}"`).toBe(true);
      }
    }
    expect(attributeWord("navy")).toEqual({ role: "colour", value: "navy" });
    expect(attributeWord("medium")?.role).toBe("size");
    expect(attributeWord("bottom")?.role).toBe("position");
    expect(attributeWord("gray")?.value).toBe("grey");
    expect(attributeWord("reddish")?.value).toBe("red");
    expect(attributeWord("grayish-blue")?.value).toBe("blue");
    expect(attributeWord("truck")).toBeUndefined();
    // A maroon is a dark red; a pink or a blue is not.
    expect(colourSimilarity("red", "maroon")).toBeGreaterThan(0.5);
    expect(colourSimilarity("red", "pink")).toBeLessThan(0.3);
    expect(colourSimilarity("red", "blue")).toBeLessThan(0.05);
  });
});

describe("attribute queries on a synthetic scene", () => {
  it("picks the region the colour, position, size and shape words describe", async () => {
    const { facts, texts } = await describedScene();
    expect(texts[1]).toMatch(/red/);
    expect((await ask(facts, "the red region on the left")).maskIds).toEqual([1]);
    expect((await ask(facts, "the green square at the top")).maskIds).toEqual([2]);
    expect((await ask(facts, "the largest blue object")).maskIds).toEqual([0]);
    expect((await ask(facts, "something round and yellow")).maskIds).toEqual([3]);
    expect((await ask(facts, "the dark area at the top")).maskIds).toEqual([4]);
    // The block is a fifth red: not a red thing, so the disc is the smallest red one.
    expect((await ask(facts, "the smallest red thing")).maskIds).toEqual([1]);
    // Shares count: the all-red disc beats the block that is a fifth red.
    const red = await ask(facts, "the red region");
    expect(red.maskIds[0]).toBe(1);
    expect(red.maskIds).not.toContain(5);
  });

  it("grades position: the leftmost of two red regions gets more for 'left'", async () => {
    const { facts } = await describedScene();
    // Two all-red regions; the disc (centre x 22) is further left than a copy of it moved to x 60.
    const moved: RegionFacts = { ...facts[1]!, id: 9, bbox: [45, 55, 31, 31] };
    const answer = await ask([facts[0]!, facts[1]!, moved], "the red one on the left");
    expect(answer.maskIds[0]).toBe(1);
  });
});

describe("object queries on attribute-only descriptions", () => {
  it("never picks through attribute words read as nouns, and says that no description names the thing", async () => {
    const { facts } = await describedScene();
    const truck = await ask(facts, "the truck");
    expect(truck.maskIds).toEqual([]);
    expect(truck.explanation).toMatch(/No region description names a truck/);
    const wheels = await ask(facts, "the wheels");
    expect(wheels.maskIds).toEqual([]);
    expect(wheels.explanation).toMatch(/names a wheel/);
    // With attribute words, the choice is by them alone, and the explanation says so.
    const wall = await ask(facts, "the red wall on the left");
    expect(wall.explanation).toMatch(/names a wall .*chose by the attribute words "red", "left"/);
    expect(wall.maskIds[0]).toBe(1);
    expect(wall.explanation).not.toMatch(/"wall" →/);
  });
});

describe("offline default on a real photo", () => {
  it("the red region on the left of truck.jpg is a region whose dominant colour is red", async () => {
    const image = await loadImage(resolve(repoRoot, "examples/truck.jpg"));
    const segmenter = await createBackend("segmenter", "classic");
    const regions = (await segmenter.segment(image)).map((r, id) => ({ ...r, id }));
    const describer = await createBackend("describer", "attributes", {});
    const texts = await describer.describe(image, regions);
    const facts = regions.map((r, i) => ({ id: r.id, description: texts[i]!, bbox: r.bbox, area: r.area }));
    const reasoner = await createBackend("reasoner", "wordnet", {});
    const answer = await reasoner.reason({ query: "the red region on the left", mode: "referring", scene: "", regions: facts, imageWidth: image.width, imageHeight: image.height, maxMasks: 6 });
    expect(answer.maskIds.length).toBeGreaterThan(0);
    const { attributes } = regionAttributes(image, regions.filter((r) => r.id === answer.maskIds[0]));
    expect(attributes[0]!.colours[0]!.name).toBe("red");
    const chosen = regions.find((r) => r.id === answer.maskIds[0])!;
    expect(chosen.bbox[0] + chosen.bbox[2] / 2).toBeLessThan(image.width / 2);
    const truck = await reasoner.reason({ query: "the truck", mode: "referring", scene: "", regions: facts, imageWidth: image.width, imageHeight: image.height, maxMasks: 6 });
    expect(truck.maskIds).toEqual([]);
    expect(truck.explanation).toMatch(/names a truck/);
  });
});
