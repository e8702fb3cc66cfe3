// SAM 2 point/box prompts (src/segmenters/sam2/prompt.ts) with the tiny generated ONNX models of both export
// layouts, then over HTTP: POST /api/images/:id/prompt adds a region decoded on the cached embedding, which a
// corrected answer can choose.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend } from "../src/stack/registry.js";
import { createConfiguredStack } from "../src/stack/configured.js";
import { area, encode, iou, rleFromString } from "../src/masks/index.js";
import type { RgbImage } from "../src/image/types.js";
import type { PromptableSegmenter } from "../src/pipeline/types.js";
import type { Sam2Segmenter } from "../src/segmenters/sam2/index.js";
import { StageEvents, startServer } from "../src/server/index.js";
import { writeTinySam2, type TinyLayout } from "./helpers/onnx-models.js";
import { fetch } from "./server-fixtures.js";

let root: string;
const dirs: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "gear-seg-sam2-prompt-"));
  for (const layout of ["samexporter", "onnx-community"] as TinyLayout[]) {
    dirs[layout] = join(root, layout);
    await writeTinySam2(dirs[layout]!, { layout });
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

const W = 320;
const H = 240;
/** Grey, with a red rectangle and a blue rectangle; their true masks. */
function scene(): { image: RgbImage; red: Uint8Array; blue: Uint8Array } {
  const data = new Uint8Array(W * H * 3).fill(128);
  const red = new Uint8Array(W * H);
  const blue = new Uint8Array(W * H);
  const paint = (m: Uint8Array, colour: number[], x0: number, y0: number, x1: number, y1: number) => {
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        data.set(colour, (y * W + x) * 3);
        m[y * W + x] = 1;
      }
  };
  paint(red, [230, 30, 30], 40, 30, 140, 110);
  paint(blue, [30, 40, 220], 180, 140, 300, 220);
  return { image: { width: W, height: H, data, source: "scene" }, red, blue };
}

const iouWith = (rle: Parameters<typeof area>[0], truth: Uint8Array) => iou([rle], [encode({ height: H, width: W, data: truth })], [false])[0]![0]!;

describe.each(["samexporter", "onnx-community"] as const)("prompts on the %s layout", (layout) => {
  it("decodes clicks and boxes on one embedding per image", async () => {
    const seg = (await createBackend("segmenter", `sam2:${dirs[layout]}`)) as Sam2Segmenter;
    try {
      const { image, red, blue } = scene();
      const click = await seg.segmentPrompt(image, { points: [{ x: 90, y: 70, label: 1 }] });
      expect(iouWith(click.rle, red)).toBeGreaterThan(0.98);
      expect(click.area).toBe(area(click.rle));
      expect(click.pointCoords).toEqual([[90, 70]]);
      expect(click.predictedIou).toBeGreaterThan(0.5);
      const box = await seg.segmentPrompt(image, { box: [185, 145, 295, 215] });
      expect(iouWith(box.rle, blue)).toBeGreaterThan(0.98);
      // The box's corners go first, as SAM 2 orders them: this tiny decoder reads the first point only.
      const both = await seg.segmentPrompt(image, { box: [45, 35, 135, 105], points: [{ x: 250, y: 180, label: 1 }, { x: 10, y: 10, label: 0 }] });
      expect(iouWith(both.rle, red)).toBeGreaterThan(0.98);
      expect(seg.prompter.embedded).toBe(1);
      await expect(seg.segmentPrompt(image, { points: [{ x: 10, y: 10, label: 0 }] })).rejects.toThrow(/at least one point on the object/);
      await expect(seg.segmentPrompt(image, { points: [{ x: 400, y: 10, label: 1 }] })).rejects.toThrow(/not inside the 320×240 image/);
      await expect(seg.segmentPrompt(image, { box: [50, 50, 40, 60] })).rejects.toThrow(/is empty/);
    } finally {
      await seg.close();
    }
  });
});

describe("POST /api/images/:id/prompt", () => {
  it("adds a SAM 2 region that a corrected answer can choose", async () => {
    const events = new StageEvents();
    const stack = await createConfiguredStack({
      specs: { segmenter: `sam2:${dirs.samexporter}`, describer: "attributes", reasoner: "wordnet" },
      backendOptions: { segmenter: { amg: { points_per_side: 4 }, workers: 1 } },
      cache: false,
      onStage: events.onStage,
    });
    const { agent } = stack;
    const server = await startServer({ agent, stageEvents: events, port: 0 });
    try {
      const { image, blue } = scene();
      const png = await sharp(Buffer.from(image.data), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
      const up = await fetch(`${server.url}/api/images`, { method: "POST", headers: { "Content-Type": "image/png" }, body: png });
      const { id } = await up.json();
      await (await fetch(`${server.url}/api/images/${id}/events`)).text();
      const health = await (await fetch(`${server.url}/api/health`)).json();
      expect(health.prompts).toBe(true);
      const before = await (await fetch(`${server.url}/api/images/${id}/regions`)).json();
      const maxId = Math.max(...before.regions.map((r: { id: number }) => r.id));

      const res = await fetch(`${server.url}/api/images/${id}/prompt`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ points: [{ x: 240, y: 180, label: 1 }] }),
      });
      expect(res.status).toBe(201);
      const { region } = await res.json();
      expect(region.id).toBe(maxId + 1);
      expect(iouWith(rleFromString(region.segmentation.counts, H, W), blue)).toBeGreaterThan(0.98);
      const after = await (await fetch(`${server.url}/api/images/${id}/regions`)).json();
      expect(after.added_regions.map((r: { id: number }) => r.id)).toEqual([region.id]);

      const composed = await fetch(`${server.url}/api/images/${id}/answers`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ query: "the blue box", mask_ids: [region.id] }),
      });
      const answer = await composed.json();
      expect(answer.mask.counts).toBe(region.segmentation.counts);
      expect(answer.regions.at(-1).id).toBe(region.id);
      expect((agent.segmenter as PromptableSegmenter as Sam2Segmenter).prompter.embedded).toBe(1);
    } finally {
      await server.close();
      await stack.close();
    }
  });
});
