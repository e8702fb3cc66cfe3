/**
 * `dam:<base-url>[,<base-url>...]`: the Describe Anything Model behind its own OpenAI-compatible server
 * (NVlabs/describe-anything `dam_server.py`). Protocol, as that server reads it:
 * - `POST <base>/chat/completions` (no `/v1`), `model` = `describe_anything_model` (the name that skips the
 *   server's model check);
 * - one user message with one `image_url` part and one `text` part; the image is a `data:image/png;base64,`
 *   URL of an RGBA PNG (the server asserts mode RGBA) whose alpha channel is the region (alpha > 0 = inside);
 *   the text is the prompt (the server strips and re-adds the `<image>` token itself);
 * - the reply is `{"choices": [{"message": {"role", "content"}}]}` without `index`, `finish_reason` or
 *   `usage`; errors are HTTP 500 `{"error": "..."}`.
 * The server's model handles one request at a time, so replicas (several base URLs) are spread least-busy.
 * The whole-scene caption is not something DAM does: the stack's captioner writes it (the reference used
 * Llama 3.2 Vision, i.e. `openai-vision:<model>@<url>`).
 */
import type { RgbImage } from "../../image/types.js";
import { area as rleArea } from "../../masks/index.js";
import { readChatReply } from "../../net/chat.js";
import { DEFAULT_MAX_ANSWER_CHARS } from "../../net/openai.js";
import { HttpClient, httpClientOptions, parseUrls, type HttpClientOptions, type RequestHooks } from "../../net/http.js";
import type { BackendFactory, Describer, Region, StageContext } from "../../pipeline/types.js";
import { mapLimit } from "../../util/concurrency.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import type { DamOptions as DamOptionsInput } from "./options.js";
import { RegionBodyEncoder } from "./body-encoder.js";
import type { RegionText } from "./region-body.js";

export const DAM_MODEL = "describe_anything_model";
/** DAM's own prompt for a detailed region description (its README, examples and server client). */
export const DAM_PROMPT = "Describe the masked region in detail.";
/** Bump when the request changes in a way that changes descriptions: the cache keys on it. */
const PROMPT_VERSION = 1;

export interface DamSettings {
  urls: string[];
  model?: string;
  prompt?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  http?: HttpClientOptions;
  /** A region's own rows in the PNG sent: 1 (default) literals under the image's Huffman codes, else zlib's level (options.ts). */
  pngCompression?: number;
  /** Longest description accepted (default the chat client's, 20 000 characters). */
  maxAnswerChars?: number;
}

export const createDamDescriber: BackendFactory<Describer, DamOptionsInput> = async (arg, options, { spec, label }) => {
  if (!arg.trim()) throw new UsageError(`${label}: give the server's base URL, as dam:http://host:port`);
  const { urls, client } = httpClientOptions(options, label, parseUrls(arg, label));
  const { model, prompt, maxTokens, temperature, topP, pngCompression, maxAnswerChars } = options;
  return new DamDescriber(spec, { urls, model, prompt, maxTokens, temperature, topP, pngCompression, maxAnswerChars, http: client });
};

export class DamDescriber implements Describer {
  readonly fingerprint: string;
  readonly client: HttpClient;
  private readonly model: string;
  private readonly prompt: string;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly topP: number;
  private readonly pngCompression: number;
  private readonly maxAnswerChars: number;

  constructor(
    readonly spec: string,
    options: DamSettings,
  ) {
    this.client = new HttpClient(`describer ${spec}`, options.urls, options.http);
    this.model = options.model ?? DAM_MODEL;
    this.prompt = options.prompt ?? DAM_PROMPT;
    // The server's own defaults (dam_server.py: temperature 0.2, top_p 0.9, 512 new tokens).
    this.maxTokens = options.maxTokens ?? 512;
    this.temperature = options.temperature ?? 0.2;
    this.topP = options.topP ?? 0.9;
    this.pngCompression = options.pngCompression ?? 1;
    this.maxAnswerChars = options.maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS;
    // Replicas serve the same model, so the URL list is sorted: adding one keeps the key only if the set is equal.
    this.fingerprint = [
      "dam",
      `model=${this.model}`,
      `urls=${[...this.client.urls].sort().join(",")}`,
      `prompt=v${PROMPT_VERSION}:${this.prompt}`,
      `max_tokens=${this.maxTokens}`,
      `temperature=${this.temperature}`,
      `top_p=${this.topP}`,
    ].join("|");
  }

  check(signal?: AbortSignal): Promise<void> {
    return this.client.check("/", signal);
  }

  async describe(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]> {
    for (const region of regions) {
      if (region.rle.width !== image.width || region.rle.height !== image.height) {
        throw new GearSegError(`describer ${this.spec}: region ${region.id} is not the image's size`);
      }
    }
    let done = 0;
    ctx?.onProgress?.(0, regions.length);
    // The body of every request is the same JSON around the region's PNG.
    const head = JSON.stringify({
      model: this.model,
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "@@" } }, { type: "text", text: this.prompt }] }],
      max_tokens: this.maxTokens,
      temperature: this.temperature,
      top_p: this.topP,
      stream: false,
    });
    const at = head.indexOf('"@@"');
    const before = `${head.slice(0, at)}"data:image/png;base64,`;
    const after = `"${head.slice(at + 4)}`;
    const inFlight = this.client.pool.concurrency * this.client.urls.length;
    const firstRows = regions.slice(0, inFlight).map((r): [number, number] => [r.bbox[1], r.bbox[1] + r.bbox[3]]);
    const encoder = await RegionBodyEncoder.open(image, this.pngCompression, firstRows);
    // A region's own pieces take a few milliseconds on this thread: the first is made when it is to be sent,
    // and each body sent has one more made (at most inFlight ahead): the next of the first round, which goes
    // at once, and later the one that goes when a request ends, made while the server works. (Making all
    // inFlight of them when the first body was out held the second one back by 20–30 ms.) Never an empty
    // mask: DAM's crop takes the box of the mask's pixels and fails without any.
    const made: (RegionText | null | undefined)[] = new Array(regions.length);
    let madeUpTo = 0;
    // Until the last request ends or one fails: the encoder is then closed, and requests still to come (the
    // first round's, waiting for their turn) make and send nothing.
    let making = true;
    const makeUpTo = (n: number) => {
      if (!making) return;
      for (; madeUpTo < Math.min(n, regions.length); madeUpTo++) {
        const rle = regions[madeUpTo]!.rle;
        made[madeUpTo] = rleArea(rle) > 0 ? encoder.encode(rle) : null;
      }
    };
    // The first bodies go out one at a time: the next is written once the one before is out (or its attempt
    // failed). The server's work starts when it has a whole body, and inFlight bodies written at once all
    // arrived late: at 8 in flight the first whole body reached the stand-in 47 ms after it was made, instead
    // of 0–10 ms. Later requests start as answers come back, apart already, and are never held by a body
    // that a busy server is slow to read.
    let turn: Promise<void> = Promise.resolve();
    try {
      return await mapLimit(regions, inFlight, async (region, i) => {
        ctx?.signal?.throwIfAborted();
        const mine = i < inFlight ? turn : undefined;
        let pass = () => {};
        if (mine) turn = new Promise((resolve) => (pass = resolve));
        let text = "";
        try {
          if (mine) await mine;
          makeUpTo(i + 1);
          const own = making ? made[i] : undefined;
          made[i] = undefined;
          if (own) {
            const onSent = () => {
              pass();
              makeUpTo(Math.min(i + 1 + inFlight, madeUpTo + 1));
            };
            text = await this.describeOne(encoder.body(own, before, after), region, ctx?.signal, { onSent, onNotSent: pass });
          }
        } finally {
          pass();
        }
        ctx?.onProgress?.(++done, regions.length);
        return text;
      });
    } finally {
      making = false;
      encoder.close();
    }
  }

  /** One request; the body is the JSON text with the PNG in it, as UTF-8 bytes in pieces (RegionBodyEncoder.body). */
  private async describeOne(body: readonly Uint8Array[], region: Region, signal: AbortSignal | undefined, hooks: RequestHooks): Promise<string> {
    // An empty description is a failed generation: ask once more before giving up.
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.client.request("POST", "/chat/completions", body, signal, hooks);
      const reply = readChatReply(res.json, `describer ${this.spec} (${res.url})`);
      const text = reply.content.trim();
      if (text.length > this.maxAnswerChars) {
        throw new GearSegError(`describer ${this.spec}: the description of region ${region.id} is ${text.length} characters, more than the limit of ${this.maxAnswerChars} (option maxAnswerChars)`);
      }
      if (text) return text;
    }
    throw new GearSegError(`describer ${this.spec}: the server returned an empty description for region ${region.id} twice`);
  }
}
