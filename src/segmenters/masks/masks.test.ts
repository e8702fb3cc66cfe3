import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadImage } from "../../image/index.js";
import { samples } from "../../../test/helpers/paths.js";
import { tempDir } from "../../../test/helpers/temp.js";
import { MaskFolderSegmenter } from "./index.js";

describe("masks:<dir>", () => {
  it("refuses two files for one region id (mask_1.png and mask_01.png), naming both", async () => {
    const name = samples.names[3]!;
    const dir = join(await tempDir(), "masks");
    await mkdir(dir);
    for (const f of ["mask_0.png", "mask_1.png"]) await copyFile(join(samples.masks(name), f), join(dir, f));
    await copyFile(join(samples.masks(name), "mask_2.png"), join(dir, "mask_01.png"));
    const segmenter = new MaskFolderSegmenter(dir, `masks:${dir}`);
    const error = await segmenter.segment(await loadImage(samples.image(name))).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^segmenter masks:.*: "mask_0?1\.png" and "mask_0?1\.png" in ".*masks" are both region 1: keep one$/);
    expect((error as Error).message).toContain('"mask_1.png"');
    expect((error as Error).message).toContain('"mask_01.png"');
  });
});
