/**
 * StrawDI (Strawberry Digital Images, StrawDI_Db1): per image a label PNG whose first channel holds the
 * instance id of each pixel (0 = background). Every id becomes one instance labelled "strawberry".
 */
import { readdir } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { encode } from "../masks/index.js";
import { GearSegError } from "../util/errors.js";
import type { Instance, InstanceImage } from "./instances.js";
import { IMAGE_EXTENSIONS } from "./reasonseg.js";

/** The instances of one StrawDI label PNG, in increasing id order. */
export async function readInstanceLabelPng(file: string, label = "strawberry"): Promise<{ width: number; height: number; instances: (Instance & { id: number })[] }> {
  // Loaded on first use: the evaluation entry point does not load libvips until a label image is read.
  const { default: sharp } = await import("sharp");
  let out;
  try {
    out = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new GearSegError(`cannot read label image "${file}": ${/missing|not exist/i.test((err as Error).message) ? "file not found" : "not a readable image"}`);
  }
  const { width, height } = out.info;
  const src = out.data;
  const ids = new Set<number>();
  for (let i = 0; i < src.length; i++) if (src[i] !== 0) ids.add(src[i]!);
  const instances = [...ids].sort((a, b) => a - b).map((id) => {
    const data = new Uint8Array(width * height);
    for (let i = 0; i < src.length; i++) if (src[i] === id) data[i] = 1;
    return { id, label, rle: encode({ width, height, data }) };
  });
  return { width, height, instances };
}

/** A StrawDI split: `labelDir` with the label PNGs; `imageDir` (optional) with the photos of the same names. */
export async function loadStrawDI(labelDir: string, imageDir?: string): Promise<InstanceImage[]> {
  let files: string[];
  try {
    files = (await readdir(labelDir)).filter((f) => extname(f).toLowerCase() === ".png").sort();
  } catch {
    throw new GearSegError(`cannot read StrawDI label folder "${labelDir}"`);
  }
  const photos = imageDir ? new Set(await readdir(imageDir)) : new Set<string>();
  const out: InstanceImage[] = [];
  for (const f of files) {
    const stem = basename(f, extname(f));
    const photo = IMAGE_EXTENSIONS.map((e) => stem + e).find((n) => photos.has(n));
    const { width, height, instances } = await readInstanceLabelPng(join(labelDir, f));
    out.push({ ...(photo && imageDir && { imagePath: join(imageDir, photo) }), source: join(labelDir, f), width, height, instances });
  }
  return out;
}
