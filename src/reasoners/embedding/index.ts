/**
 * `embedding:<model>@<base-url>[,<base-url>...]`: the non-generative reasoner. Embeds the query and every region
 * description through an OpenAI-compatible `POST <base>/embeddings` (base includes `/v1`), scores regions by
 * cosine similarity, and keeps those within `relativeThreshold` of the best score (at most maxMasks, and none
 * below `minSimilarity`). Description vectors are remembered per text, so further queries on the same image
 * only embed the query.
 */
import { httpClientOptions, parseModelAtUrls, type HttpClientOptions } from "../../net/http.js";
import { OpenAiClient } from "../../net/openai.js";
import type { BackendFactory, ReasonAnswer, Reasoner, ReasonRequest, StageContext, TokenUsage } from "../../pipeline/types.js";
import { addUsage } from "../../net/chat.js";
import { GearSegError } from "../../util/errors.js";
import type { EmbeddingReasonerOptions as Options } from "./options.js";

export interface EmbeddingReasonerSettings {
  model: string;
  urls: string[];
  /** Keep regions scoring at least this share of the best score (default 0.9). */
  relativeThreshold?: number;
  /** Never keep a region below this cosine similarity (default 0). */
  minSimilarity?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  http?: HttpClientOptions;
}

export const createEmbeddingReasoner: BackendFactory<Reasoner, Options> = async (arg, options, { spec, label }) => {
  const { model, urls: specUrls } = parseModelAtUrls(arg, label);
  const { urls, client } = httpClientOptions(options, label, specUrls);
  const { relativeThreshold, minSimilarity, batchSize } = options;
  return new EmbeddingReasoner(spec, { model, urls, relativeThreshold, minSimilarity, batchSize, http: client });
};

const MAX_REMEMBERED = 4096;

export class EmbeddingReasoner implements Reasoner {
  /** The model, its servers and the selection rule (batchSize changes no answer). */
  readonly fingerprint: string;
  readonly client: OpenAiClient;
  readonly model: string;
  private readonly relativeThreshold: number;
  private readonly minSimilarity: number;
  private readonly batchSize: number;
  private readonly vectors = new Map<string, Float64Array>();

  constructor(
    readonly spec: string,
    options: EmbeddingReasonerSettings,
  ) {
    this.client = new OpenAiClient(`reasoner ${spec}`, options.model, options.urls, options.http);
    this.model = options.model;
    this.relativeThreshold = options.relativeThreshold ?? 0.9;
    this.minSimilarity = options.minSimilarity ?? 0;
    this.batchSize = options.batchSize ?? 64;
    this.fingerprint = [
      "embedding",
      `model=${this.model}`,
      `urls=${[...this.client.urls].sort().join(",")}`,
      `relative_threshold=${this.relativeThreshold}`,
      `min_similarity=${this.minSimilarity}`,
    ].join("|");
  }

  check(signal?: AbortSignal): Promise<void> {
    return this.client.check(signal);
  }

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
    // Remembered vectors may make the call need no request at all: the signal is checked here too.
    ctx?.signal?.throwIfAborted();
    const described = request.regions.filter((r) => r.description.trim());
    const texts = [request.query, ...described.map((r) => r.description.trim())];
    const usage = await this.embedAll(texts, ctx?.signal);
    const q = this.vectors.get(request.query)!;
    const scored = described
      .map((r) => ({ id: r.id, score: cosine(q, this.vectors.get(r.description.trim())!) }))
      .sort((a, b) => b.score - a.score);
    const best = scored[0]?.score ?? -Infinity;
    // Relative to the best: a share of a positive best; for a negative best, only ties qualify.
    const cut = Math.max(this.minSimilarity, best > 0 ? best * this.relativeThreshold : best);
    const chosen = scored.filter((s) => s.score >= cut).slice(0, request.maxMasks);
    const explanation = chosen.length
      ? `closest descriptions by embedding similarity to "${request.query}": ${chosen.map((c) => `mask ${c.id} (${c.score.toFixed(3)})`).join(", ")}`
      : `no region description is similar enough to "${request.query}"`;
    return {
      maskIds: chosen.map((c) => c.id),
      explanation,
      ...(chosen.length && { confidence: Math.max(0, Math.min(1, best)) }),
      ...(usage && { usage }),
      model: this.model,
    };
  }

  /** Embeds the texts not yet known, in batches. */
  private async embedAll(texts: string[], signal?: AbortSignal): Promise<TokenUsage | undefined> {
    const missing = [...new Set(texts.filter((t) => !this.vectors.has(t)))];
    let usage: TokenUsage | undefined;
    for (let i = 0; i < missing.length; i += this.batchSize) {
      const batch = missing.slice(i, i + this.batchSize);
      const res = await this.client.embed(batch, signal);
      batch.forEach((t, k) => this.remember(t, res.vectors[k]!));
      usage = addUsage(usage, res.usage);
    }
    return usage;
  }

  private remember(text: string, v: Float64Array): void {
    if (this.vectors.size >= MAX_REMEMBERED) this.vectors.delete(this.vectors.keys().next().value!);
    this.vectors.set(text, v);
  }
}

export function cosine(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new GearSegError(`embedding lengths differ: ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
