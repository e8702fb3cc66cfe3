/**
 * Auto-labelling (GEAR-Seg's open-ended label extraction): from the scene caption and the region
 * descriptions, the LLM proposes the categories present for a keyword (fruit, leaf, stem, diseased_leaf, ...)
 * or uses the classes it is given, then gives every region a class or none — per instance, not a union.
 * Attribute grading (`--classes unripe,turning,ripe` on `--keyword strawberry`) is the same path. Overlapping
 * instances of one class are resolved: a region lying inside a larger region of the same class is a part of
 * it and is dropped. The result is an instances dataset (records + COCO annotations.json).
 */
import { area, merge, toBbox, toCocoRle } from "../masks/index.js";
import { objectInstances } from "../detections/instances.js";
import { loadImage } from "../image/decode.js";
import type { RgbImage } from "../image/types.js";
import type { Detector, Region } from "../pipeline/types.js";
import { UsageError } from "../util/errors.js";
import { isRecord } from "../util/json.js";
import { writeJsonAtomic } from "../util/fs.js";
import { join } from "node:path";
import { runBatch, stage, type BatchProgress, type BatchSummary } from "./batch.js";
import { listImages, readManifest, readRecords, type InstanceLabel, type InstancesRecord } from "./dataset.js";
import { finalizeDataset, openDataset } from "./finalize.js";
import type { Preparer } from "./generate.js";
import type { JsonChat } from "./llm.js";
import type { ChatMessage } from "./prompt.js";
import { assignSplit, DEFAULT_SPLITS, type SplitFractions } from "./splits.js";
import type { DatasetStats } from "./stats.js";

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
  if (classes.length === 0) throw new UsageError(`--classes must list class names separated by commas, got "${text}"`);
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

export interface LabelOptions {
  imagesDir: string;
  outDir: string;
  prepare: Preparer;
  /** The LLM that reads the descriptions. Without one, a detector labels its own classes (`detector`). */
  llm?: JsonChat;
  /** Labels without an LLM: every detection of a wanted class gives the region that best matches the object. */
  detector?: Detector;
  keyword: string;
  /** Given classes; absent = open-ended discovery. */
  classes?: string[];
  segmenterSpec: string;
  describerSpec: string | null;
  seed?: string | number;
  splits?: SplitFractions;
  concurrency?: number;
  limit?: number;
  /** Share of a region's area inside a larger same-class region that makes it a part (default 0.9). */
  partInside?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
}

/** The detector's class names for the wanted classes (compared as normalised names); every one must be known. */
export function detectorClasses(detector: Detector | undefined, wanted: readonly string[]): Map<string, string> {
  if (!detector) throw new UsageError("labelling needs an LLM (--llm) or a detector for the classes it knows");
  const known = new Map(detector.labels.map((l) => [normalizeClass(l), l]));
  const unknown = wanted.filter((c) => !known.has(c));
  if (unknown.length) {
    throw new UsageError(`without an LLM (--llm) only the detector's classes can be labelled; ${detector.spec} does not know ${unknown.map((c) => `"${c}"`).join(", ")} (it knows ${detector.labels.length} COCO classes, e.g. person, car, dog)`);
  }
  return new Map(wanted.map((c) => [known.get(c)!, c]));
}

/** One image labelled by the detector: the regions that are its detections of the wanted classes. */
async function detectorLabels(detector: Detector, wanted: ReadonlyMap<string, string>, prepared: Awaited<ReturnType<Preparer>>, entry: { id: string; abs: string }) {
  const image: RgbImage = (prepared as { image?: RgbImage }).image ?? (await loadImage(entry.abs));
  const detections = await stage("detect", () => detector.detect(image));
  const found = objectInstances(prepared.regions, detections, prepared.width, prepared.height, new Set(wanted.keys()));
  const instances: InstanceLabel[] = found.map((f) => ({
    id: `${entry.id}#${f.region.id}`,
    category: wanted.get(f.detection.label)!,
    region_id: f.region.id,
    note: `${detector.spec}: ${f.detection.label} ${f.detection.score.toFixed(2)}, region matches the object's mask at IoU ${f.iou.toFixed(2)}`,
    mask: toCocoRle(f.region.rle),
    area: f.region.area,
    bbox: toBbox(f.region.rle),
  }));
  const missed = detections.filter((d) => wanted.has(d.label)).length - found.length;
  return {
    model: detector.fingerprint ?? detector.spec,
    instances,
    parts_dropped: 0,
    unlabelled: prepared.regions.length - instances.length,
    notes: missed > 0 ? [`${missed} detection(s) matched no region well enough`] : [],
  };
}

export async function labelImages(options: LabelOptions): Promise<BatchSummary & { stats: DatasetStats; classes: string[] }> {
  const keyword = options.keyword.trim();
  if (!keyword) throw new UsageError("--keyword is empty");
  const classes = options.classes?.map(normalizeClass).filter(Boolean);
  const byDetector = options.llm ? undefined : detectorClasses(options.detector, classes ?? [normalizeClass(keyword)]);
  let images = await listImages(options.imagesDir);
  if (options.limit !== undefined) images = images.slice(0, options.limit);
  const seed = String(options.seed ?? 0);
  const fractions = options.splits ?? DEFAULT_SPLITS;
  await openDataset(options.outDir, {
    kind: "instances",
    imagesRoot: options.imagesDir,
    seed,
    fractions,
    generation: {
      segmenter: options.segmenterSpec,
      describer: options.describerSpec,
      llm: options.llm?.spec ?? `none (detector ${options.detector!.fingerprint ?? options.detector!.spec})`,
      models: [],
      prompt_version: options.llm ? LABEL_PROMPT_VERSION : "detector",
    },
    labels: { keyword, classes: classes ?? [], discovered: !classes },
  });
  const summary = await runBatch({
    outDir: options.outDir,
    images,
    concurrency: options.concurrency,
    signal: options.signal,
    onProgress: options.onProgress,
    process: async (entry, signal) => {
      const prepared = await stage("prepare", () => options.prepare(entry, signal));
      const base = { kind: "instances" as const, image_id: entry.id, image: entry.rel, width: prepared.width, height: prepared.height, split: assignSplit(entry.id, seed, fractions), regions: prepared.regions.length };
      if (prepared.regions.length === 0) {
        return { ...base, model: null, instances: [], parts_dropped: 0, unlabelled: 0, notes: ["no regions"], finished: new Date().toISOString() } satisfies InstancesRecord;
      }
      if (byDetector) return { ...base, ...(await detectorLabels(options.detector!, byDetector, prepared, entry)), finished: new Date().toISOString() } satisfies InstancesRecord;
      const messages = labelMessages({
        keyword,
        classes,
        scene: prepared.scene,
        regions: prepared.regions.map((r, i) => ({ id: r.id, description: prepared.descriptions[i] ?? "", area: r.area })),
        imageWidth: prepared.width,
        imageHeight: prepared.height,
      });
      const llm = options.llm!;
      const reply = await stage("llm", () => llm.chatJson(messages, { signal, temperature: 0 }));
      const byId = new Map(prepared.regions.map((r) => [r.id, r]));
      const { assignments, notes } = parseLabelReply(reply.value, new Set(byId.keys()), classes);
      const labelled = assignments.map((a) => ({ region: byId.get(a.id)!, category: a.category, note: a.note }));
      const { kept, dropped } = dropPartsInsideWholes(labelled, options.partInside);
      if (dropped.length) notes.push(`parts inside a whole of the same class dropped: regions ${dropped.join(", ")}`);
      const instances: InstanceLabel[] = (kept as typeof labelled).map((l) => ({
        id: `${entry.id}#${l.region.id}`,
        category: l.category,
        region_id: l.region.id,
        ...(l.note && { note: l.note }),
        mask: toCocoRle(l.region.rle),
        area: l.region.area,
        bbox: toBbox(l.region.rle),
      }));
      return {
        ...base,
        model: reply.model ?? null,
        usage: reply.usage,
        instances,
        parts_dropped: dropped.length,
        unlabelled: prepared.regions.length - assignments.length,
        notes,
        finished: new Date().toISOString(),
      } satisfies InstancesRecord;
    },
  });
  // Discovered classes: every class used, most frequent first (ties by name), so category ids are stable.
  const manifest = await readManifest(options.outDir);
  let finalClasses = classes ?? [];
  if (!classes) {
    const counts = new Map<string, number>();
    for (const r of await readRecords(options.outDir)) if (r.kind === "instances") for (const i of r.instances) counts.set(i.category, (counts.get(i.category) ?? 0) + 1);
    finalClasses = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c);
  }
  const withClasses = { ...manifest, labels: { keyword, classes: finalClasses, discovered: !classes } };
  await writeJsonAtomic(join(options.outDir, "manifest.json"), withClasses);
  const stats = await finalizeDataset(options.outDir, withClasses, summary.pending);
  return { ...summary, stats, classes: finalClasses };
}
