// `gear-seg label IMAGES --keyword car` without an LLM: the offline default's detector labels its own COCO classes
// (through the built CLI, real NanoDet-g weights from the test model store). cars.jpg has one car the detector is
// sure of; truck.jpg has a pick-up it calls a truck first and a car only second, which is no car instance.
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tightBbox } from "../src/masks/bbox.js";
import { fromCocoRle } from "../src/masks/index.js";
import { photos, runCli, tempDir } from "./helpers/cli.js";

describe("label without an LLM", () => {
  it("labels the detector's class per instance, and refuses a class it does not know before writing anything", async () => {
    const dir = await tempDir("gear-seg-label-det-");
    const images = join(dir, "images");
    await mkdir(images);
    await copyFile(photos.cars, join(images, "cars.jpg"));
    await copyFile(photos.truck, join(images, "truck.jpg"));
    const out = join(dir, "out");
    const run = await runCli(["label", images, "--keyword", "car", "--out", out, "--no-cache", "--quiet"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/1 instances in 1 classes \(car\)/);
    const coco = JSON.parse(await readFile(join(out, "annotations.json"), "utf8"));
    expect(coco.categories.map((c: { name: string }) => c.name)).toEqual(["car"]);
    expect(coco.annotations).toHaveLength(1);
    const ann = coco.annotations[0];
    expect(coco.images.find((i: { id: number }) => i.id === ann.image_id).file_name).toMatch(/cars\.jpg$/);
    // The dark red car on the left, drawn by hand: [273, 506, 1049, 563].
    const [x, y, w, h] = tightBbox(fromCocoRle(ann.segmentation))!;
    const inter = Math.max(0, Math.min(x + w, 1322) - Math.max(x, 273)) * Math.max(0, Math.min(y + h, 1069) - Math.max(y, 506));
    expect(inter / (w * h + 1049 * 563 - inter)).toBeGreaterThan(0.6);

    const unknown = await runCli(["label", images, "--keyword", "strawberry", "--out", join(dir, "none"), "--no-cache", "--quiet"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(
      'gear-seg: without an LLM (--llm) only the detector\'s classes can be labelled; nanodet does not know "strawberry" (it knows 80 COCO classes, e.g. person, car, dog)',
    );
    await expect(stat(join(dir, "none"))).rejects.toThrow();
  });
});
