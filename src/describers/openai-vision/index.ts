/**
 * `openai-vision:<model>@<base-url>[,<base-url>...]`: any OpenAI-compatible chat API with image input (vLLM,
 * Ollama's `/v1`, llama.cpp server, OpenAI, Gemini's OpenAI endpoint). For each region it sends the full image
 * and DAM's focal crop around the region, both with the region outlined, and asks for a DAM-style dense
 * description. As a captioner (`caption()`) it describes the whole scene. Base URLs include the version path
 * (`…/v1`).
 */
import sharp from "../../image/sharp.js";
import type { RgbImage } from "../../image/types.js";
import { decode } from "../../masks/index.js";
import { httpClientOptions, parseModelAtUrls, type HttpClientOptions } from "../../net/http.js";
import { OpenAiClient } from "../../net/openai.js";
import type { BackendFactory, Captioner, Describer, Region, StageContext } from "../../pipeline/types.js";
import { MadeAhead, mapLimit } from "../../util/concurrency.js";
import { GearSegError } from "../../util/errors.js";
import { focalCropBox } from "../../image/focal.js";
import { tightBbox } from "../../masks/bbox.js";
import type { BBox } from "../../masks/types.js";
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

  check(signal?: AbortSignal): Promise<void> {
    return this.client.check(signal);
  }

  async describe(image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]> {
    let done = 0;
    ctx?.onProgress?.(0, regions.length);
    // The full view is the image at most maxSide wide, resized once; each region is outlined on a copy of it.
    const view = await this.fullView(image);
    // A region's two JPEGs are made ahead of its request (MadeAhead): made in its request's turn, the encoding
    // was the gap between one request and the next.
    const inFlight = this.client.inFlight;
    const images = new MadeAhead(regions.length, inFlight, (i) => {
      const region = regions[i]!;
      const box = tightBbox(region.rle);
      return box ? this.regionImages(image, view, region, box).then(({ full, crop }) => [full, crop]) : null;
    });
    return mapLimit(regions, inFlight, async (region, i) => {
      ctx?.signal?.throwIfAborted();
      const pair = images.take(i);
      let text = "";
      const onSent = () => images.sent(i);
      if (pair) text = await this.ask(await pair, REGION_PROMPT, `region ${region.id}`, ctx?.signal, onSent);
      else onSent();
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

  /** The image as sent in full: at most maxSide on its long side (the same resize sharp did per region before). */
  private async fullView(image: RgbImage): Promise<RgbImage> {
    const { width, height } = image;
    if (Math.max(width, height) <= this.maxSide) return image;
    const { data, info } = await sharp(image.data, { raw: { width, height, channels: 3 } })
      .resize({ width: this.maxSide, height: this.maxSide, fit: "inside" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  }

  /**
   * The full view and the focal crop, both with the region outlined, as JPEG data URLs. Only what is sent is
   * touched: the outline is drawn on a copy of the resized full view, and on a copy of the crop's own pixels
   * at full resolution (then resized like the view when larger than maxSide).
   */
  private async regionImages(image: RgbImage, view: RgbImage, region: Region, box: [number, number, number, number]) {
    const mask = decode(region.rle).data;
    const full = await this.jpeg(outlineInView(image, view, mask, box), view.width, view.height);
    const [left, top, width, height] = focalCropBox(box, image.width, image.height);
    const crop = await this.jpeg(outlineInCrop(image, mask, box, left, top, width, height), width, height);
    return { full, crop };
  }

  private async jpeg(rgb: Uint8Array, width: number, height: number) {
    let pipeline = sharp(rgb, { raw: { width, height, channels: 3 } });
    if (Math.max(width, height) > this.maxSide) pipeline = pipeline.resize({ width: this.maxSide, height: this.maxSide, fit: "inside" });
    const buf = await pipeline.jpeg({ quality: 90 }).toBuffer();
    return `data:image/jpeg;base64,${buf.toString("base64")}`;
  }

  private async ask(images: string[], prompt: string, what: string, signal?: AbortSignal, onSent?: () => void): Promise<string> {
    const content = [...images.map((url) => ({ type: "image_url" as const, image_url: { url } })), { type: "text" as const, text: prompt }];
    // An empty answer is a failed generation: ask once more before giving up.
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = await this.client.chat({ messages: [{ role: "user", content }], maxTokens: this.maxTokens, temperature: this.temperature, signal, onSent });
      if (reply.text) return reply.text;
    }
    throw new GearSegError(`describer ${this.spec}: model ${this.model} returned no text for ${what} twice`);
  }
}

/** Outline thickness for an image of this size: a few pixels, more on larger images so the line survives resizing. */
function outlineThickness(width: number, height: number): number {
  return Math.max(1, Math.round(Math.max(width, height) / 400));
}

/** Paints the square of half-side t around (x, y), clipped, in the outline colour. */
function dot(out: Uint8Array, w: number, h: number, x: number, y: number, t: number): void {
  for (let yy = Math.max(0, y - t); yy <= Math.min(h - 1, y + t); yy++) {
    for (let xx = Math.max(0, x - t); xx <= Math.min(w - 1, x + t); xx++) {
      const k = (yy * w + xx) * 3;
      out[k] = OUTLINE[0];
      out[k + 1] = OUTLINE[1];
      out[k + 2] = OUTLINE[2];
    }
  }
}

/** True when mask pixel (x, y) is inside and on the boundary (the image edge or a 4-neighbour outside). */
function onBoundary(mask: Uint8Array, w: number, h: number, x: number, y: number): boolean {
  const i = y * w + x;
  return mask[i] !== 0 && (x === 0 || y === 0 || x === w - 1 || y === h - 1 || !mask[i - 1] || !mask[i + 1] || !mask[i - w] || !mask[i + w]);
}

/**
 * The focal crop [left, top, width, height] of the image at full resolution with the region's boundary drawn
 * in red, as the whole image would have it (the thickness follows the whole image's size).
 */
export function outlineInCrop(image: RgbImage, mask: Uint8Array, box: BBox, left: number, top: number, width: number, height: number): Uint8Array {
  const { width: W, height: H, data } = image;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) out.set(data.subarray(((top + y) * W + left) * 3, ((top + y) * W + left + width) * 3), y * width * 3);
  const t = outlineThickness(W, H);
  // boundary pixels lie in the mask's box; those within t of the crop can paint into it
  const [bx, by, bw, bh] = box;
  for (let Y = Math.max(by, top - t); Y < Math.min(by + bh, top + height + t); Y++) {
    for (let X = Math.max(bx, left - t); X < Math.min(bx + bw, left + width + t); X++) {
      if (onBoundary(mask, W, H, X, Y)) dot(out, width, height, X - left, Y - top, t);
    }
  }
  return out;
}

/**
 * A copy of the full view (the image resized to `view`'s size, or the image itself) with the region's boundary
 * drawn in red: the mask is sampled at the view's pixel centres (nearest), its boundary thickened as the
 * full-resolution outline would appear after resizing.
 */
export function outlineInView(image: RgbImage, view: RgbImage, mask: Uint8Array, box: BBox): Uint8Array {
  const { width: W, height: H } = image;
  const { width: w, height: h } = view;
  const out = view.data.slice();
  // the view pixels whose centres fall in the mask's box (one more each side for the boundary test)
  const x0 = Math.max(0, Math.floor((box[0] * w) / W) - 1);
  const x1 = Math.min(w, Math.ceil(((box[0] + box[2]) * w) / W) + 1);
  const y0 = Math.max(0, Math.floor((box[1] * h) / H) - 1);
  const y1 = Math.min(h, Math.ceil(((box[1] + box[3]) * h) / H) + 1);
  let small = mask;
  if (w !== W || h !== H) {
    small = new Uint8Array(w * h);
    const colOf = new Int32Array(w);
    for (let x = x0; x < x1; x++) colOf[x] = Math.min(W - 1, Math.floor(((x + 0.5) * W) / w));
    for (let y = y0; y < y1; y++) {
      const row = Math.min(H - 1, Math.floor(((y + 0.5) * H) / h)) * W;
      for (let x = x0; x < x1; x++) small[y * w + x] = mask[row + colOf[x]!]!;
    }
  }
  const t = Math.max(1, Math.round((outlineThickness(W, H) * w) / W));
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (onBoundary(small, w, h, x, y)) dot(out, w, h, x, y, t);
  return out;
}
