/**
 * Auto-labelling (GEAR-Seg's open-ended label extraction): from the scene caption and the region
 * descriptions, the LLM proposes the categories present for a keyword (fruit, leaf, stem, diseased_leaf, ...)
 * or uses the classes it is given, then gives every region a class or none — per instance, not a union.
 * Attribute grading (`--classes unripe,turning,ripe` on `--keyword strawberry`) is the same path. Overlapping
 * instances of one class are resolved: a region lying inside a larger region of the same class is a part of
 * it and is dropped. This module holds the prompt and the reply's reading; tasks.ts runs it per image.
 */
import { area, merge } from "../masks/index.js";
import type { Region } from "../pipeline/types.js";
import { UsageError } from "../util/errors.js";
import { isRecord } from "../util/json.js";
import type { ChatMessage } from "./prompt.js";

export const LABEL_PROMPT_VERSION = "gear-label-v1";

/** lower case, words joined by "_" (diseased leaf → diseased_leaf). */
export function normalizeClass(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "_")
    .replace(/^_+|_+$/g, "");
}

export function parseClassList(text: string): string[] {
  const classes = [...new Set(text.split(",").map(normalizeClass).filter(Boolean))];
  if (classes.length === 0) throw new UsageError(`the class list must name classes separated by commas, got "${text}"`);
  return classes;
}

export interface LabelPromptInput {
  keyword: string;
  classes?: readonly string[];
  scene: string;
  regions: readonly { id: number; description: string; area: number }[];
  imageWidth: number;
  imageHeight: number;
}

export function labelMessages(input: LabelPromptInput): ChatMessage[] {
  const given = input.classes && input.classes.length > 0;
  const system = `You label image regions for a segmentation dataset about "${input.keyword}". You cannot see the image: you
read a caption of the scene and dense descriptions of numbered regions (masks). Regions overlap: a whole and its parts
are separate regions.
${
  given
    ? `Give each region exactly one of these classes, or null when none fits: ${input.classes!.join(", ")}.
When the classes are grades of one property (for example ripeness), judge the grade from the description's colour,
texture and state words.`
    : `First decide which categories related to "${input.keyword}" are present (short lower-case nouns such as the
object itself, its parts, its states or what supports it, e.g. fruit, leaf, stem, flower, diseased_leaf, pole), then
give each region one of those categories, or null when the region is unrelated (background, other objects).`
}
Label each region on its own (instances, not groups). Reply with STRICT JSON only:
{"classes": ["..."], "labels": [{"id": 0, "class": "..." or null, "reason": "a few words"}]}`;
  const lines = input.regions.map((r) => {
    const share = ((100 * r.area) / Math.max(1, input.imageWidth * input.imageHeight)).toFixed(1);
    return `[Mask ${r.id}] (${share}% of the image): ${r.description.replace(/\s+/g, " ").trim()}`;
  });
  const user = [`Scene: ${input.scene.replace(/\s+/g, " ").trim() || "(no caption)"}`, "Regions:", ...lines, "", "JSON only."].join("\n");
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

export interface LabelAssignment {
  id: number;
  category: string;
  note?: string;
}

/** Reads `{"labels": [{"id", "class"}]}` (also a bare list, or a map {"<id>": "<class>"}). Unknown ids, classes
 * outside the given list and repeated ids are left out, each with a note. */
export function parseLabelReply(value: unknown, regionIds: ReadonlySet<number>, classes: readonly string[] | undefined): { assignments: LabelAssignment[]; notes: string[] } {
  const notes: string[] = [];
  let entries: { id: unknown; cls: unknown; note: unknown }[] = [];
  const list = Array.isArray(value) ? value : isRecord(value) ? (value.labels ?? value.assignments ?? value.regions) : undefined;
  if (Array.isArray(list)) {
    entries = list.map((e) => (isRecord(e) ? { id: e.id ?? e.mask_id ?? e.region, cls: e.class ?? e.category ?? e.label, note: e.reason } : { id: undefined, cls: undefined, note: undefined }));
  } else if (isRecord(list)) {
    entries = Object.entries(list).map(([id, cls]) => ({ id, cls, note: undefined }));
  } else {
    notes.push("the reply holds no labels list");
  }
  const seen = new Set<number>();
  const assignments: LabelAssignment[] = [];
  for (const e of entries) {
    const id = typeof e.id === "number" ? e.id : typeof e.id === "string" && /^\s*\d+\s*$/.test(e.id) ? Number(e.id) : NaN;
    if (!Number.isInteger(id) || !regionIds.has(id)) {
      notes.push(`label for ${JSON.stringify(e.id)}: no such region`);
      continue;
    }
    if (seen.has(id)) {
      notes.push(`region ${id} labelled twice: the first label is kept`);
      continue;
    }
    seen.add(id);
    if (e.cls === null || e.cls === undefined || (typeof e.cls === "string" && /^(none|null|)$/i.test(e.cls.trim()))) continue;
    if (typeof e.cls !== "string") {
      notes.push(`region ${id}: class ${JSON.stringify(e.cls)} is not a name`);
      continue;
    }
    const category = normalizeClass(e.cls);
    if (classes && !classes.includes(category)) {
      notes.push(`region ${id}: class "${e.cls}" is not one of ${classes.join(", ")}`);
      continue;
    }
    assignments.push({ id, category, ...(typeof e.note === "string" && e.note.trim() && { note: e.note.trim() }) });
  }
  return { assignments, notes };
}

/** Drops a region that lies inside a larger region of the same class (share of its area ≥ `inside`). */
export function dropPartsInsideWholes(labelled: readonly { region: Region; category: string }[], inside = 0.9): { kept: typeof labelled; dropped: number[] } {
  const dropped = new Set<number>();
  // Larger first: a region is tested against every larger kept region of its class.
  const order = [...labelled].sort((a, b) => b.region.area - a.region.area);
  for (let i = 0; i < order.length; i++) {
    const a = order[i]!;
    for (let j = 0; j < i; j++) {
      const b = order[j]!;
      if (b.category !== a.category || dropped.has(b.region.id) || b.region.area <= a.region.area) continue;
      const inter = area(merge([a.region.rle, b.region.rle], true));
      if (a.region.area > 0 && inter / a.region.area >= inside) {
        dropped.add(a.region.id);
        break;
      }
    }
  }
  return { kept: labelled.filter((l) => !dropped.has(l.region.id)), dropped: [...dropped].sort((x, y) => x - y) };
}
