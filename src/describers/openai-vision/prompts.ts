/**
 * Prompts for general vision-language models standing in for DAM. The region prompt asks for what DAM writes
 * (a dense description: category, colour, material, shape, state, parts; only the marked region); the scene
 * prompt follows the GEAR-Seg reference's whole-image caption (one concise paragraph, main objects and where
 * they are relative to each other, nothing guessed, no counting).
 */
export const VISION_PROMPT_VERSION = 1;

export const REGION_PROMPT = [
  "The first image is a whole scene. The second image is a close-up of the same scene.",
  "In both, one region is outlined in red.",
  "Describe only the outlined region in detail, as a dense region caption: say what it is, then its colour, material, shape, state and visible parts.",
  "Write one to three sentences.",
  "Do not describe anything outside the outline, do not mention the outline or the images, and do not guess what cannot be seen.",
].join(" ");

export const SCENE_PROMPT = [
  "Describe this image in one concise paragraph.",
  "Name the main objects and say where they are relative to each other.",
  "Describe only what is clearly visible: do not speculate, and do not count objects.",
].join(" ");
