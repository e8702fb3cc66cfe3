// The whole CLI path on real photos with the offline stack (classic segmenter, attributes describer) and a
// local chat server: engine generate, then export coco and yolo, read back.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCocoGroundTruth } from "../src/datasets/coco.js";
import { startOpenAiServer, userText, type OpenAiServer } from "./helpers/openai-server.js";
import { photos, runCli, tempDir } from "./helpers/cli.js";

let server: OpenAiServer;
let images: string;

beforeAll(async () => {
  images = join(await tempDir("gear-seg-photos-"), "photos");
  await mkdir(images);
  // The photos at 600 pixels wide: the CLI path is under test, and the classic segmenter's work grows with the pixels.
  for (const [name, file] of Object.entries(photos)) await sharp(file).resize({ width: 600 }).jpeg({ quality: 90 }).toFile(join(images, `${name}.jpg`));
  // The largest region, described by the attributes describer, is the target of one item per photo.
  server = await startOpenAiServer({ answer: (req) => {
    expect(userText(req)).toMatch(/\[Mask 0\]/);
    return JSON.stringify({ items: [{ reasoning_type: "attribute", questions: ["Which area takes up most of the picture?", "What fills the most space here?", "Which part of the view is the biggest?", "What dominates this photo by size?", "Which region covers the most pixels?"], explanation: "It is the largest region. Size singles it out.", answer_labels: ["largest region"], answer_mask_ids: [0], confidence: 7 }] });
  }, servedModel: (m) => `${m}-served` });
});

afterAll(async () => {
  await server?.close();
});

describe("engine generate on real photos (offline stack)", () => {
  it("generates, exports and re-loads", async () => {
    const out = await tempDir();
    const run = await runCli(["engine", "generate", images, "--out", out, "--segmenter", "classic", "--describer", "attributes", "--no-cache", "--llm", `openai:m@${server.url}`, "--quiet"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/3 images done now, 0 already done, 0 failed/);
    const stats = JSON.parse(await readFile(join(out, "stats.json"), "utf8"));
    expect(stats).toMatchObject({ base_pairs: 3, qa_pairs: 15, mean_query_words: expect.any(Number) });
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest.generation).toMatchObject({ segmenter: "classic", describer: "attributes", models: ["m-served"] });

    const coco = await tempDir();
    const exp = await runCli(["export", out, "--format", "coco", "--out", coco, "--polygons"]);
    expect(exp.code).toBe(0);
    const gt = await loadCocoGroundTruth(join(coco, "annotations", "instances_all.json"));
    expect(gt.annotations).toHaveLength(3);
    const yolo = await tempDir();
    expect((await runCli(["export", out, "--format", "yolo", "--out", yolo])).code).toBe(0);
    const bad = await runCli(["export", out, "--format", "voc", "--out", yolo]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format must be one of coco, yolo, reasonseg, labelme/);
    const noLlm = await runCli(["engine", "generate", images, "--out", await tempDir()]);
    expect(noLlm.code).toBe(2);
    expect(noLlm.stderr).toMatch(/give the LLM/);
  });
});
