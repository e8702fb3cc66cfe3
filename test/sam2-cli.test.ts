// `gear-seg models list|pull|path` and `segment --segmenter sam2:<dir>` through the built CLI (dist/cli/main.js).
import { createServer, type Server } from "node:http";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { findModel } from "../src/models/registry.js";
import { readFile, writeFile } from "node:fs/promises";
import sharp from "sharp";
import { decode, fromCocoRle } from "../src/masks/index.js";
import { buildDecoder, buildEncoder, writeTinySam2 } from "./helpers/onnx-models.js";
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

describe("gear-seg segment --segmenter sam2:<dir>", () => {
  /** A 160×120 grey scene with a red block on the left and a blue block on the right. */
  async function scene(dir: string): Promise<string> {
    const w = 160;
    const h = 120;
    const rgb = Buffer.alloc(w * h * 3, 128);
    const paint = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) rgb.set(c, (y * w + x) * 3);
    };
    paint(15, 30, 65, 90, [220, 30, 30]);
    paint(100, 20, 145, 100, [30, 40, 210]);
    const file = join(dir, "scene.png");
    await writeFile(file, await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
    return file;
  }

  test("runs SAM 2 everything mode end to end, with the GEAR-Seg preset, and answers from its regions", async () => {
    const dir = await tempDir("gear-seg-sam2-segment-");
    await writeTinySam2(join(dir, "model"), { layout: "samexporter" });
    const image = await scene(dir);
    const out = join(dir, "out");
    // The segmenter and its options from a config file; an 8×8 point grid (SAM 2's default is 32×32: 16 times
    // the decoder runs for the same two blocks).
    const config = join(dir, "gear-seg.config.json");
    await writeFile(config, JSON.stringify({ segmenter: { spec: `sam2:${join(dir, "model")}`, amg: { points_per_side: 8 } } }));
    const args = ["segment", image, "the red region on the left", "--out", out, "--config", config];
    const run = await runCli([...args, "--amg-preset", "gear-seg", "--quiet", "--json"], { env: { GEAR_SEG_HOME: join(dir, "home") } });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.backends.segmenter).toBe(`sam2:${join(dir, "model")}`);
    expect(result.regions.length).toBeGreaterThanOrEqual(2);
    for (const r of result.regions) {
      expect(r.predicted_iou).toBeGreaterThan(0.8);
      expect(r.stability_score).toBeGreaterThanOrEqual(Math.fround(0.95));
      expect(r.point_coords).toHaveLength(1);
    }
    expect(result.mask_ids.length).toBeGreaterThan(0);
    // The answer lies on the red block: most of its pixels are inside x 15..64, y 30..89.
    const mask = decode(fromCocoRle(result.mask));
    let inside = 0;
    let total = 0;
    for (let y = 0; y < mask.height; y++) {
      for (let x = 0; x < mask.width; x++) {
        if (!mask.data[y * mask.width + x]) continue;
        total++;
        if (x >= 15 && x < 65 && y >= 30 && y < 90) inside++;
      }
    }
    expect(total).toBeGreaterThan(0);
    expect(inside / total).toBeGreaterThan(0.9);
    expect(JSON.parse(await readFile(join(out, "result.json"), "utf8")).mask).toEqual(result.mask);

    // A bad preset is refused before any work (here with the segmenter from the flag, as most users give it).
    const bad = await runCli(["segment", image, "x", "--out", join(dir, "o1"), "--segmenter", `sam2:${join(dir, "model")}`, "--amg-preset", "fastest", "--quiet"], { env: { GEAR_SEG_HOME: join(dir, "home") } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gear-seg: segmenter sam2:\S+: option "preset" must be one of "sam2-default", "gear-seg", got "fastest"\n$/);
    // The preset belongs to sam2: with another segmenter the message says so.
    const classic = await runCli(["segment", image, "x", "--out", join(dir, "o2"), "--segmenter", "classic", "--amg-preset", "gear-seg", "--quiet"], { env: { GEAR_SEG_HOME: join(dir, "home") } });
    expect(classic.code).toBe(2);
    expect(classic.stderr).toBe('gear-seg: the AMG preset "gear-seg" applies to the sam2 segmenter, not to "classic"\n');
  });
});
