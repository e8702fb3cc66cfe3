/**
 * The one test server for the OpenAI-compatible APIs the backends and the engine use (`/v1/chat/completions`,
 * `/v1/embeddings`, `/v1/models`), in the shapes real servers send: DeepSeek/vLLM `reasoning_content`, `reasoning` (Ollama, newer vLLM),
 * `<think>` blocks in content (also with only the closing tag), fenced JSON, prose around JSON, ids as strings,
 * cut-off JSON, and servers that reject `response_format: json_schema`. In place of a model it reads the prompt:
 * it picks the masks whose description shares a word with the question, and describes images by their size
 * and whether a red outline is present. A test may answer chat requests itself (`answer`), as the engine's
 * tests do.
 */
import sharp from "sharp";
import { FaultServer, type FaultServerOptions } from "./fault-server.js";

export type ReplyStyle =
  | "plain"
  | "reasoning_content"
  | "reasoning"
  | "think"
  | "think-close"
  | "fenced"
  | "prose"
  | "string-ids"
  | "truncated";

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string | Part[] }[];
  response_format?: { type: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** A string is sent as the message content; `{status, body}` as a raw HTTP answer. */
export type ChatAnswer = string | { status: number; body: unknown };

export interface OpenAiServerOptions extends FaultServerOptions {
  /** Answers every chat request without images (before `contents`, `styles` and the built-in "model"). */
  answer?: (req: ChatRequest) => ChatAnswer | Promise<ChatAnswer>;
  /** The model name the replies give (default: the one requested). */
  servedModel?: (requested: string) => string;
  style?: ReplyStyle;
  /** Used first, one per chat request: exact content strings to send. */
  contents?: string[];
  /** Used first, one per chat request (after `contents`): styles. */
  styles?: ReplyStyle[];
  /** response_format types answered with HTTP 400, as servers that do not support them. */
  rejectFormats?: string[];
  /** Omit `usage` (as DAM and some servers do). */
  noUsage?: boolean;
}

const STOP = new Set(["what", "which", "that", "this", "with", "from", "there", "where", "when", "have", "used", "could", "would", "should", "the", "and", "for", "most", "some"]);

export function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => w.length >= 4 && !STOP.has(w)).map((w) => w.replace(/s$/, ""));
}

/** Bag-of-words vectors (64 buckets) for the embeddings route. */
export function bagOfWords(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of words(text)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % 64]! += 1;
  }
  return v;
}

export interface Part {
  type: string;
  text?: string;
  image_url?: { url: string };
}

/** The text of the request's user message(s). */
export function userText(req: ChatRequest): string {
  return req.messages
    .filter((m) => m.role === "user")
    .map((m) => (typeof m.content === "string" ? m.content : m.content.map((p) => p.text ?? "").join("")))
    .join("\n");
}

export async function startOpenAiServer(options: OpenAiServerOptions = {}) {
  const contents = [...(options.contents ?? [])];
  const styles = [...(options.styles ?? [])];
  const images: { width: number; height: number; redPixels: number }[][] = [];
  const requests: ChatRequest[] = [];
  const served = options.servedModel ?? ((m: string) => m);
  const server = new FaultServer(
    {
      "GET /v1/models": () => ({ json: { object: "list", data: [{ id: "test-model", object: "model" }] } }),
      "POST /v1/chat/completions": async (body) => {
        const req = body as ChatRequest;
        requests.push(req);
        const model = served(req.model);
        if (req.response_format && options.rejectFormats?.includes(req.response_format.type)) {
          return { status: 400, json: { error: { message: `response_format ${req.response_format.type} is not supported`, type: "invalid_request_error" } } };
        }
        const parts: Part[] = req.messages.flatMap((m) => (typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content));
        const text = parts.filter((p) => p.type === "text").map((p) => p.text ?? "").join("\n");
        const imageParts = parts.filter((p) => p.type === "image_url");
        if (imageParts.length > 0) {
          const seen = [];
          for (const p of imageParts) {
            const m = /^data:image\/(?:png|jpe?g);base64,(.*)$/s.exec(p.image_url?.url ?? "");
            if (!m) return { status: 400, json: { error: { message: "invalid image url" } } };
            const { data, info } = await sharp(Buffer.from(m[1]!, "base64")).raw().toBuffer({ resolveWithObject: true });
            let red = 0;
            for (let i = 0; i < data.length; i += info.channels) if (data[i]! > 200 && data[i + 1]! < 60 && data[i + 2]! < 60) red++;
            seen.push({ width: info.width, height: info.height, redPixels: red });
          }
          images.push(seen);
          const content = seen.length === 1
            ? `A scene of ${seen[0]!.width} by ${seen[0]!.height} pixels.`
            : `An outlined region, seen in ${seen.length} images of ${seen.map((s) => `${s.width}x${s.height}`).join(" and ")}.`;
          return { json: completion(model, content, "", options.noUsage) };
        }
        if (options.answer) {
          const a = await options.answer(req);
          return typeof a === "string" ? { json: completion(model, a, "", options.noUsage) } : { status: a.status, json: a.body };
        }
        const exact = contents.shift();
        if (exact !== undefined) return { json: completion(model, exact, "", options.noUsage) };
        const style = styles.shift() ?? options.style ?? "plain";
        const { ids, explanation } = choose(text);
        return { json: styled(model, style, ids, explanation, options.noUsage) };
      },
      "POST /v1/embeddings": (body) => {
        const req = body as { model: string; input: string | string[] };
        const inputs = Array.isArray(req.input) ? req.input : [req.input];
        return {
          json: {
            object: "list",
            model: req.model,
            data: inputs.map((t, index) => ({ object: "embedding", index, embedding: bagOfWords(t) })),
            usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 },
          },
        };
      },
    },
    options,
  );
  await server.start();
  return { server, images, requests, url: `${server.url}/v1`, close: () => server.stop() };
}

export type OpenAiServer = Awaited<ReturnType<typeof startOpenAiServer>>;

/** The test "model": masks whose description shares a word with the question. */
function choose(prompt: string): { ids: number[]; explanation: string } {
  const q = /^(?:Question|Description to find): (.*)$/m.exec(prompt)?.[1] ?? "";
  const qWords = new Set(words(q));
  const ids: number[] = [];
  for (const m of prompt.matchAll(/^\[Mask (\d+)\]: (.*)$/gm)) {
    if (words(m[2]!).some((w) => qWords.has(w))) ids.push(Number(m[1]));
  }
  return { ids, explanation: ids.length ? `Masks ${ids.join(", ")} mention what the question asks about.` : "No region matches." };
}

function completion(model: string, content: string | null, reasoning: string, noUsage?: boolean, extra: Record<string, unknown> = {}) {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content, ...(reasoning && { reasoning_content: reasoning }), ...extra }, finish_reason: "stop" }],
    ...(!noUsage && { usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } }),
  };
}

function styled(model: string, style: ReplyStyle, ids: number[], explanation: string, noUsage?: boolean) {
  const json = JSON.stringify({ mask_ids: ids, explanation });
  switch (style) {
    case "plain":
      return completion(model, json, "", noUsage);
    case "reasoning_content":
      return completion(model, json, "The user asks about {\"mask_ids\": [999]} things; let me think.", noUsage);
    case "reasoning": {
      const c = completion(model, json, "", noUsage);
      (c.choices[0]!.message as Record<string, unknown>).reasoning = "Thinking about [Mask 999] first.";
      return c;
    }
    case "think":
      return completion(model, `<think>Maybe {"mask_ids": [999], "explanation": "no"}?</think>\n${json}`, "", noUsage);
    case "think-close":
      return completion(model, `Perhaps {"mask_ids": [998]} would do.</think>\n\n${json}`, "", noUsage);
    case "fenced":
      return completion(model, "Here is the answer:\n```json\n" + JSON.stringify({ mask_ids: ids, explanation }, null, 2) + "\n```", "", noUsage);
    case "prose":
      return completion(model, `After looking at the regions, my answer is ${json} — I hope this helps.`, "", noUsage);
    case "string-ids":
      return completion(model, JSON.stringify({ mask_ids: ids.map(String), explanation }), "", noUsage);
    case "truncated": {
      const c = completion(model, json.slice(0, json.indexOf('"explanation"') + 20), "", noUsage);
      c.choices[0]!.finish_reason = "length";
      return c;
    }
  }
}
