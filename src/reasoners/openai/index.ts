/**
 * `openai:<model>@<base-url>[,<base-url>...]`: deduction by any OpenAI-compatible chat API (DeepSeek, vLLM,
 * Ollama's `/v1`, OpenAI, Gemini's OpenAI endpoint). Base URLs include the version path (`…/v1`); the API key
 * comes from the environment variable named by the `apiKeyEnv` option.
 *
 * JSON is requested through `response_format` as the shared client does it (src/net/openai.ts): a JSON schema
 * first, then `json_object`, then the prompt alone, remembering what the server accepts. Empty or unreadable
 * answers are asked again; after the retries the error names the model and the URL.
 */
import { addUsage } from "../../net/chat.js";
import { httpClientOptions, parseModelAtUrls, type HttpClientOptions } from "../../net/http.js";
import { OpenAiClient, type ResponseFormatMode } from "../../net/openai.js";
import type { BackendFactory, ReasonAnswer, Reasoner, ReasonRequest, StageContext, TokenUsage } from "../../pipeline/types.js";
import { GearSegError } from "../../util/errors.js";
import { AnswerParseError, parseAnswer } from "./parse.js";
import type { OpenAiReasonerOptions as Options } from "./options.js";
import { ANSWER_SCHEMA, buildReasonPrompt, promptFingerprint, SYSTEM_PROMPT } from "./prompt.js";


export interface OpenAiReasonerSettings {
  model: string;
  urls: string[];
  responseFormat?: ResponseFormatMode;
  temperature?: number;
  maxTokens?: number;
  /** Extra attempts when the answer is empty or not readable (default 2). */
  answerRetries?: number;
  geometry?: boolean;
  maxAnswerChars?: number;
  http?: HttpClientOptions;
}

export const createOpenAiReasoner: BackendFactory<Reasoner, Options> = async (arg, options, { spec, label }) => {
  const { model, urls: specUrls } = parseModelAtUrls(arg, label);
  const { urls, client } = httpClientOptions(options, label, specUrls);
  const { responseFormat, temperature, maxTokens, answerRetries, geometry, maxAnswerChars } = options;
  return new OpenAiReasoner(spec, { model, urls, responseFormat, temperature, maxTokens, answerRetries, geometry, maxAnswerChars, http: client });
};

export class OpenAiReasoner implements Reasoner {
  /** The model, its servers, the prompt's text and the sampling options: what shapes an answer. */
  readonly fingerprint: string;
  readonly client: OpenAiClient;
  readonly model: string;
  private readonly temperature: number;
  private readonly maxTokens: number | undefined;
  private readonly answerRetries: number;
  private readonly geometry: boolean;
  /** Latency of the last `reason` call, all attempts included. */
  lastLatencyMs = 0;

  constructor(
    readonly spec: string,
    options: OpenAiReasonerSettings,
  ) {
    this.client = new OpenAiClient(`reasoner ${spec}`, options.model, options.urls, options.http, {
      responseFormat: options.responseFormat,
      maxAnswerChars: options.maxAnswerChars,
    });
    this.model = options.model;
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens;
    this.answerRetries = options.answerRetries ?? 2;
    this.geometry = options.geometry ?? false;
    // Replicas serve the same model, so the URL list is sorted (as the describers do).
    this.fingerprint = [
      "openai",
      `model=${this.model}`,
      `urls=${[...this.client.urls].sort().join(",")}`,
      `prompt=${promptFingerprint({ geometry: this.geometry })}`,
      `response_format=${options.responseFormat ?? "auto"}`,
      `temperature=${this.temperature}`,
      `max_tokens=${this.maxTokens ?? "default"}`,
    ].join("|");
  }

  check(signal?: AbortSignal): Promise<void> {
    return this.client.check(signal);
  }

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
    const started = performance.now();
    const prompt = buildReasonPrompt(request, { geometry: this.geometry });
    let usage: TokenUsage | undefined;
    let lastProblem = "";
    let url = this.client.urls[0]!;
    let answeredBy: string | undefined;
    for (let attempt = 0; attempt <= this.answerRetries; attempt++) {
      const reply = await this.client.chat({
        messages: [
          { role: "system", content: SYSTEM_PROMPT },
          { role: "user", content: prompt },
        ],
        temperature: this.temperature,
        maxTokens: this.maxTokens,
        json: { schema: ANSWER_SCHEMA },
        signal: ctx?.signal,
      });
      url = reply.url;
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
}
