// Model management against a local HTTP server on 127.0.0.1 that serves byte ranges like Hugging Face's
// resolve URLs: pull, resume of a partial file, the sha256 record, verification on load, and fast failure
// without network.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createBackend } from "../src/stack/registry.js";
import { KNOWN_MODELS, fileUrl, findModel } from "../src/models/registry.js";
import { modelDir, modelStatus, pullModel, pulledModelFiles, readManifest } from "../src/models/store.js";
import { buildDecoder, buildEncoder } from "./helpers/onnx-models.js";

const model = findModel("sam2.1-hiera-tiny")!;
let server: Server;
let base: string;
let home: string;
const bodies = new Map<string, Buffer>();
const requests: { path: string; range?: string }[] = [];
/** When set, the next full response for this path is cut after this many bytes. */
const cutOnce = new Map<string, number>();

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "gear-seg-models-"));
  bodies.set("onnx/vision_encoder.onnx", Buffer.from(buildEncoder({ layout: "onnx-community" })));
  bodies.set("onnx/vision_encoder.onnx_data", Buffer.alloc(300_000, 7));
  bodies.set("onnx/prompt_encoder_mask_decoder.onnx", Buffer.from(buildDecoder({ layout: "onnx-community" })));
  bodies.set("onnx/prompt_encoder_mask_decoder.onnx_data", Buffer.alloc(1000, 3));
  server = createServer((req, res) => {
    const prefix = `/${model.repo}/resolve/${model.revision}/`;
    const path = decodeURIComponent(req.url ?? "").startsWith(prefix) ? decodeURIComponent(req.url!).slice(prefix.length) : "";
    requests.push({ path, range: req.headers.range });
    const body = bodies.get(path);
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      const from = Number(m[1]);
      if (from >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-length": body.length - from, "content-range": `bytes ${from}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(from));
      return;
    }
    const cut = cutOnce.get(path);
    res.writeHead(200, { "content-length": body.length });
    if (cut !== undefined) {
      cutOnce.delete(path);
      res.write(body.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(home, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("registry", () => {
  test("known models have Hugging Face resolve URLs and no invented checksums", () => {
    expect(KNOWN_MODELS.map((m) => m.id)).toContain("sam2.1-hiera-tiny");
    expect(fileUrl(model, model.files[0]!)).toBe("https://huggingface.co/onnx-community/sam2.1-hiera-tiny-ONNX/resolve/main/onnx/vision_encoder.onnx");
    expect(JSON.stringify(KNOWN_MODELS)).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe("pull", () => {
  test("an interrupted download resumes with a Range request; sha256 recorded; the segmenter loads it", async () => {
    cutOnce.set("onnx/vision_encoder.onnx_data", 120_000);
    const progress: number[] = [];
    await expect(pullModel(model.id, { home, baseUrl: base, onProgress: (f, r) => f.endsWith("onnx_data") && progress.push(r) })).rejects.toThrow(
      /cannot download .*vision_encoder\.onnx_data/,
    );
    const dir = modelDir(model.id, home);
    expect((await stat(join(dir, "onnx/vision_encoder.onnx_data.part"))).size).toBe(120_000);
    expect((await modelStatus(model, home)).state).toBe("partial");
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/download into ".*" is incomplete; run gear-seg models pull sam2\.1-hiera-tiny again/);

    requests.length = 0;
    const { manifest } = await pullModel(model.id, { home, baseUrl: base });
    expect(requests.find((r) => r.path === "onnx/vision_encoder.onnx_data")?.range).toBe("bytes=120000-");
    // The finished encoder graph was already complete and verified: not downloaded again.
    expect(requests.some((r) => r.path === "onnx/vision_encoder.onnx")).toBe(false);
    for (const [path, body] of bodies) {
      expect(manifest.files[path]!.sha256).toBe(sha(body));
      expect(manifest.files[path]!.bytes).toBe(body.length);
      expect(manifest.files[path]!.url).toBe(`${base}/${model.repo}/resolve/main/${path}`);
      expect(Buffer.compare(await readFile(join(dir, path)), body)).toBe(0);
    }
    expect((await readManifest(dir))!.files).toEqual(manifest.files);
    expect((await modelStatus(model, home)).state).toBe("ready");
    expect(progress.length).toBeGreaterThan(0);

    const files = await pulledModelFiles(model.id, home);
    expect(files.encoder).toBe(join(dir, "onnx/vision_encoder.onnx"));
    const seg = await createBackend("segmenter", `sam2:${dir}`);
    expect(seg.fingerprint).toContain(sha(bodies.get("onnx/vision_encoder.onnx")!));
    await seg.close?.();
  });

  test("a file changed after download is caught on load", async () => {
    const dir = modelDir(model.id, home);
    const path = join(dir, "onnx/prompt_encoder_mask_decoder.onnx_data");
    await writeFile(path, Buffer.alloc(1000, 4));
    await expect(createBackend("segmenter", `sam2:${dir}`)).rejects.toThrow(/prompt_encoder_mask_decoder\.onnx_data" has sha256 .* was recorded when it was downloaded/);
    await writeFile(path, Buffer.alloc(999, 3));
    await expect(pulledModelFiles(model.id, home)).rejects.toThrow(/has 999 bytes, 1000 were downloaded/);
  });

  test("without network it fails fast and says where to put the files", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const other = await mkdtemp(join(tmpdir(), "gear-seg-offline-"));
    const err = await pullModel(model.id, { home: other, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 }).catch((e: Error) => e);
    // "Fast": the refused connection is the reason given (a wait would end in "no response within 2000 ms").
    expect(String((err as Error).message)).toMatch(/cannot download .*: .*ECONNREFUSED.*\. Without network, put the files there by hand: .*vision_encoder\.onnx → .*models\/sam2\.1-hiera-tiny\/onnx\/vision_encoder\.onnx/);
    await rm(other, { recursive: true, force: true });
  });

  test("a silent server times out", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const other = await mkdtemp(join(tmpdir(), "gear-seg-silent-"));
    await mkdir(other, { recursive: true });
    await expect(pullModel(model.id, { home: other, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 })).rejects.toThrow(/no response within 300 ms/);
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    await rm(other, { recursive: true, force: true });
  });

  test("unknown ids and unpulled models", async () => {
    await expect(pullModel("sam9")).rejects.toThrow(/unknown model "sam9" \(known: sam2\.1-hiera-tiny/);
    await expect(pulledModelFiles("sam2.1-hiera-large", home)).rejects.toThrow(/model "sam2\.1-hiera-large" is not in .*run gear-seg models pull sam2\.1-hiera-large/);
  });
});
