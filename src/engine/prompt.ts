/**
 * The "dataset architect" prompt of GEAR-Seg's data engine: the scene caption and the numbered region
 * descriptions go in; 1–4 reasoning-segmentation items come out, each with a reasoning type, five implicit
 * questions, a short logic chain, the answer labels and mask ids, and a confidence from 0 to 10.
 *
 * The wording is ours; the framing (an architect of reasoning data who only sees numbered dense descriptions,
 * five reasoning categories with good and bad examples, strict JSON) follows the GEAR-Seg paper's data engine.
 * Bump PROMPT_VERSION whenever the text changes: it is recorded in every item and in the manifest.
 */
import type { RegionFacts } from "../pipeline/types.js";

export const PROMPT_VERSION = "gear-engine-v1";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ArchitectInput {
  scene: string;
  regions: readonly RegionFacts[];
  imageWidth: number;
  imageHeight: number;
  /** At most this many items (1–4). */
  maxItems?: number;
}

const SYSTEM = `You are a dataset architect building a reasoning-segmentation dataset. You cannot see the image. You
read a caption of the whole scene and dense descriptions of numbered regions (masks) of it, and you write
questions whose answer is one or more of those regions. A good question names its target only implicitly: the
reader must use knowledge or reasoning to find it. Never put the target's name or a synonym of it in the
question.

Use exactly one of these reasoning types per item:
- commonsense: everyday knowledge about what things are or are for in this scene.
  Good: "What in this kitchen would you reach for to boil water?" (a kettle)
  Bad: "Where is the kettle?" (names the target)
- functional: what an object does or makes possible.
  Good: "Which part of this bicycle converts leg motion into forward movement?" (the pedals and crank)
  Bad: "Segment the pedals." (no reasoning)
- manipulation: an action involving TWO OR MORE objects that work together; the answer lists every one.
  Good: "If someone wanted to write a note here, what would they use together?" (the pen and the notepad)
  Bad: "What can be picked up?" (vague, one object, matches almost anything)
- part: a part of a larger object, chosen for its role in the whole.
  Good: "What on this car lets the driver see traffic behind without turning around?" (the side mirror)
  Bad: "Which part is the mirror?" (names the target)
- attribute: a property (colour, material, state, ripeness, size, position) that singles the target out.
  Good: "Which fruit on the plate is ready to eat today?" (the ripe, red strawberry)
  Bad: "Which object is red?" (literal attribute lookup; several regions could match)

Rules:
- Only use region ids that appear in the list. Choose every region that belongs to the answer and nothing else.
- Do not ask about things too small to matter, and do not ask two questions about the same thing.
- Write five differently worded questions per item that all have the same answer.
- The explanation is a two-to-three-sentence logic chain from the question to the answer.
- confidence (0–10) is how sure you are that the chosen regions are exactly the answer, given the descriptions.
- Reply with STRICT JSON only, no prose, no markdown:
{"items": [{"reasoning_type": "commonsense|functional|manipulation|part|attribute",
  "questions": ["...", "...", "...", "...", "..."],
  "explanation": "...",
  "answer_labels": ["short noun for each target object"],
  "answer_mask_ids": [0],
  "confidence": 8}]}`;

/** The two messages of one generation call. */
export function architectMessages(input: ArchitectInput): ChatMessage[] {
  const maxItems = Math.max(1, Math.min(4, input.maxItems ?? 4));
  const lines = input.regions.map((r) => {
    const share = ((100 * r.area) / Math.max(1, input.imageWidth * input.imageHeight)).toFixed(1);
    return `[Mask ${r.id}] (${share}% of the image, box x=${r.bbox[0]} y=${r.bbox[1]} w=${r.bbox[2]} h=${r.bbox[3]}): ${oneLine(r.description)}`;
  });
  const user = [
    `Image size: ${input.imageWidth}×${input.imageHeight} pixels.`,
    `Scene: ${oneLine(input.scene) || "(no caption)"}`,
    "Regions:",
    ...lines,
    "",
    `Write between 1 and ${maxItems} items, of different reasoning types where the scene allows. JSON only.`,
  ].join("\n");
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: user },
  ];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Tokens of a prompt, estimated as one per four characters (close for English with BPE tokenizers; a budget,
 * not a bill). */
export function estimateTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.ceil(chars / 4);
}

/** The default prompt budget: room for ~200 described regions; small-context models need less. */
export const DEFAULT_PROMPT_TOKENS = 12_000;

/**
 * The largest prompt within `budgetTokens`: when the full one is too long, the smallest regions are left out
 * (fewest first) until it fits. Returns the messages and the ids left out (an empty list when all fit).
 */
export function fitPrompt<R extends { id: number; area: number }>(
  regions: readonly R[],
  build: (regions: readonly R[]) => ChatMessage[],
  budgetTokens: number,
): { messages: ChatMessage[]; droppedIds: number[] } {
  const full = build(regions);
  if (estimateTokens(full) <= budgetTokens) return { messages: full, droppedIds: [] };
  // Keep the k largest, in their original order; binary search on k (tokens grow with k).
  const byArea = [...regions].sort((a, b) => b.area - a.area || a.id - b.id);
  const keepLargest = (k: number) => {
    const keep = new Set(byArea.slice(0, k).map((r) => r.id));
    return regions.filter((r) => keep.has(r.id));
  };
  let lo = 0;
  let hi = regions.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateTokens(build(keepLargest(mid))) <= budgetTokens) lo = mid;
    else hi = mid - 1;
  }
  const kept = keepLargest(lo);
  const keptIds = new Set(kept.map((r) => r.id));
  return { messages: build(kept), droppedIds: regions.filter((r) => !keptIds.has(r.id)).map((r) => r.id) };
}
