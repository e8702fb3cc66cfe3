// The HTTP API over real HTTP on 127.0.0.1 (the library's startServer, the same agent and stage cache as the
// CLI): upload + ask on a recorded GEAR-Seg sample reproduce the reference union byte for byte; corrected
// answers and their files; the errors (bad JSON, unknown fields and ids, limits, non-images), the token and
// Host checks, cancellation when the client disconnects, and 429 + Retry-After from a full queue.
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { createConfiguredStack } from "../src/stack/configured.js";
import { decode, rleFromString } from "../src/masks/index.js";
import { StageEvents, startServer, type RunningServer } from "../src/server/index.js";
import * as S from "../src/server/schemas.js";
import { photos, samples } from "./helpers/cli.js";
import { startHeldServer, type HeldServer } from "./helpers/held-server.js";
import { fetch } from "./server-fixtures.js";

const NAME = "4537339_3d8e488294_o";
const specs = {
  segmenter: `masks:${samples.masks(NAME)}`,
  describer: `recorded:${samples.descriptions(NAME)}`,
  reasoner: `recorded:${samples.answer(NAME)}`,
};

interface Served {
  server: RunningServer;
  stop(): Promise<void>;
}

async function serve(stackSpecs: typeof specs, options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<Served> {
  const events = new StageEvents();
  const stack = await createConfiguredStack({ specs: stackSpecs, onStage: events.onStage });
  const server = await startServer({ agent: stack.agent, stageEvents: events, port: 0, ...options });
  return {
    server,
    stop: async () => {
      await server.close();
      await stack.close();
    },
  };
}

async function upload(url: string, bytes: Uint8Array, init: { type?: string; name?: string; token?: string } = {}) {
  return fetch(`${url}/api/images${init.name ? `?name=${encodeURIComponent(init.name)}` : ""}`, {
    method: "POST",
    headers: { "Content-Type": init.type ?? "image/jpeg", ...(init.token && { Authorization: `Bearer ${init.token}` }) },
    body: bytes,
  });
}

/** Reads the SSE stream of an image until it is ready or failed; returns every status event. */
async function events(url: string, id: string): Promise<{ state: string; progress: unknown }[]> {
  const res = await fetch(`${url}/api/images/${id}/events`);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event: status"))
    .map((block) => JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))!.slice(6)));
}

const postJson = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body), signal });

describe("a recorded GEAR-Seg sample over HTTP", () => {
  let s: Served;
  let url: string;
  let bytes: Buffer;
  let id: string;
  const answer = async () => JSON.parse(await readFile(samples.answer(NAME), "utf8"));

  beforeAll(async () => {
    s = await serve(specs);
    url = s.server.url;
    bytes = await readFile(samples.image(NAME));
  });
  afterAll(() => s.stop());

  it("uploads, streams progress until ready, and answers with the reference union byte for byte", async () => {
    const res = await upload(url, bytes, { name: `${NAME}.jpg` });
    expect(res.status).toBe(201);
    const created = S.ImageStatus.parse(await res.json());
    expect(created).toMatchObject({ width: 1600, height: 1200, name: `${NAME}.jpg` });
    expect(res.headers.get("location")).toBe(`/api/images/${created.id}`);
    id = created.id;

    const seen = await events(url, id);
    expect(seen.at(-1)!.state).toBe("ready");
    expect(seen.some((e) => e.state === "segmenting" || e.state === "describing" || e.state === "queued")).toBe(true);

    const ref = await answer();
    const asked = await postJson(`${url}/api/images/${id}/ask`, { query: ref.text[0] });
    expect(asked.status).toBe(200);
    const result = S.Answer.parse(await asked.json());
    expect(result.mask.counts).toBe(ref.shapes[0].counts);
    expect(result.mask_ids).toEqual(ref.answer_mask_id.map(Number));
    expect(result.explanation).toBe(ref.explanation);
    expect(result.regions).toHaveLength((await readdir(samples.masks(NAME))).length);

    // The answer's files: mask.png decodes to the same union; result.json is result.json; overlay is a PNG.
    const png = await fetch(`${url}/api/images/${id}/answers/${result.answer_id}/mask.png`);
    expect(png.headers.get("content-type")).toBe("image/png");
    const raw = await sharp(Buffer.from(await png.arrayBuffer())).extractChannel(0).raw().toBuffer();
    const union = decode(rleFromString(ref.shapes[0].counts, 1200, 1600));
    expect(Buffer.from(raw.map((v) => (v ? 1 : 0))).equals(Buffer.from(union.data))).toBe(true);
    const file = await (await fetch(`${url}/api/images/${id}/answers/${result.answer_id}/result.json`)).json();
    expect(file.answer_id).toBeUndefined();
    expect(file.mask.counts).toBe(ref.shapes[0].counts);
    const overlay = await fetch(`${url}/api/images/${id}/answers/${result.answer_id}/overlay.png`);
    expect((await sharp(Buffer.from(await overlay.arrayBuffer())).metadata()).width).toBe(1600);
  });

  it("serves the regions with descriptions and the scene caption", async () => {
    const regions = S.Regions.parse(await (await fetch(`${url}/api/images/${id}/regions`)).json());
    const descriptions = JSON.parse(await readFile(samples.descriptions(NAME), "utf8"));
    expect(regions.scene).toBe(descriptions.whole.des);
    for (const r of regions.regions) expect(r.description).toBe(descriptions[String(r.id)].des);
    expect(regions.added_regions).toEqual([]);
  });

  it("reuses the work for the same bytes (200, same id), also as a multipart upload", async () => {
    const again = await upload(url, bytes);
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(id);
    // A name in any script comes back in the image's Content-Disposition (RFC 6266 filename*).
    const image = await fetch(`${url}/api/images/${id}/image`);
    expect(image.headers.get("content-disposition")).toBe(`inline; filename="${NAME}.jpg"; filename*=UTF-8''${NAME}.jpg`);
    expect(Buffer.from(await image.arrayBuffer()).equals(bytes)).toBe(true);
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#ff0000" } }).png().toBuffer();
    const named = await (await upload(url, tiny, { type: "image/png", name: '草莓 "ripe".png' })).json();
    const other = await fetch(`${url}/api/images/${named.id}/image`);
    expect(other.headers.get("content-disposition")).toBe(`inline; filename="__ _ripe_.png"; filename*=UTF-8''${encodeURIComponent('草莓 "ripe".png')}`);
    const form = new FormData();
    form.append("image", new Blob([bytes], { type: "image/jpeg" }), "copy.jpg");
    const multipart = await fetch(`${url}/api/images`, { method: "POST", body: form });
    expect(multipart.status).toBe(200);
    expect((await multipart.json()).state).toBe("ready");
  });

  it("builds a corrected answer from chosen regions, with LabelMe and COCO files", async () => {
    const res = await postJson(`${url}/api/images/${id}/answers`, { query: "the bridge, corrected", mask_ids: [3, 8, 8], regions: false });
    expect(res.status).toBe(201);
    const corrected = S.Answer.parse(await res.json());
    expect(corrected.corrected).toBe(true);
    expect(corrected.mask_ids).toEqual([3, 8]);
    expect(corrected.regions).toBeUndefined();
    const ref = await answer();
    // The reference chose 3 and 8: the same union.
    expect(ref.answer_mask_id.map(Number).sort()).toEqual([3, 8]);
    expect(corrected.mask.counts).toBe(ref.shapes[0].counts);
    const coco = await (await fetch(`${url}/api/images/${id}/answers/${corrected.answer_id}/coco.json`)).json();
    expect(coco.annotations[0].segmentation.counts).toBe(ref.shapes[0].counts);
    expect(coco.annotations[0].region_ids).toEqual([3, 8]);
    const labelme = await fetch(`${url}/api/images/${id}/answers/${corrected.answer_id}/labelme.json`);
    expect(labelme.headers.get("content-disposition")).toContain(`${NAME}.json`);
    const lm = await labelme.json();
    expect(lm.shapes.length).toBeGreaterThan(0);
    expect(lm.shapes.every((sh: { label: string }) => sh.label === "target")).toBe(true);
    expect(lm).toMatchObject({ imageWidth: 1600, imageHeight: 1200 });

    const unknown = await postJson(`${url}/api/images/${id}/answers`, { query: "q", mask_ids: [3, 9999] });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toContain("9999");
  });

  it("answers bad requests with one-line JSON errors and the right status", async () => {
    const cases: [ReturnType<typeof fetch>, number, RegExp][] = [
      [postJson(`${url}/api/images/${id}/ask`, "{not json"), 400, /not valid JSON/],
      [postJson(`${url}/api/images/${id}/ask`, { querry: "x" }), 400, /query.*Unrecognized key: "querry"|Unrecognized key/],
      [postJson(`${url}/api/images/${id}/ask`, { query: "x", max_masks: 0 }), 400, /max_masks/],
      [postJson(`${url}/api/images/${id}/ask`, { query: "x", mode: "guess" }), 400, /mode/],
      [postJson(`${url}/api/images/${"0".repeat(64)}/ask`, { query: "x" }), 404, /no image 0{64}/],
      [fetch(`${url}/api/images/not-an-id`), 404, /no image not-an-id/],
      [fetch(`${url}/api/images/${id}/answers/999`), 404, /no answer 999/],
      [fetch(`${url}/api/images/${id}/answers/1/secrets.txt`), 404, /no file/],
      [fetch(`${url}/api/nothing`), 404, /no route GET \/api\/nothing/],
      [postJson(`${url}/api/images/${id}/prompt`, { points: [{ x: 1, y: 2, label: 1 }] }), 400, /cannot take point or box prompts/],
      [postJson(`${url}/api/images/${id}/prompt`, {}), 400, /give points, a box, or both/],
      [upload(url, Buffer.from("hello"), { type: "text/plain" }), 415, /upload an image/],
      [upload(url, Buffer.from("hello, not an image"), { type: "application/octet-stream" }), 415, /not an image/],
      [upload(url, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), { type: "image/svg+xml" }), 415, /svg/],
      [upload(url, new Uint8Array(0)), 400, /empty/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      const body = await res.json();
      expect({ status: res.status, body }).toMatchObject({ status, body: { error: expect.stringMatching(message) } });
      expect(Object.keys(body)).toEqual(["error"]);
      expect(body.error).not.toMatch(/\n|    at /);
    }
  });

  it("documents every route in /openapi.json, generated from the schemas", async () => {
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/api/health", "/api/images", "/api/images/{id}", "/api/images/{id}/events", "/api/images/{id}/regions", "/api/images/{id}/ask", "/api/images/{id}/prompt", "/api/images/{id}/answers/{answer}/{file}"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.AskRequest.required).toEqual(["query"]);
    expect(doc.components.schemas.AskRequest.additionalProperties).toBe(false);
    expect(doc.components.schemas.Answer.properties.mask.$ref).toBe("#/components/schemas/CocoRle");
  });
});

describe("limits, token and Host", () => {
  it("refuses uploads over the byte and pixel limits with 413 and a message", async () => {
    const s = await serve(specs, { maxUploadBytes: 100_000, maxPixels: 1_000_000 });
    try {
      const big = await upload(s.server.url, await readFile(samples.image(NAME)));
      expect(big.status).toBe(413);
      expect((await big.json()).error).toMatch(/over the server's limit of 0\.1 MB/);
      const wide = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: "#808080" } }).png({ compressionLevel: 9 }).toBuffer();
      expect(wide.byteLength).toBeLessThan(100_000);
      const res = await upload(s.server.url, wide, { type: "image/png" });
      expect(res.status).toBe(413);
      expect((await res.json()).error).toBe("image is 1200×1000 = 1.2 megapixels, over the server's limit of 1.0");
    } finally {
      await s.stop();
    }
  });

  it("needs the bearer token on every /api request when it has one; refuses other hosts without one", async () => {
    const token = "correct-horse-battery-staple";
    const s = await serve(specs, { token });
    try {
      const u = s.server.url;
      expect((await fetch(`${u}/api/health`)).status).toBe(401);
      const wrong = await fetch(`${u}/api/health`, { headers: { Authorization: "Bearer nope-nope-nope-nope" } });
      expect(wrong.status).toBe(401);
      expect((await wrong.json()).error).toBe("wrong bearer token");
      expect((await upload(u, await readFile(samples.image(NAME)))).status).toBe(401);
      const ok = await fetch(`${u}/api/health`, { headers: { Authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(JSON.stringify(await ok.json())).not.toContain(token);
    } finally {
      await s.stop();
    }
    await expect(serve(specs, { host: "0.0.0.0" })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token/);

    const open = await serve(specs);
    try {
      const { request } = await import("node:http");
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${open.server.url}/api/health`, { headers: { Host: "attacker.example:7860" } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject).end();
      });
      expect(status).toBe(403);
      // No CORS unless configured.
      const res = await fetch(`${open.server.url}/api/health`, { headers: { Origin: "http://elsewhere.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await open.stop();
    }
    const shared = await serve(specs, { token, corsOrigins: ["http://app.example"] });
    try {
      const preflight = await fetch(`${shared.server.url}/api/health`, {
        method: "OPTIONS",
        headers: { Origin: "http://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example");
      const other = await fetch(`${shared.server.url}/api/health`, { headers: { Origin: "http://elsewhere.example", Authorization: `Bearer ${token}` } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await shared.stop();
    }
  });
});

describe("cancellation and back-pressure", () => {
  let held: HeldServer;
  beforeAll(async () => {
    held = await startHeldServer({ chatContent: JSON.stringify({ mask_ids: [0], explanation: "the first region" }) });
  });
  afterAll(() => held.close());

  it("cancels a query whose client disconnects: the model server sees its request abandoned", async () => {
    const s = await serve({ ...specs, reasoner: `openai:held-model@${held.url}/v1` });
    try {
      const u = s.server.url;
      const { id } = await (await upload(u, await readFile(samples.image(NAME)))).json();
      await events(u, id);
      const client = new AbortController();
      const pending = postJson(`${u}/api/images/${id}/ask`, { query: "anything" }, client.signal).catch((e: Error) => e);
      await held.arrived(held.received + 1);
      client.abort();
      expect(await pending).toBeInstanceOf(Error);
      await held.abandonedAtLeast(1);
      const health = await (await fetch(`${u}/api/health`)).json();
      expect(health.queues.ask).toMatchObject({ running: 0, queued: 0 });
    } finally {
      await s.stop();
    }
  });

  it("answers 429 with Retry-After when the preparation queue is full; removing an image cancels its preparation", async () => {
    const s = await serve(
      { segmenter: "classic", describer: `dam:${held.url}`, reasoner: "wordnet" },
      { prepareQueue: { concurrency: 1, maxQueued: 1 } },
    );
    try {
      const u = s.server.url;
      const tiny = (colour: string) => sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).composite([{ input: { create: { width: 30, height: 20, channels: 3, background: "#ffffff" } }, left: 10, top: 10 }]).png().toBuffer();
      const before = held.received;
      const a = await upload(u, await tiny("#ff0000"), { type: "image/png" });
      expect(a.status).toBe(201);
      const aId = (await a.json()).id;
      await held.arrived(before + 1); // A is describing, held by the model server
      const b = await upload(u, await tiny("#00ff00"), { type: "image/png" });
      expect(b.status).toBe(201);
      expect((await b.json()).state).toBe("queued");
      const c = await upload(u, await tiny("#0000ff"), { type: "image/png" });
      expect(c.status).toBe(429);
      expect(Number(c.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await c.json()).error).toMatch(/queue is full/);
      // Removing A cancels its preparation: the model server sees its requests abandoned, and B starts.
      const abandoned = held.abandoned;
      const received = held.received;
      expect((await fetch(`${u}/api/images/${aId}`, { method: "DELETE" })).status).toBe(204);
      await held.abandonedAtLeast(abandoned + 1);
      expect((await fetch(`${u}/api/images/${aId}`)).status).toBe(404);
      await held.arrived(received + 1);
      held.release();
      const { id: bId } = await (await upload(u, await tiny("#00ff00"), { type: "image/png" })).json();
      expect((await events(u, bId)).at(-1)!.state).toBe("ready");
      const health = await (await fetch(`${u}/api/health`)).json();
      expect(health.queues.prepare).toMatchObject({ refused: 1, running: 0, queued: 0 });
    } finally {
      await s.stop();
    }
  });
});

