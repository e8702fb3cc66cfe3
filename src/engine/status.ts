/** What a dataset holds and what is left, without running anything (`engine status`); reading reviewed
 * annotations back in (`import labelme`), which ends by rewriting the summaries. */
import { eachFailure, readManifest, recordNames, type FailureRecord, type Manifest } from "../datasets/gear-seg.js";
import { importLabelMe, type ImportSummary } from "../export/import-labelme.js";
import { UsageError } from "../util/errors.js";
import { lockDataset } from "./store.js";
import { summarizeDataset } from "./summary.js";

export interface DatasetStatus {
  dir: string;
  kind: Manifest["kind"];
  images_roots: string[];
  finished: number;
  /** Failed, still to be retried by the next run. */
  failing: { image: string; stage: string; error: string; attempts: number }[];
  /** Failed too often: skipped until `--retry-failed`. */
  parked: { image: string; stage: string; error: string; attempts: number }[];
  counts: Manifest["counts"];
}

const brief = (f: FailureRecord) => ({ image: f.image, stage: f.stage, error: f.error, attempts: f.attempts ?? 1 });

export async function datasetStatus(dir: string): Promise<DatasetStatus> {
  const manifest = await readManifest(dir);
  const finished = new Set((await recordNames(dir)).map((n) => n.slice(0, -5)));
  const failing: DatasetStatus["failing"] = [];
  const parked: DatasetStatus["parked"] = [];
  for await (const f of eachFailure(dir)) {
    if (finished.has(f.image_id)) continue;
    (f.parked ? parked : failing).push(brief(f));
  }
  return { dir, kind: manifest.kind, images_roots: manifest.images_roots, finished: finished.size, failing, parked, counts: manifest.counts };
}

export const IMPORT_FORMATS = ["labelme"] as const;

/** Reads corrected annotations (LabelMe files) back into a dataset, then rewrites its summary files. */
export async function importIntoDataset(format: string, from: string, datasetDir: string): Promise<ImportSummary> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`import format must be one of ${IMPORT_FORMATS.join(", ")}, got "${format}"`);
  const lock = await lockDataset(datasetDir);
  try {
    const summary = await importLabelMe(from, datasetDir);
    await summarizeDataset(datasetDir, { rebuild: true });
    return summary;
  } finally {
    await lock.release();
  }
}
