/**
 * The deduction prompt, after GEAR-Seg's: an expert visual reasoning assistant gets the whole-scene caption,
 * the question and one line per region `[Mask <id>]: <description>`, with rules (understand the scene, use
 * commonsense, select every mask of the same object category, at most K, `[]` when nothing matches) and must
 * answer in strict JSON `{"mask_ids": [...], "explanation": "..."}`. The referring-mode prompt asks for every
 * region that matches an explicit description, one mask per instance.
 */
import { createHash } from "node:crypto";
import type { ReasonRequest } from "../../pipeline/types.js";

export const SYSTEM_PROMPT = "You are an expert visual reasoning assistant. You answer only with strict JSON.";

export interface PromptOptions {
  /** Append each region's box and area to its line (helps with "largest", "leftmost"). */
  geometry?: boolean;
}

export function buildReasonPrompt(req: ReasonRequest, options: PromptOptions = {}): string {
  const lines: string[] = [];
  const scene = req.scene.trim();
  lines.push("An image has been divided into numbered regions (masks), each with a description.");
  lines.push("");
  lines.push(`Scene description: ${scene || "(none)"}`);
  lines.push("");
  lines.push(req.mode === "referring" ? `Description to find: ${req.query}` : `Question: ${req.query}`);
  lines.push("");
  lines.push(`Regions (image ${req.imageWidth}×${req.imageHeight} pixels):`);
  for (const r of req.regions) {
    const desc = r.description.replace(/\s+/g, " ").trim() || "(no description)";
    const geo = options.geometry ? ` (box x=${r.bbox[0]}, y=${r.bbox[1]}, w=${r.bbox[2]}, h=${r.bbox[3]}; area ${r.area} px)` : "";
    lines.push(`[Mask ${r.id}]: ${desc}${geo}`);
  }
  lines.push("");
  lines.push("Rules:");
  if (req.mode === "referring") {
    lines.push("1. Read the scene description and the region descriptions to understand the image.");
    lines.push("2. Select every mask whose region matches the description to find, one mask per matching instance; if one object is split over several masks, select all of its masks.");
    lines.push("3. Do not select masks of objects that do not match every attribute the description states.");
  } else {
    lines.push("1. First understand the whole scene from the scene description and the region descriptions.");
    lines.push("2. Use commonsense knowledge to work out which object the question refers to.");
    lines.push("3. Select the masks of that object; when several masks show the same object category that answers the question, select all of them.");
  }
  lines.push(`4. Select at most ${req.maxMasks} masks, the most relevant first.`);
  lines.push('5. If no mask matches, answer with an empty list: "mask_ids": [].');
  lines.push("6. Use only mask ids from the list above.");
  lines.push("");
  lines.push("Answer in STRICT JSON, with nothing before or after it:");
  lines.push('{"mask_ids": [<ids>], "explanation": "<one or two sentences on why these masks answer it>"}');
  return lines.join("\n");
}

/** The JSON schema for `response_format: {type: "json_schema"}`. */
export const ANSWER_SCHEMA = {
  name: "mask_selection",
  strict: true,
  schema: {
    type: "object",
    properties: {
      mask_ids: { type: "array", items: { type: "integer" } },
      explanation: { type: "string" },
    },
    required: ["mask_ids", "explanation"],
    additionalProperties: false,
  },
} as const;

/** A request that exercises every line of the prompt templates, for promptFingerprint. */
const PROBE: ReasonRequest = {
  query: "q",
  mode: "reasoning",
  scene: "s",
  regions: [{ id: 0, description: "d", bbox: [0, 0, 1, 1], area: 1 }],
  imageWidth: 1,
  imageHeight: 1,
  maxMasks: 1,
};

/**
 * A digest of everything the model is told besides the request itself: the system prompt, both modes' prompt
 * templates (built on a fixed request) and the answer schema. Any change to their text changes it, so run
 * fingerprints never mix answers to two different prompts, and nobody has to remember to bump a version.
 */
export function promptFingerprint(options: PromptOptions = {}): string {
  return createHash("sha256")
    .update(SYSTEM_PROMPT)
    .update("\0")
    .update(buildReasonPrompt(PROBE, options))
    .update("\0")
    .update(buildReasonPrompt({ ...PROBE, mode: "referring" }, options))
    .update("\0")
    .update(JSON.stringify(ANSWER_SCHEMA))
    .digest("hex")
    .slice(0, 16);
}
