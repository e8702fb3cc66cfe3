/**
 * The engine's LLM: one OpenAI-compatible chat call that must come back as JSON (the architect's items, the
 * labeller's classes). Transport, retries, endpoint pooling and reply reading are the shared ones in
 * src/net; this module only builds the request and turns the reply text into a JSON value.
 */
import type { BackendOptions } from "../stack/registry.js";
import { addUsage, readChatReply, stripThinking } from "../net/chat.js";
import { HttpClient, HttpError, parseModelAtUrls } from "../net/http.js";
import { OptionReader } from "../net/options.js";
import { jsonCandidates } from "../reasoners/openai/parse.js";
import type { TokenUsage } from "../pipeline/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import type { ChatMessage } from "./prompt.js";

export interface JsonReply {
  value: unknown;
  /** The visible reply text the value was parsed from. */
  text: string;
  model?: string;
  usage?: TokenUsage;
  latencyMs: number;
}

/** What the engine needs from an LLM. */
export interface JsonChat {
  readonly spec: string;
  readonly model: string;
  chatJson(messages: readonly ChatMessage[], options?: { signal?: AbortSignal; temperature?: number }): Promise<JsonReply>;
}

export interface OpenAiJsonChatOptions extends BackendOptions {
  /** Extra attempts when the reply is empty or holds no JSON (default 1). */
  parseRetries?: number;
  temperature?: number;
  maxTokens?: number;
}

/** `openai:<model>@<base-url>[,<base-url>...]` (or the same without `openai:`): base URLs end before `/chat/completions`, e.g. `http://localhost:8000/v1`. */
export function createJsonChat(spec: string, options: OpenAiJsonChatOptions = {}): JsonChat {
  const arg = spec.startsWith("openai:") ? spec.slice("openai:".length) : spec;
  if (!arg.trim()) throw new UsageError(`--llm: give the model and server, as openai:<model>@<base-url>`);
  const { model, urls } = parseModelAtUrls(arg, `llm ${spec}`);
  const { parseRetries, temperature, maxTokens, ...rest } = options;
  const reader = new OptionReader(rest, `llm ${spec}`);
  const http = reader.http();
  reader.rejectUnknown();
  const client = new HttpClient(`llm ${spec}`, http.endpoints.length ? http.endpoints : urls, http);
  return new OpenAiJsonChat(spec, model, client, parseRetries ?? 1, temperature, maxTokens);
}

export class OpenAiJsonChat implements JsonChat {
  /** Whether the server accepts `response_format: json_object` (cleared after a 400 that rejects it). */
  private jsonMode = true;

  constructor(
    readonly spec: string,
    readonly model: string,
    private readonly client: HttpClient,
    private readonly parseRetries: number,
    private readonly temperature?: number,
    private readonly maxTokens?: number,
  ) {}

  async chatJson(messages: readonly ChatMessage[], options: { signal?: AbortSignal; temperature?: number } = {}): Promise<JsonReply> {
    const started = performance.now();
    let usage: TokenUsage | undefined;
    let lastText = "";
    for (let attempt = 0; attempt <= this.parseRetries; attempt++) {
      const body: Record<string, unknown> = {
        model: this.model,
        messages,
        temperature: options.temperature ?? this.temperature ?? 0.7,
        ...(this.maxTokens !== undefined && { max_tokens: this.maxTokens }),
        ...(this.jsonMode && { response_format: { type: "json_object" } }),
      };
      let json: unknown;
      try {
        json = (await this.client.postJson("/chat/completions", body, options.signal)).json;
      } catch (err) {
        // Servers without JSON mode reject the field with a 400: ask again in plain mode, once.
        if (this.jsonMode && err instanceof HttpError && err.status === 400 && /response_format|json/i.test(err.message)) {
          this.jsonMode = false;
          attempt--;
          continue;
        }
        throw err;
      }
      const reply = readChatReply(json, `llm ${this.spec}`);
      usage = addUsage(usage, reply.usage);
      lastText = stripThinking(reply.content);
      const value = extractJson(lastText);
      if (value !== undefined) {
        return { value, text: lastText, model: reply.model ?? this.model, usage, latencyMs: performance.now() - started };
      }
    }
    const shown = lastText.replace(/\s+/g, " ").slice(0, 120);
    throw new GearSegError(`llm ${this.spec}: the reply holds no JSON after ${this.parseRetries + 1} attempts: ${JSON.stringify(shown)}`);
  }
}

/**
 * The JSON value in a model's reply, trying the same candidates as the reasoner's parser (fenced blocks, the
 * whole text, balanced {...} spans); a bare top-level array also counts. Undefined when there is none.
 */
export function extractJson(text: string): unknown {
  const t = text.trim();
  if (!t) return undefined;
  for (const candidate of jsonCandidates(t)) {
    try {
      const v = JSON.parse(candidate) as unknown;
      if (typeof v === "object" && v !== null) return v;
    } catch {
      // next candidate
    }
  }
  const start = t.indexOf("[");
  const end = t.lastIndexOf("]");
  if (start >= 0 && end > start) {
    try {
      return JSON.parse(t.slice(start, end + 1)) as unknown;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
