/**
 * `embedding:<model>@<base-url>[,<base-url>...]`: the non-generative reasoner. Embeds the query and every region
 * description through an OpenAI-compatible `POST <base>/embeddings` (base includes `/v1`), scores regions by
 * cosine similarity, and keeps those within `relativeThreshold` of the best score (at most maxMasks, and none
 * below `minSimilarity`). Description vectors are remembered per text, so further queries on the same image
 * only embed the query.
 */
import type { BackendOptions } from "../../stack/registry.js";
import { HttpClient, parseModelAtUrls, parseUrls } from "../../net/http.js";
import { OptionReader } from "../../net/options.js";
import type { ReasonAnswer, Reasoner, ReasonRequest, StageContext, TokenUsage } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";

export interface EmbeddingReasonerOptions {
  model: string;
  urls: string[];
  /** Keep regions scoring at least this share of the best score (default 0.9). */
  relativeThreshold?: number;
  /** Never keep a region below this cosine similarity (default 0). */
  minSimilarity?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  http?: ConstructorParameters<typeof HttpClient>[2];
}

export async function createEmbeddingReasoner(arg: string, options: BackendOptions, spec: string): Promise<Reasoner> {
  const label = `reasoner ${spec}`;
  const { model, urls } = parseModelAtUrls(arg, label);
  const reader = new OptionReader(options, label);
  const { endpoints, ...http } = reader.http();
  const relativeThreshold = reader.number("relativeThreshold", 0, 1);
  const minSimilarity = reader.number("minSimilarity", -1, 1);
  const batchSize = reader.integer("batchSize", 1);
  reader.rejectUnknown();
  return new EmbeddingReasoner(spec, {
    model,
    urls: [...urls, ...endpoints.flatMap((e) => parseUrls(e, label))],
    relativeThreshold,
    minSimilarity,
    batchSize,
    http,
  });
}

const MAX_REMEMBERED = 4096;

export class EmbeddingReasoner implements Reasoner {
  readonly client: HttpClient;
  readonly model: string;
  private readonly relativeThreshold: number;
  private readonly minSimilarity: number;
  private readonly batchSize: number;
  private readonly vectors = new Map<string, Float64Array>();

  constructor(
    readonly spec: string,
    options: EmbeddingReasonerOptions,
  ) {
    this.client = new HttpClient(`reasoner ${spec}`, options.urls, options.http);
    this.model = options.model;
    this.relativeThreshold = options.relativeThreshold ?? 0.9;
    this.minSimilarity = options.minSimilarity ?? 0;
    this.batchSize = options.batchSize ?? 64;
  }

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
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
      const res = await this.client.postJson("/embeddings", { model: this.model, input: batch }, signal);
      const vectors = readEmbeddings(res.json, batch.length, `reasoner ${this.spec} (${res.url})`);
      batch.forEach((t, k) => this.remember(t, vectors[k]!));
      const u = (res.json as { usage?: { prompt_tokens?: number; total_tokens?: number } }).usage;
      if (u) usage = { promptTokens: (usage?.promptTokens ?? 0) + (u.prompt_tokens ?? 0), totalTokens: (usage?.totalTokens ?? 0) + (u.total_tokens ?? 0) };
    }
    return usage;
  }

  private remember(text: string, v: Float64Array): void {
    if (this.vectors.size >= MAX_REMEMBERED) this.vectors.delete(this.vectors.keys().next().value!);
    this.vectors.set(text, v);
  }
}

function readEmbeddings(json: unknown, n: number, label: string): Float64Array[] {
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length !== n) {
    throw new GearSegError(`${label}: expected ${n} embeddings in "data", got ${Array.isArray(data) ? data.length : "none"}`);
  }
  const out = new Array<Float64Array>(n);
  data.forEach((item: unknown, k: number) => {
    const rec = item as { index?: unknown; embedding?: unknown };
    const index = typeof rec.index === "number" ? rec.index : k;
    if (!Array.isArray(rec.embedding) || rec.embedding.length === 0 || rec.embedding.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
      throw new GearSegError(`${label}: embedding ${k} is not a list of numbers (base64 encoding is not supported)`);
    }
    if (index < 0 || index >= n || out[index]) throw new GearSegError(`${label}: embedding index ${index} is out of range or repeated`);
    out[index] = Float64Array.from(rec.embedding as number[]);
  });
  const dim = out[0]!.length;
  if (out.some((v) => v.length !== dim)) throw new GearSegError(`${label}: embeddings of different lengths`);
  return out;
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
