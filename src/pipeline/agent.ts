/**
 * The GEAR-Seg agent: propose → drop near-duplicates → sort by area → cap → number → describe → reason →
 * union of the chosen masks. Preparation (everything up to the descriptions) is done once per image and can be
 * reused for any number of queries.
 */
import { createHash } from "node:crypto";
import type { RgbImage } from "../image/types.js";
import { DECODER_ID, checkImageHeader, decodeImage, readImageBytes, statImageFile } from "../image/decode.js";
import { emptyRle, merge } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { dropNearDuplicates } from "./duplicates.js";
import { Recent, RecentStages } from "./recent-stages.js";
import type { StageCache } from "./stage-cache.js";
import type {
  BackendLifecycle,
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
  /** Prepares images elsewhere (a pool of worker threads built by the stack): `prepareLazily` hands every
   * image to it. Its agents must be configured as this one (the stack builds both from the same specs). */
  preparer?: ImagePreparer | null;
  /**
   * Make a backend's cheap check (its server answers and takes the key) before the first call of its stage that
   * really runs, once per agent: a stage served from the cache needs no server. When a stage of `prepare` has to
   * run, the servers of the later stages that will run (the reasoner's too) are checked with it, so a dead LLM
   * is found before hundreds of regions are described. Default false.
   */
  checkServers?: boolean;
}

/** What GearSeg.fingerprint digests. */
export interface AgentConfiguration {
  segmenter: string;
  describer: string | null;
  captioner: string | null;
  reasoner: string | null;
  maxRegions: number;
  duplicateOverlap: number;
  maxMasks: number;
}

/**
 * Who prepares images for an agent when not the agent itself: the stack's pool of preparation workers, each
 * running an agent of the same configuration. The result must equal this agent's own `prepareLazily`.
 */
export interface ImagePreparer {
  /** Images it prepares at once (its workers). */
  readonly size: number;
  prepare(input: string | RgbImage, options: { signal?: AbortSignal; onStage?: AgentEvents["onStage"] }): Promise<PreparedImage>;
  close(): Promise<void>;
}

export interface PrepareTimings {
  /** Reading the file and keying it (hashing its bytes). */
  readMs: number;
  /** Decoding the pixels (0 when every stage came from the cache). */
  decodeMs: number;
  segmentMs: number;
  /** The duplicate rule, the sort and the cap. */
  dedupMs: number;
  describeMs: number;
  captionMs: number;
}

export type CacheUse = "hit" | "miss" | "off";

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
  cache: { regions: CacheUse; descriptions: CacheUse; caption: CacheUse };
  backends: { segmenter: string; describer: string | null };
  /** The decoded pixels (decoded on the first call when every stage came from the cache). */
  loadImage(): Promise<RgbImage>;
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
  reasonMs: number;
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
  readonly preparer: ImagePreparer | null;
  private readonly onStage: AgentEvents["onStage"];
  private readonly checkServers: boolean;
  /** The cache, with the last images' entries in memory (a second query on an image reads no store). */
  private readonly stages: StageCache | null;
  /** Keys of files whose header this agent checked against a cache entry (a few: the last images asked about). */
  private readonly headersChecked = new Recent<true>(HEADERS_KEPT);
  /** The cache key of the files last asked about, by path, with the identity they had when read: a file that
   * still has it is not read and hashed again (a second query on an image reads only its stat). */
  private readonly fileKeys = new Recent<{ identity: string; fileKey: string }>(HEADERS_KEPT);
  /** `arrange` of proposals this agent has seen (the cache hands out the same array again), with the key of
   * the numbered regions: a second query on an image repeats neither the duplicate rule nor the hashing. */
  private readonly arranged = new WeakMap<readonly Region[], Arranged & { imageKey: string; regionsKey?: string }>();
  /** Each backend's check, made once: a failed one is forgotten, so the next use checks again. */
  private readonly serverChecks = new Map<BackendLifecycle, Promise<void>>();

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
    this.stages = this.cache && new RecentStages(this.cache);
    this.preparer = options.preparer ?? null;
    this.onStage = options.onStage;
    this.checkServers = options.checkServers ?? false;
  }

  /** Images this agent prepares at once: its preparer's workers, or 1. Batch callers keep this many in flight. */
  get parallelism(): number {
    return this.preparer?.size ?? 1;
  }

  /** Everything in this agent that shapes an answer: every stage's fingerprint (its spec when it has none)
   * and the agent's own parameters. */
  get configuration(): AgentConfiguration {
    const key = (b: { spec: string; fingerprint?: string } | null) => (b ? (b.fingerprint ?? b.spec) : null);
    return {
      segmenter: this.segmenter.fingerprint ?? this.segmenter.spec,
      describer: key(this.describer),
      captioner: key(this.captioner),
      reasoner: key(this.reasoner),
      maxRegions: this.maxRegions,
      duplicateOverlap: this.duplicateOverlap,
      maxMasks: this.maxMasks,
    };
  }

  /** A digest of `configuration`: work stored with one fingerprint is valid for any agent with the same one. */
  get fingerprint(): string {
    return createHash("sha256").update(JSON.stringify(this.configuration)).digest("hex");
  }

  /** Decode (when given a path), segment, number and describe an image. Uses the cache when there is one. */
  async prepare(input: string | RgbImage, signal?: AbortSignal): Promise<PreparedImage & { image: RgbImage }> {
    const prepared = await this.prepareLazily(input, signal);
    return Object.assign(prepared, { image: await prepared.loadImage() });
  }

  /**
   * As `prepare`, but the pixels are decoded only when a stage has to run: when the cache knows the file (by
   * its bytes) and holds every stage, nothing is decoded until `loadImage()` is called.
   */
  async prepareLazily(input: string | RgbImage, signal?: AbortSignal): Promise<PreparedImage> {
    if (this.preparer) {
      // The workers' stages have no servers to check (see the stack); the reasoner's check runs meanwhile, so a
      // dead LLM is still found before the images of a batch are described.
      const [prepared] = await Promise.all([this.preparer.prepare(input, { signal, onStage: this.onStage }), this.ensureServers([this.reasoner], signal)]);
      return prepared;
    }
    const timings: PrepareTimings = { readMs: 0, decodeMs: 0, segmentMs: 0, dedupMs: 0, describeMs: 0, captionMs: 0 };
    let t = performance.now();
    const image = await this.openImage(input, timings);
    timings.readMs = performance.now() - t - timings.decodeMs;
    const { imageKey, width, height, loadImage } = image;

    const segmenterKey = this.segmenter.fingerprint ?? this.segmenter.spec;
    let proposals = this.stages ? await this.stages.getRegions(imageKey, segmenterKey) : undefined;
    const regionsCache: CacheUse = !this.cache ? "off" : proposals ? "hit" : "miss";
    if (proposals) {
      checkRegions(proposals, width, height, this.segmenter.spec);
    } else {
      // New proposals mean new regions: every later stage will run too (their entries are keyed on the regions).
      await this.ensureServers([this.segmenter, this.describer, this.captioner, this.reasoner], signal);
      const pixels = await loadImage();
      t = performance.now();
      proposals = await this.segmenter.segment(pixels, this.context("segment", signal));
      timings.segmentMs = performance.now() - t;
      checkRegions(proposals, width, height, this.segmenter.spec);
      // The segmenter's own output: the duplicate rule and the cap run on every use (they depend on options).
      if (this.stages) await this.stages.putRegions(imageKey, segmenterKey, proposals);
    }
    t = performance.now();
    let arranged = this.arranged.get(proposals);
    if (arranged?.imageKey !== imageKey) {
      arranged = { ...this.arrange(proposals), imageKey };
      this.arranged.set(proposals, arranged);
    }
    // A copy: the caller may change its list without changing another query's.
    const regions = [...arranged.regions];
    const { duplicatesDropped, capDropped } = arranged;
    timings.dedupMs = performance.now() - t;

    let descriptions = regions.map(() => "");
    let scene = "";
    let descriptionsCache: CacheUse = "off";
    let captionCache: CacheUse = "off";
    if (this.describer) {
      const describer = this.describer;
      const regionsKey = (arranged.regionsKey ??= hashRegions(imageKey, regions));
      const describerKey = describer.fingerprint ?? describer.spec;
      const cached = this.stages ? await this.stages.getDescriptions(regionsKey, describerKey) : undefined;
      descriptionsCache = !this.cache ? "off" : cached && cached.length === regions.length ? "hit" : "miss";
      const captioner = this.captioner;
      const captionerKey = captioner ? (captioner.fingerprint ?? captioner.spec) : "";
      const cachedScene = captioner && this.stages ? await this.stages.getCaption(regionsKey, captionerKey) : undefined;
      const describes = descriptionsCache !== "hit";
      const captions = captioner !== null && cachedScene === undefined;
      if (describes || captions) await this.ensureServers([describes && describer, captions && captioner, this.reasoner], signal);
      if (cached && descriptionsCache === "hit") {
        descriptions = cached;
      } else {
        const pixels = await loadImage();
        t = performance.now();
        descriptions = await describer.describe(pixels, regions, this.context("describe", signal));
        timings.describeMs = performance.now() - t;
        if (descriptions.length !== regions.length || descriptions.some((d) => typeof d !== "string")) {
          throw new GearSegError(`describer ${describer.spec} returned ${descriptions.length} descriptions for ${regions.length} regions`);
        }
        // Stored before the caption runs: a failed caption must not cost the finished descriptions.
        if (this.stages) await this.stages.putDescriptions(regionsKey, describerKey, descriptions);
      }

      if (captioner) {
        captionCache = !this.cache ? "off" : cachedScene !== undefined ? "hit" : "miss";
        if (cachedScene !== undefined) {
          scene = cachedScene;
        } else {
          const pixels = await loadImage();
          t = performance.now();
          scene = await captioner.caption(pixels, regions, this.context("caption", signal));
          timings.captionMs = performance.now() - t;
          if (this.stages) await this.stages.putCaption(regionsKey, captionerKey, scene);
        }
      }
    }

    return {
      source: image.source,
      width,
      height,
      imageKey,
      regions,
      descriptions,
      scene,
      duplicatesDropped,
      capDropped,
      timings,
      cache: { regions: regionsCache, descriptions: descriptionsCache, caption: captionCache },
      backends: { segmenter: this.segmenter.spec, describer: this.describer?.spec ?? null },
      loadImage,
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
    await this.ensureServers([this.reasoner], options.signal);
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
    const reasonMs = performance.now() - t;

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
      reasonMs,
      reasoner: this.reasoner.spec,
    };
  }

  /** prepare + ask, for one query. */
  async segment(input: string | RgbImage, query: string, options: AskOptions = {}): Promise<SegmentationResult> {
    if (!query.trim()) throw new UsageError("the query is empty");
    // Lazily: answering needs no pixels, so an image whose stages are all cached is not decoded.
    const prepared = await this.prepareLazily(input, options.signal);
    return this.ask(prepared, query, options);
  }

  async close(): Promise<void> {
    // The preparer first: its workers use the cache until they stop.
    await this.preparer?.close();
    await Promise.all([this.segmenter.close?.(), this.describer?.close?.(), this.captioner?.close?.(), this.reasoner?.close?.(), this.cache?.close?.()]);
  }

  /** `await using` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** With checkServers: each backend's check, once (see GearSegOptions.checkServers). */
  private async ensureServers(backends: readonly (BackendLifecycle | null | false)[], signal?: AbortSignal): Promise<void> {
    if (!this.checkServers) return;
    await Promise.all(
      backends.map((backend) => {
        if (!backend || !backend.check) return undefined;
        let check = this.serverChecks.get(backend);
        if (!check) {
          // Shared by concurrent preparations, so not tied to one caller's signal (a check is bounded by itself).
          check = backend.check();
          this.serverChecks.set(backend, check);
          check.catch(() => this.serverChecks.delete(backend));
        }
        return check;
      }),
    );
    signal?.throwIfAborted();
  }

  private context(stage: AgentStage, signal?: AbortSignal): StageContext {
    const onStage = this.onStage;
    return { signal, onProgress: onStage ? (done, total) => onStage(stage, done, total) : undefined };
  }

  /** GEAR-Seg's numbering: drop near-duplicates, sort by area (largest first), cap, number from 0. Recorded
   * regions keep their ids and order. */
  private arrange(proposals: readonly Region[]): Arranged {
    if (this.segmenter.recorded) return { regions: [...proposals], duplicatesDropped: 0, capDropped: 0 };
    const unique = dropNearDuplicates(proposals, this.duplicateOverlap);
    // Largest first; ties keep the segmenter's order (Array.prototype.sort is stable).
    const sorted = [...unique].sort((a, b) => b.area - a.area);
    const kept = sorted.slice(0, this.maxRegions);
    return {
      regions: kept.map((r, i) => ({ ...r, id: i })),
      duplicatesDropped: proposals.length - unique.length,
      capDropped: sorted.length - kept.length,
    };
  }

  /**
   * The image's key and size, and its pixels on demand. A file is keyed on its bytes first (cheap), and the
   * cache maps those to the pixels' key, so that a file seen before is not decoded again; a changed file has
   * other bytes, hence another key.
   */
  private async openImage(
    input: string | RgbImage,
    timings: PrepareTimings,
  ): Promise<{ source: string; imageKey: string; width: number; height: number; loadImage: () => Promise<RgbImage> }> {
    if (typeof input !== "string") {
      return { source: input.source ?? "(image)", imageKey: hashImage(input), width: input.width, height: input.height, loadImage: async () => input };
    }
    const file = await statImageFile(input);
    const fileKeyOf = (bytes: Uint8Array) => createHash("sha256").update(DECODER_ID).update("\n").update(bytes).digest("hex");
    const remembered = this.stages ? this.fileKeys.get(input) : undefined;
    let fileKey: string;
    let bytes: Promise<Buffer> | undefined;
    if (remembered?.identity === file.identity) {
      // Unchanged since it was read: its bytes are read only if they are needed (a decode, a header check).
      fileKey = remembered.fileKey;
    } else {
      const readAt = Date.now();
      const read = await readImageBytes(input);
      bytes = Promise.resolve(read);
      fileKey = fileKeyOf(read);
      // A file changed within the last two seconds could change again with the same times (coarse clocks):
      // its key is not remembered.
      if (this.stages && readAt - file.mtimeMs > RACY_MS) this.fileKeys.set(input, { identity: file.identity, fileKey });
    }
    // Bytes read later must still be the ones the key was made of.
    const readBytes = () =>
      (bytes ??= readImageBytes(input).then((b) => {
        if (fileKeyOf(b) !== fileKey) throw new GearSegError(`cannot read image "${input}": it changed while it was being read`);
        return b;
      }));
    const options = { maxPixels: this.maxPixels };
    let decoded: Promise<RgbImage> | undefined;
    const loadImage = () =>
      (decoded ??= (async () => {
        const data = await readBytes();
        const t = performance.now();
        const image = await decodeImage(data, input, options);
        timings.decodeMs += performance.now() - t;
        return image;
      })());
    const known = this.stages ? await this.stages.getImage(fileKey) : undefined;
    if (known) {
      // These bytes passed this agent's refusals before (its pixel limit does not change).
      if (this.headersChecked.get(fileKey)) return { source: input, ...known, loadImage };
      // The same refusals as a decode (not an image, over the pixel limit), from the header alone.
      const header = await checkImageHeader(await readBytes(), input, options);
      if (header.width * header.height === known.width * known.height) {
        this.headersChecked.set(fileKey, true);
        return { source: input, ...known, loadImage };
      }
    }
    const image = await loadImage();
    const imageKey = hashImage(image);
    if (this.stages) {
      await this.stages.putImage(fileKey, { imageKey, width: image.width, height: image.height });
      this.headersChecked.set(fileKey, true); // decoded within the limit: the header would pass
    }
    return { source: image.source ?? input, imageKey, width: image.width, height: image.height, loadImage };
  }
}

/** Files whose header check an agent remembers. */
const HEADERS_KEPT = 16;
/** How recently changed a file may be and still have its key remembered (coarse file-system clocks: FAT has 2 s). */
const RACY_MS = 2000;

/** The regions numbered, and what the duplicate rule and the cap removed. */
interface Arranged {
  readonly regions: readonly Region[];
  readonly duplicatesDropped: number;
  readonly capDropped: number;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** A segmenter bug must not surface as a wrong picture: check what it returned. */
function checkRegions(regions: readonly Region[], width: number, height: number, spec: string): void {
  for (const r of regions) {
    if (r.rle.height !== height || r.rle.width !== width) {
      throw new GearSegError(`segmenter ${spec} returned a ${r.rle.height}×${r.rle.width} mask for a ${height}×${width} image`);
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
