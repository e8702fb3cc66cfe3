/**
 * The GEAR-Seg agent: propose → drop near-duplicates → sort by area → cap → number → describe → reason →
 * union of the chosen masks. Preparation (everything up to the descriptions) is done once per image and can be
 * reused for any number of queries.
 */
import { createHash } from "node:crypto";
import type { RgbImage } from "../image/types.js";
import { loadImage } from "../image/index.js";
import { emptyRle, merge } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { dropNearDuplicates } from "./duplicates.js";
import type { StageCache } from "./stage-cache.js";
import type {
  Captioner,
  Describer,
  QueryMode,
  ReasonAnswer,
  Reasoner,
  Region,
  RegionFacts,
  Segmenter,
  StageContext,
  TokenUsage,
} from "./types.js";

export interface AgentEvents {
  /** A stage starts (`total` units of work when known) or advances. */
  onStage?: (stage: AgentStage, done: number, total: number) => void;
}

export type AgentStage = "segment" | "describe" | "caption" | "reason";

export interface GearSegOptions extends AgentEvents {
  segmenter: Segmenter;
  /** null: regions only (no descriptions, no caption). */
  describer?: Describer | null;
  /** Writes the scene caption beside the descriptions; null: no caption (scene ""). */
  captioner?: Captioner | null;
  reasoner?: Reasoner | null;
  /** Keep at most this many regions, largest first (GEAR-Seg: 200). */
  maxRegions?: number;
  /** Two masks are duplicates when each covers more than this share of the other (GEAR-Seg: 0.99). */
  duplicateOverlap?: number;
  /** Default cap on chosen masks per query (GEAR-Seg: 6). */
  maxMasks?: number;
  /** Pixel limit for images loaded from paths. */
  maxPixels?: number;
  cache?: StageCache | null;
}

export interface PrepareTimings {
  decode_ms: number;
  segment_ms: number;
  dedup_ms: number;
  describe_ms: number;
  caption_ms: number;
}

/** An image with its numbered regions, their descriptions and the scene caption. */
export interface PreparedImage {
  source: string;
  width: number;
  height: number;
  /** sha256 of the decoded pixels: the cache's image key. */
  imageKey: string;
  regions: Region[];
  /** Aligned with `regions`; empty strings when there is no describer. */
  descriptions: string[];
  scene: string;
  /** How many proposals the duplicate rule removed, and how many the cap removed. */
  duplicatesDropped: number;
  capDropped: number;
  timings: PrepareTimings;
  cache: { regions: "hit" | "miss" | "off"; descriptions: "hit" | "miss" | "off" };
  backends: { segmenter: string; describer: string | null };
}

export interface AskOptions {
  mode?: QueryMode;
  maxMasks?: number;
  signal?: AbortSignal;
}

export interface SegmentationResult {
  prepared: PreparedImage;
  query: string;
  mode: QueryMode;
  /** Existing region ids chosen by the reasoner, in its order, without repeats. */
  maskIds: number[];
  /** Ids the reasoner gave that name no region. */
  droppedIds: number[];
  explanation: string;
  confidence?: number;
  usage?: TokenUsage;
  model?: string;
  warnings: string[];
  /** Union of the chosen regions. */
  mask: Rle;
  reason_ms: number;
  reasoner: string;
}

export class GearSeg {
  readonly segmenter: Segmenter;
  readonly describer: Describer | null;
  readonly captioner: Captioner | null;
  readonly reasoner: Reasoner | null;
  readonly maxRegions: number;
  readonly duplicateOverlap: number;
  readonly maxMasks: number;
  readonly maxPixels: number | undefined;
  readonly cache: StageCache | null;
  private readonly onStage: AgentEvents["onStage"];

  constructor(options: GearSegOptions) {
    this.segmenter = options.segmenter;
    this.describer = options.describer ?? null;
    this.captioner = options.captioner ?? null;
    this.reasoner = options.reasoner ?? null;
    this.maxRegions = positiveInteger(options.maxRegions ?? 200, "maxRegions");
    this.duplicateOverlap = options.duplicateOverlap ?? 0.99;
    this.maxMasks = positiveInteger(options.maxMasks ?? 6, "maxMasks");
    this.maxPixels = options.maxPixels;
    this.cache = options.cache ?? null;
    this.onStage = options.onStage;
  }

  /** Decode (when given a path), segment, number and describe an image. Uses the cache when there is one. */
  async prepare(input: string | RgbImage, signal?: AbortSignal): Promise<PreparedImage & { image: RgbImage }> {
    let t = performance.now();
    const image = typeof input === "string" ? await loadImage(input, { maxPixels: this.maxPixels }) : input;
    const decode_ms = performance.now() - t;
    const imageKey = hashImage(image);
    const segmenterKey = this.segmenter.fingerprint ?? this.segmenter.spec;

    let regions: Region[] | undefined;
    let regionsCache: PreparedImage["cache"]["regions"] = this.cache ? "miss" : "off";
    let duplicatesDropped = 0;
    let capDropped = 0;
    let segment_ms = 0;
    let dedup_ms = 0;
    if (this.cache) {
      regions = await this.cache.getRegions(imageKey, segmenterKey);
      if (regions) regionsCache = "hit";
    }
    if (!regions) {
      t = performance.now();
      const proposals = await this.segmenter.segment(image, this.context("segment", signal));
      segment_ms = performance.now() - t;
      checkRegions(proposals, image, this.segmenter.spec);
      t = performance.now();
      if (this.segmenter.recorded) {
        regions = proposals;
      } else {
        const unique = dropNearDuplicates(proposals, this.duplicateOverlap);
        duplicatesDropped = proposals.length - unique.length;
        // Largest first; ties keep the segmenter's order (Array.prototype.sort is stable).
        const sorted = [...unique].sort((a, b) => b.area - a.area);
        const kept = sorted.slice(0, this.maxRegions);
        capDropped = sorted.length - kept.length;
        regions = kept.map((r, i) => ({ ...r, id: i }));
      }
      dedup_ms = performance.now() - t;
      if (this.cache) await this.cache.putRegions(imageKey, segmenterKey, regions);
    }

    let descriptions = regions.map(() => "");
    let scene = "";
    let describe_ms = 0;
    let caption_ms = 0;
    let descriptionsCache: PreparedImage["cache"]["descriptions"] = this.cache && this.describer ? "miss" : "off";
    if (this.describer) {
      // The descriptions and the caption are stored together: the key names both.
      const captionerKey = this.captioner ? `|caption=${this.captioner.fingerprint ?? this.captioner.spec}` : "";
      const describerKey = (this.describer.fingerprint ?? this.describer.spec) + captionerKey;
      const regionsKey = hashRegions(imageKey, regions);
      const cached = this.cache ? await this.cache.getDescriptions(regionsKey, describerKey) : undefined;
      if (cached && cached.descriptions.length === regions.length) {
        descriptions = cached.descriptions;
        scene = cached.scene;
        descriptionsCache = "hit";
      } else {
        t = performance.now();
        descriptions = await this.describer.describe(image, regions, this.context("describe", signal));
        describe_ms = performance.now() - t;
        if (descriptions.length !== regions.length || descriptions.some((d) => typeof d !== "string")) {
          throw new GearSegError(
            `describer ${this.describer.spec} returned ${descriptions.length} descriptions for ${regions.length} regions`,
          );
        }
        if (this.captioner) {
          t = performance.now();
          scene = await this.captioner.caption(image, regions, this.context("caption", signal));
          caption_ms = performance.now() - t;
        }
        if (this.cache) await this.cache.putDescriptions(regionsKey, describerKey, { descriptions, scene });
      }
    }

    return {
      image,
      source: image.source ?? (typeof input === "string" ? input : "(image)"),
      width: image.width,
      height: image.height,
      imageKey,
      regions,
      descriptions,
      scene,
      duplicatesDropped,
      capDropped,
      timings: { decode_ms, segment_ms, dedup_ms, describe_ms, caption_ms },
      cache: { regions: regionsCache, descriptions: descriptionsCache },
      backends: { segmenter: this.segmenter.spec, describer: this.describer?.spec ?? null },
    };
  }

  /** Answer one query on a prepared image. */
  async ask(prepared: PreparedImage, query: string, options: AskOptions = {}): Promise<SegmentationResult> {
    const q = query.trim();
    if (!q) throw new UsageError("the query is empty");
    if (!this.reasoner) throw new UsageError("no reasoner configured: cannot answer a query");
    const mode = options.mode ?? "reasoning";
    const maxMasks = positiveInteger(options.maxMasks ?? this.maxMasks, "maxMasks");
    const facts: RegionFacts[] = prepared.regions.map((r, i) => ({
      id: r.id,
      description: prepared.descriptions[i] ?? "",
      bbox: r.bbox,
      area: r.area,
    }));
    const t = performance.now();
    this.onStage?.("reason", 0, 1);
    const answer: ReasonAnswer = await this.reasoner.reason(
      {
        query: q,
        mode,
        scene: prepared.scene,
        regions: facts,
        imageWidth: prepared.width,
        imageHeight: prepared.height,
        maxMasks,
      },
      { signal: options.signal },
    );
    this.onStage?.("reason", 1, 1);
    const reason_ms = performance.now() - t;

    const byId = new Map(prepared.regions.map((r) => [r.id, r]));
    const maskIds: number[] = [];
    const droppedIds: number[] = [];
    const warnings = [...(answer.warnings ?? [])];
    for (const id of answer.maskIds) {
      if (!Number.isInteger(id) || !byId.has(id)) droppedIds.push(id);
      else if (!maskIds.includes(id)) maskIds.push(id);
    }
    if (droppedIds.length) warnings.push(`reasoner chose ids that name no region: ${droppedIds.join(", ")}`);
    const chosen = maskIds.map((id) => byId.get(id)!.rle);
    const mask = chosen.length ? merge(chosen, false) : emptyRle(prepared.height, prepared.width);
    return {
      prepared,
      query: q,
      mode,
      maskIds,
      droppedIds,
      explanation: answer.explanation,
      confidence: answer.confidence,
      usage: answer.usage,
      model: answer.model,
      warnings,
      mask,
      reason_ms,
      reasoner: this.reasoner.spec,
    };
  }

  /** prepare + ask, for one query. */
  async segment(input: string | RgbImage, query: string, options: AskOptions = {}): Promise<SegmentationResult> {
    if (!query.trim()) throw new UsageError("the query is empty");
    const prepared = await this.prepare(input, options.signal);
    return this.ask(prepared, query, options);
  }

  async close(): Promise<void> {
    await Promise.all([this.segmenter.close?.(), this.describer?.close?.(), this.captioner?.close?.(), this.reasoner?.close?.(), this.cache?.close?.()]);
  }

  private context(stage: AgentStage, signal?: AbortSignal): StageContext {
    const onStage = this.onStage;
    return { signal, onProgress: onStage ? (done, total) => onStage(stage, done, total) : undefined };
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** A segmenter bug must not surface as a wrong picture: check what it returned. */
function checkRegions(regions: readonly Region[], image: RgbImage, spec: string): void {
  for (const r of regions) {
    if (r.rle.height !== image.height || r.rle.width !== image.width) {
      throw new GearSegError(
        `segmenter ${spec} returned a ${r.rle.height}×${r.rle.width} mask for a ${image.height}×${image.width} image`,
      );
    }
  }
}

export function hashImage(image: RgbImage): string {
  return createHash("sha256")
    .update(`${image.width}x${image.height}:`)
    .update(image.data)
    .digest("hex");
}

function hashRegions(imageKey: string, regions: readonly Region[]): string {
  const h = createHash("sha256").update(imageKey);
  for (const r of regions) {
    h.update(`|${r.id}:`);
    h.update(new Uint8Array(r.rle.counts.buffer, r.rle.counts.byteOffset, r.rle.counts.byteLength));
  }
  return h.digest("hex");
}
