// The DAM describer against a server that speaks dam_server.py's protocol and checks what a real one needs.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createBackend } from "../src/stack/registry.js";
import { createStack } from "../src/stack/stack.js";
import { loadImage } from "../src/image/index.js";
import { area, decode, encode, toBbox } from "../src/masks/index.js";
import { RegionBodyEncoder } from "../src/describers/dam/body-encoder.js";
import { HttpClient } from "../src/net/http.js";

import type { Region } from "../src/pipeline/types.js";
import { startDamServer } from "./helpers/dam-server.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { samples } from "./helpers/cli.js";
import type { FaultServer } from "./helpers/fault-server.js";
import { conformance, squaresScene } from "./helpers/conformance.js";

const name = samples.names[0]!;
const encodedOriginal = RegionBodyEncoder.prototype.encode;
const requestOriginal = HttpClient.prototype.request;
const stops: FaultServer[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s.stop()));
});
async function dam(options: Parameters<typeof startDamServer>[0] = {}) {
  const d = await startDamServer(options);
  stops.push(d.server);
  return d;
}
const fast = { backoffMs: 1, maxDelayMs: 20, timeoutMs: 5000 };

let loaded: { image: Awaited<ReturnType<typeof loadImage>>; regions: Region[] } | undefined;
beforeAll(async () => {
  const image = await loadImage(samples.image(name));
  const seg = await createBackend("segmenter", `masks:${samples.masks(name)}`);
  loaded = { image, regions: await seg.segment(image) };
});
async function sample(count = 6) {
  return { image: loaded!.image, regions: loaded!.regions.slice(0, count) };
}

describe("dam describer", () => {
  it("sends each region as an RGBA PNG whose alpha is exactly the mask, with DAM's prompt and model name", async () => {
    const { server, received, url } = await dam();
    const { image, regions } = await sample(5);
    const describer = await createBackend("describer", `dam:${url}`, { concurrency: 3, ...fast });
    const progress: number[] = [];
    const texts = await describer.describe(image, regions, { onProgress: (d) => progress.push(d) });
    expect(texts).toHaveLength(5);
    expect(server.count("/chat/completions")).toBe(5);
    const body = server.log[0]!.body as { model: string; messages: { content: { type: string; text?: string }[] }[] };
    expect(body.model).toBe("describe_anything_model");
    expect(body.messages[0]!.content.find((p) => p.type === "text")!.text).toBe("Describe the masked region in detail.");
    for (const [i, region] of regions.entries()) {
      // Descriptions come back aligned with the regions, whatever order the server answered in.
      const expected = decode(region.rle).data;
      expect(texts[i]).toContain(`A region of ${region.area} pixels`);
      const got = received.find((r) => r.area === region.area && r.mask.every((v, k) => v === expected[k]));
      expect(got, `mask of region ${region.id} arrived intact`).toBeDefined();
      expect([got!.width, got!.height]).toEqual([image.width, image.height]);
    }
    expect(progress.at(-1)).toBe(5);
    // Same RGB as the image under the mask: the server's mean colour matches ours.
    const r0 = regions[0]!;
    const m0 = decode(r0.rle).data;
    const sum = [0, 0, 0];
    for (let k = 0; k < m0.length; k++) if (m0[k]) for (let c = 0; c < 3; c++) sum[c] += image.data[k * 3 + c]!;
    expect(texts[0]).toContain(`rgb(${sum.map((s) => Math.round(s / r0.area)).join(", ")})`);
  });

  it("makes bodies byte for byte as regionRequestBody does (the shared blocks compressed on libuv's threads), and the masks arrive intact", async () => {
    const { regionRequestBody } = await import("../src/describers/dam/region-body.js");
    const { prepareRegionPng } = await import("../src/describers/dam/region-png.js");
    const { image, regions } = await sample(4);
    const encoder = await RegionBodyEncoder.open(image, 1);
    const base = prepareRegionPng(image.data, image.width, image.height, 1);
    const bodies = regions.map((r) => encoder.body(encoder.encode(r.rle), "[\"", "\"]"));
    bodies.forEach((b, i) => expect(Buffer.concat(b).equals(Buffer.from(regionRequestBody(base, regions[i]!.rle, "[\"", "\"]"))), `region ${i}`).toBe(true));
    encoder.close();
    expect(() => encoder.encode(regions[0]!.rle)).toThrow(/closed/);
    const { server, received, url } = await dam();
    const describer = await createBackend("describer", `dam:${url}`, { concurrency: 2, ...fast });
    const texts = await describer.describe(image, regions);
    expect(server.count("/chat/completions")).toBe(4);
    for (const [i, region] of regions.entries()) {
      const expected = decode(region.rle).data;
      expect(texts[i]).toContain(`A region of ${region.area} pixels`);
      expect(received.some((r) => r.area === region.area && Buffer.from(r.mask).equals(Buffer.from(expected)))).toBe(true);
    }
  });

  it("encodes the next bodies while requests are in flight, and none while a body is being sent", async () => {
    // The first body is made when it is to be sent; once a body has been handed over (onSent), the one after
    // it is made, never between an answer and the next body's sending.
    const { server, url } = await dam({ concurrency: 1 });
    const { image, regions } = await sample(6);
    const events: string[] = [];
    let encodes = 0;
    let sends = 0;
    const encoded = vi.spyOn(RegionBodyEncoder.prototype, "encode").mockImplementation(function (this: RegionBodyEncoder, ...args) {
      events.push(`encode ${encodes++}`);
      return encodedOriginal.apply(this, args);
    });
    const request = vi.spyOn(HttpClient.prototype, "request").mockImplementation(function (this: HttpClient, method, path, body, signal, hooks) {
      const onSent = () => {
        events.push(`sent ${sends++}`);
        hooks?.onSent?.();
      };
      return requestOriginal.call(this, method, path, body, signal, { onSent });
    });
    try {
      const describer = await createBackend("describer", `dam:${url}`, { ...fast, concurrency: 1 });
      await describer.describe(image, regions);
    } finally {
      encoded.mockRestore();
      request.mockRestore();
    }
    expect(server.count()).toBe(6);
    expect(events).toEqual(["encode 0", "sent 0", "encode 1", "sent 1", "encode 2", "sent 2", "encode 3", "sent 3", "encode 4", "sent 4", "encode 5", "sent 5"]);
  });

  it("writes the first bodies one at a time: the next of them starts once the one before has been handed over", async () => {
    const { server, url } = await dam({ concurrency: 4 });
    const { image, regions } = await sample(6);
    const events: string[] = [];
    const request = vi.spyOn(HttpClient.prototype, "request").mockImplementation(function (this: HttpClient, method, path, body, signal, hooks) {
      events.push("request");
      return requestOriginal.call(this, method, path, body, signal, {
        ...hooks,
        onSent: () => {
          events.push("sent");
          hooks?.onSent?.();
        },
      });
    });
    try {
      const describer = await createBackend("describer", `dam:${url}`, { ...fast, concurrency: 4 });
      await describer.describe(image, regions);
    } finally {
      request.mockRestore();
    }
    expect(server.count()).toBe(6);
    expect(events.slice(0, 8)).toEqual(Array.from({ length: 4 }, () => ["request", "sent"]).flat());
    expect(events.filter((e) => e === "sent").length).toBe(6);
  });

  it("never sends an empty mask", async () => {
    const { server, url } = await dam();
    const { image, regions } = await sample(2);
    const empty: Region = { ...regions[0]!, id: 99, area: 0, rle: { ...regions[0]!.rle, counts: Uint32Array.of(image.width * image.height) } };
    const describer = await createBackend("describer", `dam:${url}`, fast);
    const texts = await describer.describe(image, [regions[0]!, empty, regions[1]!]);
    expect(texts[1]).toBe("");
    expect(server.count()).toBe(2);
  });

  it("surfaces DAM's HTTP 500 {error} after the retries, and recovers from transient faults", async () => {
    const { server, url } = await dam();
    const { image, regions } = await sample(1);
    const describer = await createBackend("describer", `dam:${url}`, { ...fast, retries: 1 });
    server.faults.push({ kind: "status", status: 500, body: { error: "CUDA out of memory" } }, { kind: "status", status: 500, body: { error: "CUDA out of memory" } });
    await expect(describer.describe(image, regions)).rejects.toThrow(/describer dam:.*failed after 2 attempts: HTTP 500: CUDA out of memory/);
    server.faults.push({ kind: "reset" }, { kind: "malformed" });
    const again = await createBackend("describer", `dam:${url}`, { ...fast, retries: 2 });
    expect((await again.describe(image, regions))[0]).toMatch(/^A region of/);
  });

  it("gives the image's rows back when a describe ends, done or failed, and the next image's bodies are whole", async () => {
    const { PaethRows } = await import("../src/describers/dam/paeth-rows.js");
    const released = vi.spyOn(PaethRows.prototype, "release");
    try {
      const { server, received, url } = await dam();
      const { image, regions } = await sample(3);
      const describer = await createBackend("describer", `dam:${url}`, { ...fast, retries: 0, concurrency: 2 });
      server.faults.push({ kind: "status", status: 500, body: { error: "CUDA out of memory" } });
      await expect(describer.describe(image, regions)).rejects.toThrow(/HTTP 500: CUDA out of memory/);
      expect(released).toHaveBeenCalledTimes(1);
      // a smaller image next: its rows go in the memory the first one gave back
      const small = { width: 40, height: 30, data: image.data.slice(0, 40 * 30 * 3) };
      const data = new Uint8Array(40 * 30);
      for (let y = 5; y < 20; y++) for (let x = 8; x < 30; x++) data[y * 40 + x] = 1;
      const rle = encode({ width: 40, height: 30, data });
      const texts = await describer.describe(small, [{ id: 0, rle, bbox: toBbox(rle), area: area(rle) }]);
      expect(texts[0]).toMatch(/^A region of 330 pixels/);
      expect(released).toHaveBeenCalledTimes(2);
      const last = received.at(-1)!;
      expect([last.width, last.height, last.area]).toEqual([40, 30, 330]);
      expect(Buffer.from(last.mask).equals(Buffer.from(data))).toBe(true);
      const sum = [0, 0, 0];
      for (let k = 0; k < data.length; k++) if (data[k]) for (let c = 0; c < 3; c++) sum[c] += small.data[k * 3 + c]!;
      expect(texts[0]).toContain(`rgb(${sum.map((v) => Math.round(v / 330)).join(", ")})`);
    } finally {
      released.mockRestore();
    }
  });

  it("reports the server's model check as the error", async () => {
    const { url } = await dam();
    const { image, regions } = await sample(1);
    const describer = await createBackend("describer", `dam:${url}`, { ...fast, retries: 0, model: "DAM-8B" });
    await expect(describer.describe(image, regions)).rejects.toThrow(/configured to use the model DAM-3B, but the request model is DAM-8B/);
  });

  it("spreads requests over replicas, each serving one at a time", async () => {
    // Each request takes much longer than encoding a region, so both replicas are always asked.
    const a = await dam({ concurrency: 1, delayMs: 150 });
    const b = await dam({ concurrency: 1, delayMs: 150 });
    const { image, regions } = await sample(8);
    const describer = await createBackend("describer", `dam:${a.url},${b.url}`, { ...fast, concurrency: 1 });
    await describer.describe(image, regions);
    expect(a.server.count()).toBe(4);
    expect(b.server.count()).toBe(4);
    expect(a.server.maxActive).toBe(1);
  });

  it("a DAM stack is captioned by the captioner configured like any backend (its key and headers reach the server); fingerprints name model, URL and prompt, never the key", async () => {
    const { url } = await dam();
    const vision = await startOpenAiServer();
    stops.push(vision.server);
    process.env.GEAR_SEG_TEST_KEY = "sk-secret-123";
    try {
      const { agent } = await createStack(
        { segmenter: `masks:${samples.masks(name)}`, describer: `dam:${url}`, captioner: `openai-vision:llava@${vision.url}`, reasoner: "none" },
        { backendOptions: { describer: fast, captioner: { ...fast, apiKeyEnv: "GEAR_SEG_TEST_KEY", headers: { "x-team": "vision" } } } },
      );
      const { image, regions } = await sample(1);
      expect(await agent.captioner!.caption(image, regions)).toBe("A scene of 1024 by 768 pixels."); // sent at most 1024 px on the long side
      const sent = vision.server.log.at(-1)!.headers;
      expect(sent.authorization).toBe("Bearer sk-secret-123");
      expect(sent["x-team"]).toBe("vision");
      expect(image.width).toBe(2048);
      const describer = agent.describer!;
      expect(describer.fingerprint).toContain(url);
      expect(describer.fingerprint).toContain("describe_anything_model");
      expect(describer.fingerprint).toContain("Describe the masked region in detail.");
      expect(agent.captioner!.fingerprint).toContain("openai-vision");
      expect(`${describer.fingerprint}${agent.captioner!.fingerprint}`).not.toContain("sk-secret-123");
      await agent.close();
      // A DAM stack without a captioner has no caption: DAM does not caption.
      const alone = await createStack({ segmenter: `masks:${samples.masks(name)}`, describer: `dam:${url}`, reasoner: "none" }, { backendOptions: { describer: fast } });
      expect(alone.agent.captioner).toBeNull();
      await alone.close();
    } finally {
      delete process.env.GEAR_SEG_TEST_KEY;
    }
  });
});

describe("conformance", () => {
  let server: Awaited<ReturnType<typeof startDamServer>> | undefined;
  beforeAll(async () => {
    server = await startDamServer();
  });
  afterAll(async () => {
    await server?.server.stop();
  });
  conformance("dam", { kind: "describer", spec: () => `dam:${server!.url}`, options: fast, variant: { prompt: "Describe the region." }, input: squaresScene });
});
