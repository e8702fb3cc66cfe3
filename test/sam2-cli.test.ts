// `gear-seg models list|pull|path` and `segment --segmenter sam2:<dir>` through the built CLI (dist/cli/main.js).
import { createServer, type Server } from "node:http";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findModel } from "../src/models/registry.js";
import { buildDecoder, buildEncoder } from "./helpers/onnx-models.js";
import { runCli, tempDir } from "./helpers/cli.js";

const model = findModel("sam2.1-hiera-tiny")!;
let server: Server;
let base: string;
let home: string;

beforeAll(async () => {
  home = await tempDir("gear-seg-sam2-cli-");
  const bodies = new Map<string, Buffer>([
    ["onnx/vision_encoder.onnx", Buffer.from(buildEncoder({ layout: "onnx-community" }))],
    ["onnx/vision_encoder.onnx_data", Buffer.alloc(5000, 1)],
    ["onnx/prompt_encoder_mask_decoder.onnx", Buffer.from(buildDecoder({ layout: "onnx-community" }))],
    ["onnx/prompt_encoder_mask_decoder.onnx_data", Buffer.alloc(500, 2)],
  ]);
  server = createServer((req, res) => {
    const body = bodies.get((req.url ?? "").replace(`/${model.repo}/resolve/main/`, ""));
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(home, { recursive: true, force: true });
});

describe("gear-seg models", () => {
  test("list, path, pull from a mirror, then list shows it ready", async () => {
    const env = { GEAR_SEG_HOME: home };
    const list = await runCli(["models", "list"], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/sam2\.1-hiera-tiny\s+~\d+\.\d MB\s+absent\s+onnx-community\s+https:\/\/huggingface\.co\/onnx-community\/sam2\.1-hiera-tiny-ONNX/);
    const path = await runCli(["models", "path", "sam2.1-hiera-tiny"], { env });
    expect(path.stdout.trim()).toBe(join(home, "models", "sam2.1-hiera-tiny"));
    expect(path.stderr).toMatch(/is absent; run gear-seg models pull sam2\.1-hiera-tiny/);
    const pull = await runCli(["models", "pull", "sam2.1-hiera-tiny", "--base-url", base], { env });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toMatch(/onnx\/vision_encoder\.onnx_data\s+0\.0 MB\s+sha256 [0-9a-f]{64}/);
    expect((await runCli(["models", "list"], { env })).stdout).toMatch(/sam2\.1-hiera-tiny\s+~[\d.]+ MB\s+ready/);
  });

  test("unknown id is a usage error; no network fails with where to put the files", async () => {
    const bad = await runCli(["models", "pull", "sam9"], { env: { GEAR_SEG_HOME: home } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gear-seg: unknown model "sam9"/);
    const off = await runCli(["models", "pull", "sam2.1-hiera-small", "--base-url", "http://127.0.0.1:9", "--timeout", "2"], { env: { GEAR_SEG_HOME: home } });
    expect(off.code).toBe(1);
    expect(off.stderr.trim().split("\n")).toHaveLength(1);
    expect(off.stderr).toMatch(/cannot download .* put the files there by hand/);
  });
});
