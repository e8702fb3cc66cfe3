/**
 * The one OpenAI-compatible client: chat completions and embeddings over the shared HTTP transport, used by
 * the `openai` and `embedding` reasoners, the `openai-vision` describer and captioner, and the engine's LLM.
 *
 * One behaviour for all of them:
 * - Base URLs include the version path (`…/v1`); `endpoints` adds replicas to the spec's URLs (it never
 *   replaces them).
 * - Asking for JSON: with a schema, `response_format: json_schema` first; a server that rejects a format (HTTP
 *   400 or 422) is asked again with `json_object`, then with the prompt alone, and the client remembers what
 *   worked. A caller may fix the format instead (`responseFormat`), and then a rejection is an error.
 * - An answer longer than `maxAnswerChars` (after thinking blocks are stripped) is an error naming the backend
 *   and the limit: a runaway generation never becomes a result or a cache entry.
 */
import type { TokenUsage } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";
import { readChatReply, stripThinking, type ChatReply } from "./chat.js";
import { HttpClient, HttpError, type HttpClientOptions } from "./http.js";

export type ResponseFormat = "json_schema" | "json_object" | "none";
export type ResponseFormatMode = "auto" | ResponseFormat;
const LADDER: readonly ResponseFormat[] = ["json_schema", "json_object", "none"];

export const DEFAULT_MAX_ANSWER_CHARS = 20_000;

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string | ({ type: "text"; text: string } | { type: "image_url"; image_url: { url: string } })[];
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  /** Ask for JSON: `{}` for any object, `{ schema }` for OpenAI's json_schema (`{name, schema, strict}`). */
  json?: { schema?: Record<string, unknown> };
  signal?: AbortSignal;
  /** Called when the request's body has been handed over (see RequestHooks). */
  onSent?: () => void;
}

export interface ChatAnswer extends ChatReply {
  /** The visible answer: `content` without thinking blocks, trimmed. */
  text: string;
  /** The endpoint that answered. */
  url: string;
  latencyMs: number;
}

export interface OpenAiClientOptions {
  /** "auto" (default): step down the ladder on rejection; otherwise always send this format. */
  responseFormat?: ResponseFormatMode;
  maxAnswerChars?: number;
}

export class OpenAiClient {
  readonly http: HttpClient;
  private format: ResponseFormat | undefined;
  private readonly fixedFormat: boolean;
  readonly maxAnswerChars: number;

  constructor(
    /** Names the backend in messages. */
    readonly label: string,
    readonly model: string,
    urls: readonly string[],
    http: HttpClientOptions = {},
    options: OpenAiClientOptions = {},
  ) {
    this.http = new HttpClient(label, urls, http);
    const mode = options.responseFormat ?? "auto";
    this.fixedFormat = mode !== "auto";
    this.format = mode === "auto" ? undefined : mode;
    this.maxAnswerChars = options.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS;
  }

  get urls(): string[] {
    return this.http.urls;
  }

  /** Requests the pool lets run at once over all endpoints. */
  get inFlight(): number {
    return this.http.pool.concurrency * this.http.urls.length;
  }

  /** One cheap call: the model list (any answer but 401/403 shows the server is up and takes the key). */
  check(signal?: AbortSignal): Promise<void> {
    return this.http.check("/models", signal);
  }

  /** One chat completion. JSON requests step down the response_format ladder when the server rejects one. */
  async chat(request: ChatRequest): Promise<ChatAnswer> {
    const started = performance.now();
    for (;;) {
      const format = request.json ? this.formatFor(request.json) : "none";
      const body: Record<string, unknown> = {
        model: this.model,
        messages: request.messages,
        ...(request.temperature !== undefined && { temperature: request.temperature }),
        ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
        ...(request.topP !== undefined && { top_p: request.topP }),
        stream: false,
      };
      if (format === "json_schema") body.response_format = { type: "json_schema", json_schema: request.json!.schema };
      else if (format === "json_object") body.response_format = { type: "json_object" };
      let res;
      try {
        res = await this.http.postJson("/chat/completions", body, request.signal, { onSent: request.onSent });
      } catch (err) {
        const rejected = err instanceof HttpError && (err.status === 400 || err.status === 422);
        const next = LADDER[LADDER.indexOf(format) + 1];
        if (!request.json || !rejected || this.fixedFormat || format === "none" || !next) throw err;
        this.format = next;
        continue;
      }
      if (request.json) this.format = format;
      const reply = readChatReply(res.json, `${this.label} (${res.url})`);
      const text = stripThinking(reply.content);
      if (text.length > this.maxAnswerChars) {
        throw new GearSegError(`${this.label}: the answer is ${text.length} characters, more than the limit of ${this.maxAnswerChars} (option maxAnswerChars)`);
      }
      return { ...reply, text, url: res.url, latencyMs: performance.now() - started };
    }
  }

  /** Embeddings of `input`, in order, through `POST /embeddings`. */
  async embed(input: readonly string[], signal?: AbortSignal): Promise<{ vectors: Float64Array[]; usage?: TokenUsage; url: string }> {
    const res = await this.http.postJson("/embeddings", { model: this.model, input }, signal);
    const vectors = readEmbeddings(res.json, input.length, `${this.label} (${res.url})`);
    const u = (res.json as { usage?: { prompt_tokens?: number; total_tokens?: number } }).usage;
    return { vectors, url: res.url, ...(u && { usage: { promptTokens: u.prompt_tokens, totalTokens: u.total_tokens } }) };
  }

  private formatFor(json: NonNullable<ChatRequest["json"]>): ResponseFormat {
    if (this.format === undefined) return json.schema ? "json_schema" : "json_object";
    // A schema-less request cannot use json_schema: the next rung down.
    if (this.format === "json_schema" && !json.schema) return "json_object";
    return this.format;
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
