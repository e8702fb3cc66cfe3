/**
 * A test server that speaks the Describe Anything Model's protocol as NVlabs/describe-anything `dam_server.py`
 * does: `POST /chat/completions` (no /v1), model `describe_anything_model` (or the served model's name), one
 * image per request as a `data:image/(png|jpe?g);base64,` URL that must decode to RGBA (the server asserts the
 * mode), the mask = alpha > 0 (an empty mask fails in DAM's box computation), errors as HTTP 500
 * `{"error": "..."}`, and a reply without `index`, `finish_reason` or `usage`. Instead of a model it describes
 * the masked pixels (area, box, mean colour), so tests can check that the right mask arrived.
 */
import { randomUUID } from "node:crypto";
import sharp from "sharp";
import { FaultServer, type FaultServerOptions } from "./fault-server.js";

export interface ReceivedMask {
  width: number;
  height: number;
  area: number;
  /** [x, y, w, h] of alpha > 0. */
  box: [number, number, number, number];
  /** Row-major 0/1. */
  mask: Uint8Array;
  prompt: string;
}

const DATA_URL = /^data:image\/(png|jpe?g);base64,(.*)$/s;

export function describeMask(m: Omit<ReceivedMask, "prompt" | "mask">, mean: [number, number, number]): string {
  return `A region of ${m.area} pixels at [${m.box.join(", ")}] in a ${m.width}x${m.height} image, mean colour rgb(${mean.join(", ")}).`;
}

export async function startDamServer(options: FaultServerOptions & { modelName?: string } = {}) {
  const received: ReceivedMask[] = [];
  const modelName = options.modelName ?? "DAM-3B";
  const server = new FaultServer(
    {
      "POST /chat/completions": async (body) => {
        const req = body as { model?: string; messages?: { role: string; content: unknown }[]; stream?: boolean };
        if (req.model !== "describe_anything_model" && req.model !== modelName) {
          throw new Error(`The endpoint is configured to use the model ${modelName}, but the request model is ${req.model}`);
        }
        let prompt = "";
        const images: Buffer[] = [];
        for (const message of req.messages ?? []) {
          if (message.role !== "user") continue;
          if (typeof message.content === "string") prompt += message.content;
          else if (Array.isArray(message.content)) {
            for (const part of message.content as { type: string; text?: string; image_url?: { url: string } }[]) {
              if (part.type === "text") prompt += part.text ?? "";
              else if (part.type === "image_url") {
                const m = DATA_URL.exec(part.image_url?.url ?? "");
                if (!m) throw new Error(`Invalid image url: ${(part.image_url?.url ?? "").slice(0, 40)}`);
                images.push(Buffer.from(m[2]!, "base64"));
              } else throw new Error("Unsupported content type");
            }
          }
        }
        if (images.length === 0) throw new Error("No image with mask found in input messages.");
        if (images.length !== 1) throw new Error("Only one image with mask is supported");
        const { data, info } = await sharp(images[0]!).raw().toBuffer({ resolveWithObject: true });
        if (info.channels !== 4) throw new Error(`Image mode is ${info.channels === 3 ? "RGB" : `${info.channels} channels`}, but it should be RGBA`);
        const { width, height } = info;
        const mask = new Uint8Array(width * height);
        let area = 0;
        let x0 = width;
        let y0 = height;
        let x1 = -1;
        let y1 = -1;
        const sum = [0, 0, 0];
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const i = y * width + x;
            if (data[i * 4 + 3]! > 0) {
              mask[i] = 1;
              area++;
              sum[0] += data[i * 4]!;
              sum[1] += data[i * 4 + 1]!;
              sum[2] += data[i * 4 + 2]!;
              if (x < x0) x0 = x;
              if (x > x1) x1 = x;
              if (y < y0) y0 = y;
              if (y > y1) y1 = y;
            }
          }
        }
        // DAM's mask_to_box takes min/max of argwhere: an empty mask raises in numpy.
        if (area === 0) throw new Error("zero-size array to reduction operation minimum which has no identity");
        const box: [number, number, number, number] = [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
        received.push({ width, height, area, box, mask, prompt: prompt.trim() });
        const mean = sum.map((s) => Math.round(s / area)) as [number, number, number];
        return {
          json: {
            id: randomUUID().replace(/-/g, ""),
            object: "chat.completion",
            created: Date.now() / 1000,
            model: req.model,
            choices: [{ message: { role: "assistant", content: describeMask({ width, height, area, box }, mean) } }],
          },
        };
      },
    },
    options,
  );
  await server.start();
  return { server, received, url: server.url };
}
