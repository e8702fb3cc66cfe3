/**
 * Reading what a chat model sends back. The completion, tolerantly: DAM's server omits `index`, `finish_reason` and `usage`;
 * some servers send `content` as a list of text parts; DeepSeek and vLLM put the chain of thought in
 * `reasoning_content` (or `reasoning`) beside `content`. The answer text: thinking blocks stripped, and the
 * JSON in it found where models put it (fenced, bare, inside prose).
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

/** Fenced blocks (last first), then every balanced {...} or [...] in the text (last first), then the text. */
export function* jsonCandidates(text: string): Generator<string> {
  const fences = [...text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)].map((m) => m[1]!.trim());
  for (let i = fences.length - 1; i >= 0; i--) yield fences[i]!;
  yield text;
  const spans = balancedSpans(text);
  for (let i = spans.length - 1; i >= 0; i--) yield spans[i]!;
}

/** Top-level balanced `{…}` spans, skipping braces inside strings. */
function balancedSpans(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && depth > 0) inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

/**
 * The JSON value in a model's reply, trying the candidates of jsonCandidates (fenced blocks, the
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
