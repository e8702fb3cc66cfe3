// The openai reasoner, the openai-vision describer and the embedding reasoner against an OpenAI-style server
// that answers the way real ones do (reasoning fields, <think>, fences, prose, string ids, cut-off JSON).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { OpenAiVisionDescriber } from "../src/describers/openai-vision/index.js";
import { HttpClient } from "../src/net/http.js";
import { createBackend } from "../src/stack/registry.js";
import { area, encode, toBbox } from "../src/masks/index.js";
import type { ReasonRequest, Region } from "../src/pipeline/types.js";
import type { FaultServer } from "./helpers/fault-server.js";
import { startOpenAiServer, type OpenAiServerOptions, type ReplyStyle } from "./helpers/openai-server.js";
import { conformance, squaresScene } from "./helpers/conformance.js";

const stops: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s.stop()));
});
async function llm(options: OpenAiServerOptions = {}) {
  const s = await startOpenAiServer(options);
  stops.push(s.server);
  return s;
}
const fast = { backoffMs: 1, maxDelayMs: 20, timeoutMs: 5000 };

const request: ReasonRequest = {
  query: "what harnesses the wind to move the boat?",
  mode: "reasoning",
  scene: "A sailboat on calm water.",
  regions: [
    { id: 0, description: "Calm blue water with small ripples.", bbox: [0, 0, 10, 10], area: 100 },
    { id: 3, description: "A large white sail filled with wind.", bbox: [0, 0, 5, 5], area: 25 },
    { id: 7, description: "A smaller white sail at the front of the boat.", bbox: [0, 0, 4, 4], area: 16 },
  ],
  imageWidth: 10,
  imageHeight: 10,
  maxMasks: 6,
};

describe("openai reasoner", () => {
  it("sends GEAR-Seg's prompt and reads every reply style", async () => {
    const styles: ReplyStyle[] = ["plain", "reasoning_content", "reasoning", "think", "think-close", "fenced", "prose", "string-ids"];
    const { server, url } = await llm({ styles });
    const reasoner = await createBackend("reasoner", `openai:deepseek-r1@${url}`, fast);
    for (const style of styles) {
      const answer = await reasoner.reason(request);
      expect(answer.maskIds, style).toEqual([3, 7]);
      expect(answer.explanation, style).toMatch(/Masks 3, 7/);
      expect(answer.warnings ?? [], style).toEqual([]);
      expect(answer.usage).toEqual({ promptTokens: 100, completionTokens: 20, totalTokens: 120 });
    }
    const body = server.log[0]!.body as { messages: { role: string; content: string }[]; response_format: { type: string } };
    expect(body.messages[0]!.content).toMatch(/expert visual reasoning assistant/);
    const prompt = body.messages[1]!.content;
    expect(prompt).toContain("Scene description: A sailboat on calm water.");
    expect(prompt).toContain("Question: what harnesses the wind to move the boat?");
    expect(prompt).toContain("[Mask 3]: A large white sail filled with wind.");
    expect(prompt).toMatch(/at most 6 masks/);
    expect(prompt).toMatch(/"mask_ids": \[\]/);
    expect(prompt).toMatch(/STRICT JSON/);
    expect(body.response_format.type).toBe("json_schema");
  });

  it("referring mode asks for every matching instance", async () => {
    const { server, url } = await llm();
    const reasoner = await createBackend("reasoner", `openai:m@${url}`, fast);
    await reasoner.reason({ ...request, mode: "referring", query: "the white sails" });
    const prompt = (server.log[0]!.body as { messages: { content: string }[] }).messages[1]!.content;
    expect(prompt).toContain("Description to find: the white sails");
    expect(prompt).toMatch(/every mask whose region matches/);
  });

  it("drops repeated ids with warnings, caps at maxMasks, and passes invented ids on for the result to list", async () => {
    const { url } = await llm({ contents: ['{"mask_ids": [3, 42, 3, "7", "sail"], "explanation": "e"}', '{"mask_ids": [0, 3, 7], "explanation": "e"}'] });
    const reasoner = await createBackend("reasoner", `openai:m@${url}`, fast);
    const a = await reasoner.reason(request);
    // 42 names no region: the agent drops it from the mask and lists it in dropped_ids.
    expect(a.maskIds).toEqual([3, 7, 42]);
    expect(a.warnings!.join("\n")).toMatch(/not mask ids: "sail"[\s\S]*repeated ids: 3/);
    const b = await reasoner.reason({ ...request, maxMasks: 2 });
    expect(b.maskIds).toEqual([0, 3]);
    expect(b.warnings!.join()).toMatch(/kept the first 2 of 3/);
  });

  it("retries empty content, recovers a cut-off answer, and finally names the model and URL", async () => {
    const { server, url } = await llm({ contents: ["", "<think>hmm</think>"], style: "plain" });
    const reasoner = await createBackend("reasoner", `openai:m@${url}`, fast);
    expect((await reasoner.reason(request)).maskIds).toEqual([3, 7]);
    expect(server.count()).toBe(3);

    const cut = await llm({ styles: ["truncated"] });
    const a = await (await createBackend("reasoner", `openai:m@${cut.url}`, fast)).reason(request);
    expect(a.maskIds).toEqual([3, 7]);
    expect(a.warnings!.join()).toMatch(/cut off/);

    const mute = await llm({ contents: ["", "", ""] });
    await expect((await createBackend("reasoner", `openai:qwq@${mute.url}`, { ...fast, answerRetries: 2 })).reason(request)).rejects.toThrow(
      new RegExp(`reasoner openai:qwq@.*: model qwq at ${mute.url.replace(/\./g, "\\.")}/chat/completions gave no usable answer in 3 attempts: the answer is empty`),
    );
  });

  it("steps down from json_schema to json_object to the prompt alone when the server rejects them", async () => {
    const { server, url } = await llm({ rejectFormats: ["json_schema", "json_object"] });
    const reasoner = await createBackend("reasoner", `openai:llama3@${url}`, fast);
    expect((await reasoner.reason(request)).maskIds).toEqual([3, 7]);
    const formats = server.log.map((r) => (r.body as { response_format?: { type: string } }).response_format?.type ?? "none");
    expect(formats).toEqual(["json_schema", "json_object", "none"]);
    await reasoner.reason(request);
    expect(server.count()).toBe(4); // remembered
  });

  it("retries faults (429 with Retry-After, 500, reset, malformed body) and sends the key from the named variable", async () => {
    const { server, url } = await llm();
    server.faults.push({ kind: "status", status: 429, retryAfter: "0" }, { kind: "status", status: 502 }, { kind: "reset" }, { kind: "malformed" });
    process.env.GEAR_SEG_TEST_LLM_KEY = "sk-test-456";
    const reasoner = await createBackend("reasoner", `openai:m@${url}`, { ...fast, retries: 4, apiKeyEnv: "GEAR_SEG_TEST_LLM_KEY" });
    expect((await reasoner.reason(request)).maskIds).toEqual([3, 7]);
    expect(server.log.at(-1)!.headers.authorization).toBe("Bearer sk-test-456");
    delete process.env.GEAR_SEG_TEST_LLM_KEY;
  });
});

describe("openai-vision describer", () => {
  it("sends the full image and DAM's focal crop, both outlined, and captions the scene", async () => {
    const { server, images, url } = await llm();
    const w = 200;
    const h = 120;
    const data = new Uint8Array(w * h * 3).fill(90);
    const mask = new Uint8Array(w * h);
    for (let y = 50; y < 60; y++) for (let x = 100; x < 110; x++) mask[y * w + x] = 1;
    const rle = encode({ width: w, height: h, data: mask });
    const region: Region = { id: 0, rle, bbox: toBbox(rle), area: area(rle) };
    const describer = await createBackend("describer", `openai-vision:llava:13b@${url}`, fast);
    const [text] = await describer.describe({ width: w, height: h, data }, [region]);
    // Box 10×10 grown to 48×48 about its centre (105, 55): x0 = 81, y0 = 31; crop x from 81 - 48 = 33 to 81 + 96 = 177, y clipped to [0, 120).
    expect(text).toBe("An outlined region, seen in 2 images of 200x120 and 144x120.");
    expect(images[0]!.every((i) => i.redPixels > 20)).toBe(true);
    const body = server.log[0]!.body as { model: string; messages: { content: { type: string; text?: string }[] }[] };
    expect(body.model).toBe("llava:13b");
    expect(body.messages[0]!.content.find((p) => p.type === "text")!.text).toMatch(/Describe only the outlined region[\s\S]*one to three sentences/);
    const captioner = await createBackend("captioner", `openai-vision:llava:13b@${url}`, fast);
    expect(await captioner.caption({ width: w, height: h, data }, [region])).toBe("A scene of 200 by 120 pixels.");
    const captionPrompt = (server.log[1]!.body as { messages: { content: { type: string; text?: string }[] }[] }).messages[0]!.content.at(-1)!.text!;
    expect(captionPrompt).toMatch(/one concise paragraph[\s\S]*relative to each other[\s\S]*do not speculate, and do not count/);
  });

  it("makes the next regions' images while requests are in flight, and none while a body is being sent", async () => {
    const { server, url } = await llm();
    const w = 200;
    const h = 120;
    const data = new Uint8Array(w * h * 3).fill(90);
    const regions: Region[] = Array.from({ length: 5 }, (_, k) => {
      const mask = new Uint8Array(w * h);
      for (let y = 20; y < 40; y++) for (let x = 10 + 35 * k; x < 30 + 35 * k; x++) mask[y * w + x] = 1;
      const rle = encode({ width: w, height: h, data: mask });
      return { id: k, rle, bbox: toBbox(rle), area: area(rle) };
    });
    const events: string[] = [];
    let made = 0;
    let sent = 0;
    type Images = { regionImages: (...args: unknown[]) => Promise<unknown> };
    const proto = OpenAiVisionDescriber.prototype as unknown as Images;
    const regionImages = proto.regionImages;
    const spyImages = vi.spyOn(proto, "regionImages").mockImplementation(function (this: unknown, ...args: unknown[]) {
      events.push(`images ${made++}`);
      return regionImages.apply(this, args);
    });
    const request = HttpClient.prototype.request;
    const spyRequest = vi.spyOn(HttpClient.prototype, "request").mockImplementation(function (this: HttpClient, method, path, body, signal, hooks) {
      const onSent = () => {
        events.push(`sent ${sent++}`);
        hooks?.onSent?.();
      };
      return request.call(this, method, path, body, signal, { onSent });
    });
    try {
      const describer = await createBackend("describer", `openai-vision:llava@${url}`, { ...fast, concurrency: 1 });
      const texts = await describer.describe({ width: w, height: h, data }, regions);
      expect(texts.every((t) => t.startsWith("An outlined region"))).toBe(true);
    } finally {
      spyImages.mockRestore();
      spyRequest.mockRestore();
    }
    expect(server.count()).toBe(5);
    expect(events).toEqual(["images 0", "images 1", "sent 0", "sent 1", "images 2", "sent 2", "images 3", "sent 3", "images 4", "sent 4"]);
  });
});

describe("embedding reasoner", () => {
  it("keeps the regions within the relative threshold of the best cosine similarity, embedding descriptions once", async () => {
    const { server, url } = await llm();
    const reasoner = await createBackend("reasoner", `embedding:nomic-embed-text@${url}`, { ...fast, relativeThreshold: 0.5 });
    const a = await reasoner.reason({ ...request, query: "white sail" });
    expect(a.maskIds.sort()).toEqual([3, 7]);
    expect(a.explanation).toMatch(/mask 3 \(0\.\d{3}\)/);
    const b = await reasoner.reason({ ...request, query: "blue water ripples" });
    expect(b.maskIds).toEqual([0]);
    const inputs = server.log.map((r) => (r.body as { input: string[] }).input.length);
    expect(inputs).toEqual([4, 1]); // the second query re-used the description vectors
  });
});

describe("conformance", () => {
  let server: Awaited<ReturnType<typeof startOpenAiServer>> | undefined;
  beforeAll(async () => {
    server = await startOpenAiServer();
  });
  afterAll(async () => {
    await server?.server.stop();
  });
  const vision = () => `openai-vision:llava@${server!.url}`;
  conformance("openai-vision", { kind: "describer", spec: vision, options: fast, variant: { maxTokens: 64 }, input: squaresScene });
  conformance("openai-vision", { kind: "captioner", spec: vision, options: fast, variant: { maxSide: 512 }, input: squaresScene });
  conformance("openai", { kind: "reasoner", spec: () => `openai:m@${server!.url}`, options: fast, variant: { temperature: 0.7 }, input: squaresScene });
  conformance("embedding", { kind: "reasoner", spec: () => `embedding:e@${server!.url}`, options: fast, variant: { relativeThreshold: 0.5 }, input: squaresScene });
});
