/**
 * `recorded:<file>`: descriptions read from a file in the GEAR-Seg reference layout
 * `{"whole": {"des": caption}, "<i>": {"des": description of mask i}, ...}`, so that recorded runs replay.
 */
import { createHash } from "node:crypto";
import type { RgbImage } from "../../image/types.js";
import type { BackendFactory, Captioner, Describer, Region, StageContext } from "../../pipeline/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { isRecord, readJsonFile } from "../../util/json.js";

/** As a captioner it gives the file's `whole`. */
export const createRecordedDescriber: BackendFactory<RecordedDescriber, Record<string, never>> = async (arg, _options, { spec, label, resolvePath }) => {
  if (!arg) throw new UsageError(`${label}: give the file, as recorded:<descriptions.json>`);
  const path = resolvePath(arg);
  const json = await readJsonFile(path, "descriptions file");
  if (!isRecord(json)) throw new GearSegError(`descriptions file "${path}": expected an object of {"des": ...} entries`);
  const byKey = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    if (!isRecord(value) || typeof value.des !== "string") {
      throw new GearSegError(`descriptions file "${path}": entry "${key}" has no string "des"`);
    }
    byKey.set(key, value.des);
  }
  const digest = createHash("sha256").update(JSON.stringify(json)).digest("hex");
  return new RecordedDescriber(path, byKey, spec, `${spec}#${digest}`);
};

export class RecordedDescriber implements Describer, Captioner {
  constructor(
    readonly path: string,
    private readonly byKey: ReadonlyMap<string, string>,
    readonly spec: string,
    /** The cache keys on the file's contents. */
    readonly fingerprint: string = spec,
  ) {}

  async describe(_image: RgbImage, regions: readonly Region[], ctx?: StageContext): Promise<string[]> {
    ctx?.signal?.throwIfAborted();
    return regions.map((r) => {
      const des = this.byKey.get(String(r.id));
      if (des === undefined) throw new GearSegError(`descriptions file "${this.path}" has no entry for region ${r.id}`);
      return des;
    });
  }

  async caption(_image: RgbImage, _regions: readonly Region[], ctx?: StageContext): Promise<string> {
    ctx?.signal?.throwIfAborted();
    return this.byKey.get("whole") ?? "";
  }
}
