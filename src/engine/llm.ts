/**
 * The engine's LLM: one OpenAI-compatible chat call that must come back as JSON (the architect's items, the
 * labeller's classes). The client is the shared one (src/net/openai.ts: transport, retries, endpoint pooling,
 * the response_format ladder, reply reading); this module only turns the reply text into a JSON value, asking
 * again when there is none.
 */
import type { z } from "zod";
import { integer, number, oneOf, optionsSchema, parseWith } from "../config/schema.js";
import { addUsage, extractJson } from "../net/chat.js";
import { httpClientOptions, parseModelAtUrls } from "../net/http.js";
import { OpenAiClient } from "../net/openai.js";
import { chatOptions } from "../net/options.js";
import { redactText } from "../net/redact.js";
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

export const jsonChatOptions = optionsSchema(() =>
  chatOptions.schema.extend({
    /** Extra attempts when the reply is empty or holds no JSON (default 1). */
    parseRetries: integer(0, 10).optional(),
    temperature: number(0, 2).optional(),
    maxTokens: integer(1).optional(),
    responseFormat: oneOf(["auto", "json_object", "none"]).optional(),
  }),
);

export type JsonChatOptions = z.input<typeof jsonChatOptions.schema>;

/** `openai:<model>@<base-url>[,<base-url>...]` (or the same without `openai:`): base URLs end before `/chat/completions`, e.g. `http://localhost:8000/v1`. */
export function createJsonChat(spec: string, options: JsonChatOptions = {}): JsonChat {
  const shown = redactText(spec);
  const label = `llm ${shown}`;
  const arg = spec.startsWith("openai:") ? spec.slice("openai:".length) : spec;
  if (!arg.trim()) throw new UsageError(`llm: give the model and the server, as openai:<model>@<base-url>`);
  const { model, urls: specUrls } = parseModelAtUrls(arg, label);
  const o = parseWith(jsonChatOptions, options, label);
  const { urls, client } = httpClientOptions(o, label, specUrls);
  const chat = new OpenAiClient(label, model, urls, client, { responseFormat: o.responseFormat, maxAnswerChars: o.maxAnswerChars });
  return new OpenAiJsonChat(shown, chat, o.parseRetries ?? 1, o.temperature, o.maxTokens);
}

export class OpenAiJsonChat implements JsonChat {
  constructor(
    readonly spec: string,
    private readonly client: OpenAiClient,
    private readonly parseRetries: number,
    private readonly temperature?: number,
    private readonly maxTokens?: number,
  ) {}

  get model(): string {
    return this.client.model;
  }

  async chatJson(messages: readonly ChatMessage[], options: { signal?: AbortSignal; temperature?: number } = {}): Promise<JsonReply> {
    const started = performance.now();
    let usage: TokenUsage | undefined;
    let lastText = "";
    for (let attempt = 0; attempt <= this.parseRetries; attempt++) {
      const reply = await this.client.chat({
        messages,
        temperature: options.temperature ?? this.temperature ?? 0.7,
        maxTokens: this.maxTokens,
        json: {},
        signal: options.signal,
      });
      usage = addUsage(usage, reply.usage);
      lastText = reply.text;
      const value = extractJson(lastText);
      if (value !== undefined) {
        return { value, text: lastText, model: reply.model ?? this.model, usage, latencyMs: performance.now() - started };
      }
    }
    const shown = lastText.replace(/\s+/g, " ").slice(0, 120);
    throw new GearSegError(`llm ${this.spec}: the reply holds no JSON after ${this.parseRetries + 1} attempts: ${JSON.stringify(shown)}`);
  }
}
