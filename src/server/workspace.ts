/**
 * The images a server holds: uploaded bytes (kept on disk, named by their sha256, so the same image uploaded
 * twice is one image), their preparation (segment, describe, caption — in the background, through the bounded
 * queue and the agent's stage cache), the regions added by prompts, and the answers given on them.
 *
 * Memory stays bounded: at most `maxImages` images are known (the least recently used finished one is
 * forgotten first), at most `maxDecoded` are held as decoded pixels (others are decoded again from their file
 * when a picture or a prompt needs them), and each image keeps its last `maxAnswers` answers.
 */
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeImage } from "../image/decode.js";
import type { RgbImage } from "../image/types.js";
import { emptyRle, merge } from "../masks/index.js";
import type { AgentStage, GearSeg, PreparedImage, SegmentationResult } from "../pipeline/agent.js";
import type { PromptableSegmenter, QueryMode, Region, RegionPrompt } from "../pipeline/types.js";
import { describeError, UsageError } from "../util/errors.js";
import { HttpError } from "./http-error.js";
import type { WorkQueue } from "./queue.js";
import type { StageEvents } from "./stage-events.js";

export type ImageState = "queued" | "segmenting" | "describing" | "ready" | "failed";

export interface ImageStatus {
  id: string;
  name: string;
  width: number;
  height: number;
  state: ImageState;
  /** The stage running and how far it is (units: regions, points, requests), while the image is prepared. */
  progress: { stage: AgentStage; done: number; total: number } | null;
  error: string | null;
  /** Number of regions once ready. */
  regions: number | null;
}

export interface Answer {
  id: string;
  result: SegmentationResult;
  /** Chosen by hand (a correction), not by the reasoner. */
  corrected: boolean;
}

export interface ImageEntry {
  readonly id: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly file: string;
  state: ImageState;
  progress: ImageStatus["progress"];
  error: string | null;
  prepared: PreparedImage | null;
  /** Regions added by point/box prompts; ids follow the prepared regions'. */
  added: Region[];
  answers: Map<string, Answer>;
  nextAnswer: number;
  /** Aborts the preparation (queued or running). */
  cancel: AbortController;
  /** Settles when the preparation ends (ready, failed or cancelled). */
  settled: Promise<void>;
  listeners: Set<(status: ImageStatus) => void>;
  lastUsed: number;
}

export interface WorkspaceOptions {
  agent: GearSeg;
  stageEvents: StageEvents;
  /** Preparation (segment + describe), the heavy work. */
  prepareQueue: WorkQueue;
  /** Queries and prompts. */
  askQueue: WorkQueue;
  /** Where uploaded bytes are kept (the server's private work folder). */
  uploadsDir: string;
  maxImages: number;
  maxDecoded: number;
  maxAnswers: number;
}

const STAGE_STATE: Record<AgentStage, ImageState> = {
  segment: "segmenting",
  describe: "describing",
  caption: "describing",
  reason: "describing",
};

export function isPromptable(segmenter: unknown): segmenter is PromptableSegmenter {
  return typeof (segmenter as Partial<PromptableSegmenter>).segmentPrompt === "function";
}

export class Workspace {
  private readonly images = new Map<string, ImageEntry>();
  /** Decoded pixels, most recently used last. */
  private readonly decoded = new Map<string, Promise<RgbImage>>();

  constructor(private readonly o: WorkspaceOptions) {}

  get agent(): GearSeg {
    return this.o.agent;
  }

  get size(): number {
    return this.images.size;
  }

  /**
   * Adds an uploaded image (`width`/`height` from its header, already checked) and starts its preparation.
   * Uploading known bytes returns the known image (`created: false`), unless its preparation failed, in which
   * case it is tried again. Throws `QueueFullError` when the preparation queue is full: nothing is kept then.
   */
  async add(bytes: Uint8Array, name: string | undefined, size: { width: number; height: number }): Promise<{ entry: ImageEntry; created: boolean }> {
    const id = createHash("sha256").update(bytes).digest("hex");
    const known = this.images.get(id);
    if (known && known.state !== "failed") {
      known.lastUsed = Date.now();
      return { entry: known, created: false };
    }
    // A failed image is tried again; its file is about to be written anew, so it is not removed.
    if (known) this.forget(known, { keepFile: true });
    // Refused before anything is written or remembered.
    this.o.prepareQueue.assertRoom();
    const cancel = new AbortController();
    const entry: ImageEntry = {
      id,
      name: name?.trim().slice(0, 200) || `upload-${id.slice(0, 12)}`,
      width: size.width,
      height: size.height,
      file: join(this.o.uploadsDir, id),
      state: "queued",
      progress: null,
      error: null,
      prepared: null,
      added: [],
      answers: new Map(),
      nextAnswer: 1,
      cancel,
      settled: Promise.resolve(),
      listeners: new Set(),
      lastUsed: Date.now(),
    };
    // Known at once, so that the same bytes uploaded again meanwhile find this entry.
    this.images.set(id, entry);
    let job: Promise<void>;
    try {
      await writeFile(entry.file, bytes);
      job = this.o.prepareQueue.submit((signal) => this.prepare(entry, signal), cancel.signal);
    } catch (err) {
      this.forget(entry);
      throw err;
    }
    entry.settled = job.then(
      () => undefined,
      (err) => {
        entry.state = "failed";
        entry.progress = null;
        entry.error = cancel.signal.aborted ? "preparation cancelled" : describeError(err);
        this.emit(entry);
      },
    );
    this.evict();
    return { entry, created: true };
  }

  get(id: string): ImageEntry | undefined {
    const entry = this.images.get(id);
    if (entry) entry.lastUsed = Date.now();
    return entry;
  }

  /** The entry, or a 404 naming the id. */
  require(id: string): ImageEntry {
    const entry = this.get(id);
    if (!entry) throw new HttpError(404, `no image ${id} (upload it first with POST /api/images)`);
    return entry;
  }

  /** The entry's preparation, or a 409 saying why there is none yet. */
  requireReady(entry: ImageEntry): PreparedImage {
    if (entry.state === "ready" && entry.prepared) return entry.prepared;
    if (entry.state === "failed") throw new HttpError(409, `image ${entry.id} failed to prepare: ${entry.error}`);
    throw new HttpError(409, `image ${entry.id} is not ready yet (${entry.state}); wait for state "ready"`);
  }

  list(): ImageStatus[] {
    return [...this.images.values()].map((e) => this.status(e));
  }

  status(entry: ImageEntry): ImageStatus {
    return {
      id: entry.id,
      name: entry.name,
      width: entry.width,
      height: entry.height,
      state: entry.state,
      progress: entry.progress,
      error: entry.error,
      regions: entry.prepared ? entry.prepared.regions.length : null,
    };
  }

  /** Calls `listener` on every state or progress change until the returned function is called. */
  subscribe(entry: ImageEntry, listener: (status: ImageStatus) => void): () => void {
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  /** Decoded pixels of an image (kept for the most recent `maxDecoded` images). */
  pixels(entry: ImageEntry): Promise<RgbImage> {
    let p = this.decoded.get(entry.id);
    if (p) {
      this.decoded.delete(entry.id);
    } else {
      p = readFile(entry.file).then((bytes) => decodeImage(bytes, entry.name, { maxPixels: Number.MAX_SAFE_INTEGER }));
      p.catch(() => this.decoded.delete(entry.id));
    }
    this.decoded.set(entry.id, p);
    while (this.decoded.size > this.o.maxDecoded) this.decoded.delete(this.decoded.keys().next().value!);
    return p;
  }

  /** Every region of the image: the prepared ones, then those added by prompts. */
  allRegions(entry: ImageEntry): Region[] {
    return [...(entry.prepared?.regions ?? []), ...entry.added];
  }

  /** One query, through the ask queue; `signal` (the client's connection) cancels it. */
  async ask(entry: ImageEntry, query: string, options: { mode?: QueryMode; maxMasks?: number }, signal: AbortSignal): Promise<Answer> {
    const prepared = this.requireReady(entry);
    const result = await this.o.askQueue.submit((s) => this.o.agent.ask(prepared, query, { ...options, signal: s }), signal);
    return this.keep(entry, result, false);
  }

  /**
   * A corrected answer: the given regions (prepared or added by prompts) as the answer to `query`, with the
   * union recomputed. Unknown ids are a 400 naming them.
   */
  compose(entry: ImageEntry, query: string, maskIds: number[], explanation: string, mode: QueryMode): Answer {
    const prepared = this.requireReady(entry);
    if (!query.trim()) throw new UsageError("the query is empty");
    const regions = this.allRegions(entry);
    const byId = new Map(regions.map((r) => [r.id, r]));
    const unknown = maskIds.filter((id) => !byId.has(id));
    if (unknown.length) throw new HttpError(400, `mask_ids name no region of image ${entry.id}: ${unknown.join(", ")}`);
    const ids = [...new Set(maskIds)];
    const chosen = ids.map((id) => byId.get(id)!.rle);
    const withAdded: PreparedImage =
      entry.added.length === 0
        ? prepared
        : { ...prepared, regions, descriptions: [...prepared.descriptions, ...entry.added.map(() => "")] };
    const result: SegmentationResult = {
      prepared: withAdded,
      query: query.trim(),
      mode,
      maskIds: ids,
      droppedIds: [],
      explanation,
      warnings: ["regions chosen by hand"],
      mask: chosen.length ? merge(chosen, false) : emptyRle(prepared.height, prepared.width),
      reasonMs: 0,
      reasoner: "manual",
    };
    return this.keep(entry, result, true);
  }

  /** A region from SAM 2's prompt decoder, added to the image's regions. */
  async prompt(entry: ImageEntry, prompt: RegionPrompt, signal: AbortSignal): Promise<Region> {
    this.requireReady(entry);
    const segmenter = this.o.agent.segmenter;
    if (!isPromptable(segmenter)) {
      throw new HttpError(400, `the segmenter ${segmenter.spec} cannot take point or box prompts (a sam2 segmenter can)`);
    }
    const image = await this.pixels(entry);
    const region = await this.o.askQueue.submit((s) => segmenter.segmentPrompt(image, prompt, { signal: s }), signal);
    const last = this.allRegions(entry).reduce((m, r) => Math.max(m, r.id), -1);
    const added: Region = { ...region, id: last + 1 };
    entry.added.push(added);
    return added;
  }

  answer(entry: ImageEntry, answerId: string): Answer {
    const a = entry.answers.get(answerId);
    if (!a) throw new HttpError(404, `no answer ${answerId} for image ${entry.id}`);
    return a;
  }

  /** Cancels the image's preparation and forgets it. */
  async remove(entry: ImageEntry): Promise<void> {
    entry.cancel.abort(new DOMException("image removed", "AbortError"));
    await entry.settled;
    this.forget(entry);
  }

  async close(): Promise<void> {
    for (const e of this.images.values()) e.cancel.abort(new DOMException("the server is shutting down", "AbortError"));
    await Promise.all([...this.images.values()].map((e) => e.settled));
    this.images.clear();
    this.decoded.clear();
  }

  private async prepare(entry: ImageEntry, signal: AbortSignal): Promise<void> {
    const image = await this.pixels(entry);
    signal.throwIfAborted();
    const prepared = await this.o.stageEvents.run(
      (stage, done, total) => {
        entry.state = STAGE_STATE[stage];
        entry.progress = { stage, done, total };
        this.emit(entry);
      },
      async () => {
        entry.state = "segmenting";
        this.emit(entry);
        return this.o.agent.prepare(image, signal);
      },
    );
    const { image: _pixels, ...withoutPixels } = prepared;
    entry.prepared = withoutPixels;
    entry.state = "ready";
    entry.progress = null;
    this.emit(entry);
  }

  private keep(entry: ImageEntry, result: SegmentationResult, corrected: boolean): Answer {
    const answer: Answer = { id: String(entry.nextAnswer++), result, corrected };
    entry.answers.set(answer.id, answer);
    while (entry.answers.size > this.o.maxAnswers) entry.answers.delete(entry.answers.keys().next().value!);
    return answer;
  }

  private emit(entry: ImageEntry): void {
    const status = this.status(entry);
    for (const l of entry.listeners) l(status);
  }

  /** Forgets the least recently used finished images beyond `maxImages`. */
  private evict(): void {
    if (this.images.size <= this.o.maxImages) return;
    const finished = [...this.images.values()]
      .filter((e) => e.state === "ready" || e.state === "failed")
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of finished) {
      if (this.images.size <= this.o.maxImages) break;
      this.forget(e);
    }
  }

  private forget(entry: ImageEntry, { keepFile = false } = {}): void {
    this.images.delete(entry.id);
    this.decoded.delete(entry.id);
    if (!keepFile) void rm(entry.file, { force: true });
  }
}
