/**
 * `openai:<model>@<base-url>[,<base-url>...]`: deduction by any OpenAI-compatible chat API (DeepSeek, vLLM,
 * Ollama's `/v1`, OpenAI, Gemini's OpenAI endpoint). Base URLs include the version path (`…/v1`); the API key
 * comes from the environment variable named by the `apiKeyEnv` option.
 *
 * JSON is requested through `response_format`: a JSON schema first; a server that rejects it (HTTP 400/422)
 * is asked again with `json_object`, then with the prompt alone, and the reasoner remembers what worked.
 * Empty or unreadable answers are asked again; after the retries the error names the model and the URL.
 */
import type { BackendOptions } from "../../backends.js";
import { addUsage, readChatReply } from "../../net/chat.js";
import { HttpClient, HttpError, parseModelAtUrls, parseUrls } from "../../net/http.js";
import { OptionReader } from "../../net/options.js";
import type { ReasonAnswer, Reasoner, ReasonRequest, StageContext, TokenUsage } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";
import { AnswerParseError, parseAnswer } from "./parse.js";
import { ANSWER_SCHEMA, buildReasonPrompt, SYSTEM_PROMPT } from "./prompt.js";

export type ResponseFormatMode = "auto" | "json_schema" | "json_object" | "none";
const FORMAT_LADDER: Exclude<ResponseFormatMode, "auto">[] = ["json_schema", "json_object", "none"];

export interface OpenAiReasonerOptions {
  model: string;
  urls: string[];
  responseFormat?: ResponseFormatMode;
  temperature?: number;
  maxTokens?: number;
  /** Extra attempts when the answer is empty or not readable (default 2). */
  answerRetries?: number;
  geometry?: boolean;
  http?: ConstructorParameters<typeof HttpClient>[2];
}

export async function createOpenAiReasoner(arg: string, options: BackendOptions, spec: string): Promise<Reasoner> {
  const label = `reasoner ${spec}`;
  const { model, urls } = parseModelAtUrls(arg, label);
  const reader = new OptionReader(options, label);
  const { endpoints, ...http } = reader.http();
  const responseFormat = reader.oneOf("responseFormat", ["auto", "json_schema", "json_object", "none"] as const);
  const temperature = reader.number("temperature", 0, 2);
  const maxTokens = reader.integer("maxTokens", 1);
  const answerRetries = reader.integer("answerRetries", 0);
  const geometry = reader.boolean("geometry");
  reader.rejectUnknown();
  return new OpenAiReasoner(spec, {
    model,
    urls: [...urls, ...endpoints.flatMap((e) => parseUrls(e, label))],
    responseFormat,
    temperature,
    maxTokens,
    answerRetries,
    geometry,
    http,
  });
}

export class OpenAiReasoner implements Reasoner {
  readonly client: HttpClient;
  readonly model: string;
  private format: Exclude<ResponseFormatMode, "auto">;
  private readonly fixedFormat: boolean;
  private readonly temperature: number;
  private readonly maxTokens: number | undefined;
  private readonly answerRetries: number;
  private readonly geometry: boolean;
  /** Latency of the last `reason` call, all attempts included. */
  lastLatencyMs = 0;

  constructor(
    readonly spec: string,
    options: OpenAiReasonerOptions,
  ) {
    this.client = new HttpClient(`reasoner ${spec}`, options.urls, options.http);
    this.model = options.model;
    const mode = options.responseFormat ?? "auto";
    this.format = mode === "auto" ? "json_schema" : mode;
    this.fixedFormat = mode !== "auto";
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens;
    this.answerRetries = options.answerRetries ?? 2;
    this.geometry = options.geometry ?? false;
  }

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
    const started = performance.now();
    const prompt = buildReasonPrompt(request, { geometry: this.geometry });
    let usage: TokenUsage | undefined;
    let lastProblem = "";
    let url = this.client.urls[0]!;
    let answeredBy: string | undefined;
    for (let attempt = 0; attempt <= this.answerRetries; attempt++) {
      const { json, url: used } = await this.post(prompt, ctx?.signal);
      url = used;
      const reply = readChatReply(json, `reasoner ${this.spec} (${used})`);
      usage = addUsage(usage, reply.usage);
      answeredBy = reply.model ?? answeredBy;
      if (!reply.content.trim()) {
        lastProblem = reply.finishReason === "length" ? "the answer is empty (the token limit was reached while thinking)" : "the answer is empty";
        continue;
      }
      try {
        const parsed = parseAnswer(reply.content);
        this.lastLatencyMs = performance.now() - started;
        return this.toAnswer(parsed, request, usage, answeredBy);
      } catch (err) {
        if (!(err instanceof AnswerParseError)) throw err;
        lastProblem = err.message;
      }
    }
    this.lastLatencyMs = performance.now() - started;
    throw new GearSegError(
      `reasoner ${this.spec}: model ${this.model} at ${url} gave no usable answer in ${this.answerRetries + 1} attempts: ${lastProblem}`,
    );
  }

  private toAnswer(
    parsed: ReturnType<typeof parseAnswer>,
    request: ReasonRequest,
    usage: TokenUsage | undefined,
    model: string | undefined,
  ): ReasonAnswer {
    const known = new Set(request.regions.map((r) => r.id));
    const warnings: string[] = [];
    const maskIds: number[] = [];
    const unknown: number[] = [];
    const duplicates: number[] = [];
    for (const id of parsed.ids) {
      if (!known.has(id)) unknown.push(id);
      else if (maskIds.includes(id)) duplicates.push(id);
      else maskIds.push(id);
    }
    if (parsed.rejected.length) warnings.push(`dropped entries that are not mask ids: ${parsed.rejected.map((r) => JSON.stringify(r)).join(", ")}`);
    if (duplicates.length) warnings.push(`dropped repeated ids: ${duplicates.join(", ")}`);
    if (maskIds.length > request.maxMasks) {
      warnings.push(`kept the first ${request.maxMasks} of ${maskIds.length} ids (at most ${request.maxMasks} allowed): dropped ${maskIds.slice(request.maxMasks).join(", ")}`);
      maskIds.length = request.maxMasks;
    }
    if (parsed.truncated) warnings.push("the answer was cut off after the id list; the explanation may be incomplete");
    return {
      // Invented ids go on to the agent, which lists them in the result (dropped_ids) and leaves them out of the
      // mask; they do not count against maxMasks.
      maskIds: [...maskIds, ...unknown],
      explanation: parsed.explanation,
      ...(parsed.confidence !== undefined && { confidence: parsed.confidence }),
      ...(usage && { usage }),
      model: model ?? this.model,
      ...(warnings.length && { warnings }),
    };
  }

  /** One chat completion; steps down the response_format ladder when the server rejects a format. */
  private async post(prompt: string, signal?: AbortSignal) {
    for (;;) {
      const body: Record<string, unknown> = {
        model: this.model,
        messages: [
          { role: "system", content: SYSTEM_PROMPT },
          { role: "user", content: prompt },
        ],
        temperature: this.temperature,
        stream: false,
        ...(this.maxTokens !== undefined && { max_tokens: this.maxTokens }),
      };
      if (this.format === "json_schema") body.response_format = { type: "json_schema", json_schema: ANSWER_SCHEMA };
      else if (this.format === "json_object") body.response_format = { type: "json_object" };
      try {
        return await this.client.postJson("/chat/completions", body, signal);
      } catch (err) {
        const rejected = err instanceof HttpError && (err.status === 400 || err.status === 422);
        const next = FORMAT_LADDER[FORMAT_LADDER.indexOf(this.format) + 1];
        if (!rejected || this.fixedFormat || !next) throw err;
        this.format = next;
      }
    }
  }
}
