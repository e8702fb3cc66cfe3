/**
 * `openai-vision:<model>@<base-url>[,<base-url>...]`: any OpenAI-compatible chat API with image input (vLLM,
 * Ollama's `/v1`, llama.cpp server, OpenAI, Gemini's OpenAI endpoint). For each region it sends the full image
 * and DAM's focal crop around the region, both with the region outlined, and asks for a DAM-style dense
 * description. As a captioner (`caption()`) it describes the whole scene. Base URLs include the version path
 * (`…/v1`).
 */
import sharp from "sharp";
import type { RgbImage } from "../../image/types.js";
import { decode } from "../../masks/index.js";
import { parseModelAtUrls, type HttpClientOptions } from "../../net/http.js";
import { OpenAiClient } from "../../net/openai.js";
import { httpClientOptions } from "../../net/options.js";
import type { BackendFactory, Captioner, Describer, Region, StageContext } from "../../pipeline/types.js";
import { mapLimit } from "../../util/concurrency.js";
import { GearSegError } from "../../util/errors.js";
import { focalCropBox } from "../../image/focal.js";
import { tightBbox } from "../../masks/bbox.js";
import type { OpenAiVisionOptions } from "./options.js";
import { REGION_PROMPT, SCENE_PROMPT, VISION_PROMPT_VERSION } from "./prompts.js";

const OUTLINE: [number, number, number] = [255, 0, 0];

export interface VisionSettings {
  model: string;
  urls: string[];
  maxTokens?: number;
  temperature?: number;
  /** Longest side of the full image sent (default 1024); the crop is sent at up to this size too. */
  maxSide?: number;
  maxAnswerChars?: number;
  http?: HttpClientOptions;
}

/** One factory for both kinds: the same model describes regions and captions the scene. */
export const createOpenAiVision: BackendFactory<OpenAiVisionDescriber, OpenAiVisionOptions> = async (arg, options, { spec, label }) => {
  const { model, urls: specUrls } = parseModelAtUrls(arg, label);
  const { urls, client } = httpClientOptions(options, label, specUrls);
  const { maxTokens, temperature, maxSide, maxAnswerChars } = options;
  return new OpenAiVisionDescriber(spec, { model, urls, maxTokens, temperature, maxSide, maxAnswerChars, http: client });
};

export class OpenAiVisionDescriber implements Describer, Captioner {
  readonly fingerprint: string;
  readonly client: OpenAiClient;
  readonly model: string;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly maxSide: number;

  constructor(
    readonly spec: string,
    options: VisionSettings,
  ) {
    this.client = new OpenAiClient(`describer ${spec}`, options.model, options.urls, options.http, { maxAnswerChars: options.maxAnswerChars });
    this.model = options.model;
    this.maxTokens = options.maxTokens ?? 256;
    this.temperature = options.temperature ?? 0.2;
    this.maxSide = options.maxSide ?? 1024;
    this.fingerprint = [
      "openai-vision",
      `model=${this.model}`,
      `urls=${[...this.client.urls].sort().join(",")}`,
      `prompt=v${VISION_PROMPT_VERSION}`,
      `max_tokens=${this.maxTokens}`,
      `temperature=${this.temperature}`,
      `max_side=${this.maxSide}`,
    ].join("|");
  }

  async describe(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]> {
    let done = 0;
    ctx?.onProgress?.(0, regions.length);
    return mapLimit(regions, this.client.inFlight, async (region) => {
      ctx?.signal?.throwIfAborted();
      const box = tightBbox(region.rle);
      let text = "";
      if (box) {
        const { full, crop } = await this.regionImages(image, region, box);
        text = await this.ask([full, crop], REGION_PROMPT, `region ${region.id}`, ctx?.signal);
      }
      ctx?.onProgress?.(++done, regions.length);
      return text;
    });
  }

  async caption(image: RgbImage, _regions: readonly Region[], ctx?: StageContext): Promise<string> {
    ctx?.onProgress?.(0, 1);
    const full = await this.jpeg(image.data, image.width, image.height);
    const text = await this.ask([full], SCENE_PROMPT, "the scene caption", ctx?.signal);
    ctx?.onProgress?.(1, 1);
    return text;
  }

  /** The full image and the focal crop, both with the region outlined, as JPEG data URLs. */
  private async regionImages(image: RgbImage, region: Region, box: [number, number, number, number]) {
    const marked = outlineRegion(image, region);
    const [left, top, width, height] = focalCropBox(box, image.width, image.height);
    const full = await this.jpeg(marked, image.width, image.height);
    const crop = await this.jpeg(marked, image.width, image.height, { left, top, width, height });
    return { full, crop };
  }

  private async jpeg(rgb: Uint8Array, width: number, height: number, extract?: { left: number; top: number; width: number; height: number }) {
    let pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
    if (extract) pipeline = pipeline.extract(extract);
    const w = extract?.width ?? width;
    const h = extract?.height ?? height;
    if (Math.max(w, h) > this.maxSide) pipeline = pipeline.resize({ width: this.maxSide, height: this.maxSide, fit: "inside" });
    const buf = await pipeline.jpeg({ quality: 90 }).toBuffer();
    return `data:image/jpeg;base64,${buf.toString("base64")}`;
  }

  private async ask(images: string[], prompt: string, what: string, signal?: AbortSignal): Promise<string> {
    const content = [...images.map((url) => ({ type: "image_url" as const, image_url: { url } })), { type: "text" as const, text: prompt }];
    // An empty answer is a failed generation: ask once more before giving up.
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.client.chat({ messages: [{ role: "user", content }], maxTokens: this.maxTokens, temperature: this.temperature, signal });
      if (reply.text) return reply.text;
    }
    throw new GearSegError(`describer ${this.spec}: model ${this.model} returned no text for ${what} twice`);
  }
}

/**
 * A copy of the image with the region's boundary drawn in red, a few pixels thick (thicker on larger images,
 * so the line survives resizing).
 */
export function outlineRegion(image: RgbImage, region: Region): Uint8Array {
  const { width: w, height: h } = image;
  const mask = decode(region.rle).data;
  const out = image.data.slice();
  const t = Math.max(1, Math.round(Math.max(w, h) / 400));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w];
      if (!edge) continue;
      for (let yy = Math.max(0, y - t); yy <= Math.min(h - 1, y + t); yy++) {
        for (let xx = Math.max(0, x - t); xx <= Math.min(w - 1, x + t); xx++) {
          const k = (yy * w + xx) * 3;
          out[k] = OUTLINE[0];
          out[k + 1] = OUTLINE[1];
          out[k + 2] = OUTLINE[2];
        }
      }
    }
  }
  return out;
}
