/**
 * Reading an OpenAI-style chat completion tolerantly: DAM's server omits `index`, `finish_reason` and `usage`;
 * some servers send `content` as a list of text parts; DeepSeek and vLLM put the chain of thought in
 * `reasoning_content` (or `reasoning`) beside `content`.
 */
import type { TokenUsage } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";

export interface ChatReply {
  /** The answer text ("" when the server sent none). */
  content: string;
  /** Separate chain of thought, when the server sent one. */
  reasoning: string;
  finishReason?: string;
  usage?: TokenUsage;
  model?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value
      .map((part) => (typeof part === "string" ? part : isObject(part) && typeof part.text === "string" ? part.text : ""))
      .join("");
  }
  return "";
}

/** Throws a GearSegError naming `label` when the body is not a chat completion at all. */
export function readChatReply(json: unknown, label: string): ChatReply {
  if (!isObject(json)) throw new GearSegError(`${label}: the reply is not a JSON object`);
  if (json.error !== undefined) {
    const e = json.error;
    const msg = typeof e === "string" ? e : isObject(e) && typeof e.message === "string" ? e.message : JSON.stringify(e);
    throw new GearSegError(`${label}: the server answered with an error: ${msg}`);
  }
  const choices = json.choices;
  if (!Array.isArray(choices) || choices.length === 0 || !isObject(choices[0])) {
    throw new GearSegError(`${label}: the reply has no choices`);
  }
  const choice = choices[0];
  const message = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : {};
  const usage = isObject(json.usage) ? readUsage(json.usage) : undefined;
  return {
    content: text(message.content ?? choice.text),
    reasoning: text(message.reasoning_content ?? message.reasoning),
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : undefined,
    usage,
    model: typeof json.model === "string" ? json.model : undefined,
  };
}

function readUsage(u: Json): TokenUsage {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  return { promptTokens: num(u.prompt_tokens), completionTokens: num(u.completion_tokens), totalTokens: num(u.total_tokens) };
}

/** Adds token counts (undefined stays undefined only when both are). */
export function addUsage(a: TokenUsage | undefined, b: TokenUsage | undefined): TokenUsage | undefined {
  if (!a) return b;
  if (!b) return a;
  const sum = (x?: number, y?: number) => (x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0));
  return {
    promptTokens: sum(a.promptTokens, b.promptTokens),
    completionTokens: sum(a.completionTokens, b.completionTokens),
    totalTokens: sum(a.totalTokens, b.totalTokens),
  };
}

/**
 * The visible answer of a reasoning model: drops `<think>…</think>` blocks, and everything up to a lone
 * closing `</think>` (some chat templates put the opening tag in the prompt, so only the closing one comes back).
 */
export function stripThinking(content: string): string {
  let out = content.replace(/<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>/gi, "");
  const close = out.search(/<\/think(?:ing)?>/i);
  if (close >= 0) out = out.slice(close).replace(/^<\/think(?:ing)?>/i, "");
  // An opening tag with no close: the model ran out of tokens while thinking; nothing after it is an answer.
  const open = out.search(/<think(?:ing)?>/i);
  if (open >= 0) out = out.slice(0, open);
  return out.trim();
}
