// The offline default recognises objects: the stack hands NanoDet-g (real weights, from the test model store) to
// the classic segmenter and the attributes describer, and the WordNet reasoner answers object queries from the
// descriptions. Without the detector the same queries find nothing, which is what makes these checks
// meaningful. Boxes were drawn by hand around what a person calls the answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode } from "../src/masks/index.js";
import { tightBbox } from "../src/masks/bbox.js";
import type { BBox } from "../src/masks/types.js";
import { loadReasonSeg, reasonSegGroundTruth } from "../src/datasets/reasonseg.js";
import { sampleIou, reasonCounts } from "../src/eval/reason.js";
import { createStack, type Stack } from "../src/stack/stack.js";
import { photos, samples } from "./helpers/cli.js";

function boxIou(a: BBox, b: BBox): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

let stack: Stack;
let plain: Stack;

beforeAll(async () => {
  stack = await createStack({}, { cache: null });
  plain = await createStack({ detector: "none" }, { cache: null });
});

afterAll(async () => {
  await stack?.close();
  await plain?.close();
});

describe("the offline default with NanoDet-g", () => {
  it("builds the detector only for the backends that use it", async () => {
    expect(stack.detector?.spec).toBe("nanodet");
    expect(stack.offlineDefaults).toEqual(["segmenter", "describer", "reasoner", "detector"]);
    expect(plain.detector).toBeNull();
    const recorded = await createStack(
      { segmenter: `masks:${samples.masks(samples.names[0]!)}`, describer: `recorded:${samples.descriptions(samples.names[0]!)}`, reasoner: "wordnet" },
      { cache: null },
    );
    try {
      expect(recorded.detector).toBeNull();
    } finally {
      await recorded.close();
    }
  });

  it("answers \"the truck\" with the truck, names it in the caption, and finds nothing without the detector", async () => {
    const prepared = await stack.agent.prepare(photos.truck);
    expect(prepared.scene).toMatch(/Objects: a truck in the centre\./);
    const answer = await stack.agent.ask(prepared, "the truck");
    expect(answer.maskIds.length).toBeGreaterThan(0);
    expect(answer.explanation).toContain('"truck"');
    expect(boxIou(tightBbox(answer.mask)!, [79, 281, 1631, 569])).toBeGreaterThan(0.7);

    const without = await plain.agent.ask(await plain.agent.prepare(photos.truck), "the truck");
    expect(without.maskIds).toEqual([]);
    expect(without.explanation).toMatch(/No region description names a truck/);
  });

  it("answers \"the car\" on cars.jpg with the whole dark red car, and \"the person\" with nothing", async () => {
    const prepared = await stack.agent.prepare(photos.cars);
    const answer = await stack.agent.ask(prepared, "the car");
    // The car on the left (the pink one on the right is cut by the frame; the detector calls it a possible truck).
    expect(boxIou(tightBbox(answer.mask)!, [273, 506, 1049, 563])).toBeGreaterThan(0.6);
    for (const id of answer.maskIds) expect(prepared.descriptions[prepared.regions.findIndex((r) => r.id === id)]).toMatch(/\bcar\b/);
    const nobody = await stack.agent.ask(prepared, "the person");
    expect(nobody.maskIds).toEqual([]);
  });

  it("finds the rug the dog lies on (a ReasonSeg query) from \"with a dog on it\"", async () => {
    const name = "692198_ac99d18ac5_o";
    const sample = (await loadReasonSeg(samples.root + "/dataset/ReasonSeg_val")).find((s) => s.name === name)!;
    const prepared = await stack.agent.prepare(samples.image(name));
    const answer = await stack.agent.ask(prepared, sample.texts[0]!);
    for (const id of answer.maskIds) expect(prepared.descriptions[prepared.regions.findIndex((r) => r.id === id)]).toContain("with a dog on it");
    const iou = sampleIou(reasonCounts(decode(answer.mask), await reasonSegGroundTruth(sample)));
    expect(iou).toBeGreaterThan(0.5);
  });
});

