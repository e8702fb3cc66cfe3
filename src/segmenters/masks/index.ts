/**
 * `masks:<dir>`: regions read from `mask_<i>.png` files (0/255; any non-zero pixel is inside), as the GEAR-Seg
 * reference writes SAM 2's output. Region id = i; ids and order are kept (the agent does not dedup or re-sort
 * recorded regions), so recorded runs replay exactly.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { RgbImage } from "../../image/types.js";
import { loadMaskPng } from "../../image/index.js";
import { area, encode, toBbox } from "../../masks/index.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { mapLimit } from "../../util/concurrency.js";
import type { BackendFactory, Region, Segmenter, StageContext } from "../../pipeline/types.js";

const MASK_FILE = /^mask_(\d+)\.png$/i;

export const createMaskFolderSegmenter: BackendFactory<Segmenter, Record<string, never>> = async (arg, _options, { spec, label, resolvePath }) => {
  if (!arg) throw new UsageError(`${label}: give the folder, as masks:<dir>`);
  const dir = resolvePath(arg);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new GearSegError(`${label}: "${arg}" is not a folder`);
  return new MaskFolderSegmenter(dir, spec, await fingerprintFolder(dir, spec));
};

/** The cache keys on the mask files' contents, so edited masks are never served stale. */
async function fingerprintFolder(dir: string, spec: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => MASK_FILE.test(n)).sort();
  const hash = createHash("sha256");
  for (const name of names) hash.update(name).update(await readFile(join(dir, name)));
  return `${spec}#${hash.digest("hex")}`;
}

export class MaskFolderSegmenter implements Segmenter {
  readonly recorded = true;
  constructor(
    readonly dir: string,
    readonly spec: string,
    readonly fingerprint: string = spec,
  ) {}

  async segment(image: RgbImage, ctx?: StageContext): Promise<Region[]> {
    const files = (await readdir(this.dir))
      .map((name) => ({ name, m: MASK_FILE.exec(name) }))
      .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
      .map((f) => ({ name: f.name, id: Number(f.m[1]) }))
      .sort((a, b) => a.id - b.id);
    if (files.length === 0) throw new GearSegError(`segmenter ${this.spec}: no mask_<i>.png files in "${this.dir}"`);
    // mask_1.png and mask_01.png would both be region 1: the reasoner could not tell them apart.
    for (let i = 1; i < files.length; i++) {
      if (files[i]!.id === files[i - 1]!.id) {
        throw new GearSegError(
          `segmenter ${this.spec}: "${files[i - 1]!.name}" and "${files[i]!.name}" in "${this.dir}" are both region ${files[i]!.id}: keep one`,
        );
      }
    }
    let done = 0;
    return mapLimit(files, 4, async ({ name, id }) => {
      ctx?.signal?.throwIfAborted();
      const mask = await loadMaskPng(join(this.dir, name));
      if (mask.height !== image.height || mask.width !== image.width) {
        throw new GearSegError(
          `mask "${join(this.dir, name)}" is ${mask.width}×${mask.height}, the image is ${image.width}×${image.height}`,
        );
      }
      const rle = encode(mask);
      ctx?.onProgress?.(++done, files.length);
      return { id, rle, bbox: toBbox(rle), area: area(rle) };
    });
  }
}
