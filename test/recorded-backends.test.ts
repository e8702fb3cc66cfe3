// The backends that replay the GEAR-Seg reference's files (masks, descriptions with the scene caption,
// answers) run the conformance suite like every other backend.
import { loadImage } from "../src/image/index.js";
import { createBackend } from "../src/stack/registry.js";
import { samples } from "./helpers/cli.js";
import { conformance } from "./helpers/conformance.js";

const name = samples.names[3]!;

async function sample() {
  const image = await loadImage(samples.image(name));
  const segmenter = await createBackend("segmenter", `masks:${samples.masks(name)}`);
  return { image, regions: await segmenter.segment(image) };
}

conformance("masks", { kind: "segmenter", spec: `masks:${samples.masks(name)}`, input: sample });
conformance("recorded", { kind: "describer", spec: `recorded:${samples.descriptions(name)}`, input: sample });
conformance("recorded", { kind: "captioner", spec: `recorded:${samples.descriptions(name)}`, input: sample });
conformance("recorded", { kind: "reasoner", spec: `recorded:${samples.answer(name)}`, input: sample });
