// A real reasoning dataset for the review tests: `engine generate` over the four GEAR-Seg samples (recorded
// SAM 2 masks and DAM descriptions per image) with a local OpenAI-compatible server whose replies are three
// valid items per image (the engine's filters keep them all).
import { join } from "node:path";
import { generateDataset } from "../src/engine/generate.js";
import { createJsonChat } from "../src/engine/llm.js";
import { createPreparer } from "../src/engine/prepare.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { samples } from "./helpers/cli.js";

/** fetch whose JSON bodies are `any`: the tests check them with expect() and the server's schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const fetch = globalThis.fetch as (input: string | URL, init?: RequestInit) => Promise<Omit<Response, "json"> & { json(): Promise<any> }>;

export const reviewSpecs = {
  segmenter: `masks:${join(samples.root, "outputs/reasonseg_task/ReasonSeg_val/sam/masks")}/{stem}`,
  describer: `recorded:${join(samples.root, "outputs/reasonseg_task/ReasonSeg_val/dam/descriptions")}/{stem}.json`,
};
export const reviewImagesDir = join(samples.root, "dataset/ReasonSeg_val/images");

const ITEMS = [
  {
    reasoning_type: "commonsense",
    questions: ["What covers most of this picture?", "Which area would you notice first?", "Where does the largest surface lie?", "What fills the biggest part of the frame?", "Which expanse dominates the view?"],
    explanation: "Region 0 is the largest region. It dominates the frame.",
    answer_labels: ["largest area"],
    answer_mask_ids: [0],
    confidence: 9,
  },
  {
    reasoning_type: "attribute",
    questions: ["Which runner-up surface is next in size?", "What second thing stands out by extent?", "Where is the next biggest patch?", "Which secondary zone is broad too?", "What other sizeable piece appears?"],
    explanation: "Region 1 is the second largest. It is broad as well.",
    answer_labels: ["second area"],
    answer_mask_ids: [1],
    confidence: 7,
  },
  {
    reasoning_type: "functional",
    questions: ["Which two big parts together frame the scene?", "What pair of zones makes the backdrop?", "Where do both main surfaces sit?", "Which couple of regions shape the layout?", "What duo of areas holds everything?"],
    explanation: "Regions 0 and 1 together are the two largest. Together they frame the scene.",
    answer_labels: ["largest area", "second area"],
    answer_mask_ids: [0, 1],
    confidence: 6,
  },
];

/** Generates the dataset into `outDir` (about a second with the recorded backends). */
export async function makeReviewDataset(outDir: string): Promise<void> {
  const chat = await startOpenAiServer({ answer: () => JSON.stringify({ items: ITEMS }) });
  const preparer = await createPreparer(reviewSpecs);
  try {
    await generateDataset({
      imagesDir: reviewImagesDir,
      outDir,
      prepare: preparer.prepare,
      llm: createJsonChat(`openai:test-model@${chat.url}`, { retries: 0 }),
      segmenterSpec: reviewSpecs.segmenter,
      describerSpec: reviewSpecs.describer,
      seed: 3,
      splits: { train: 0.5, val: 0.25, test: 0.25 },
    });
  } finally {
    await preparer.close();
    await chat.close();
  }
}
