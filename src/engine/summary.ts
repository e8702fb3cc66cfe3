/**
 * A dataset's summary files: items.jsonl (reasoning) or annotations.json (instances), stats.json, DATASET.md,
 * the chart, the manifest's counts. They are kept up to date as records are written: `SummaryUpdater` writes
 * records, counts what each adds or takes away in the saved record totals (summary-state.ts), appends the kept
 * items of new records to items.jsonl and rewrites the small files from the totals, so a run that adds k records
 * pays O(k) for its summary. When the saved totals cannot be trusted (a crash between a record and its count,
 * records changed by another writer or by hand, `rebuild`), the files are rebuilt in one streaming pass over the
 * records (a second for COCO annotations): memory stays flat at any size and the time grows with the records.
 * Items a reviewer rejected are left out of items.jsonl, the COCO file and the numbers.
 *
 * Instances datasets: annotations.json is still rewritten from every record whenever records changed (COCO
 * keeps its images and annotations in two arrays of one JSON object, which cannot be appended to).
 */
import { createReadStream } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  eachFailure,
  eachRecord,
  keptItems,
  readManifest,
  readRecordFile,
  recordPath,
  REASONING_TYPES,
  type DamagedRecord,
  type DatasetKind,
  type ImageRecord,
  type Manifest,
} from "../datasets/gear-seg.js";
import { openDatasetSource } from "../export/model.js";
import { writeCocoFiles } from "../export/coco.js";
import { DurableWriter, removeDurable, writeDurable, writeJsonDurable } from "../util/durable.js";
import { GearSegError } from "../util/errors.js";
import { pathExists, textLines } from "../util/fs.js";
import { isRecord } from "../util/json.js";
import { renderBarChartPng } from "./chart.js";
import { renderDatasetMarkdown, StatsAccumulator, type DatasetStats, type RecordTotals } from "./stats.js";
import {
  clearStaleMark,
  forgetSummaryState,
  isStaleMarked,
  readCurrentState,
  recordsStamp,
  SUMMARY_STATE_FILE,
  writeSummaryState,
} from "./summary-state.js";

export const CHART_FILE = "categories.png";
const ITEMS_FILE = "items.jsonl";

export interface SummaryOptions {
  /** Images known to be left (default: the manifest's last count). */
  pending?: number;
  onDamaged?: (d: DamagedRecord) => void;
  /** Read every record again instead of the saved totals (after records were edited in place). */
  rebuild?: boolean;
}

/**
 * Brings the summary files up to date and returns the statistics: from the saved totals when they are current
 * (summary-state.ts), else (or with `rebuild`) from every record. Either way the numbers are the same.
 */
export async function summarizeDataset(dir: string, options: SummaryOptions = {}): Promise<DatasetStats> {
  if (options.rebuild) return rebuildSummary(dir, options);
  return (await SummaryUpdater.open(dir)).commit(options);
}

/** Discovered classes: those already listed keep their place; new ones follow, most frequent first. */
function extendClasses(listed: readonly string[], counts: Record<string, number>): string[] {
  const fresh = Object.entries(counts)
    .filter(([c]) => !listed.includes(c))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c]) => c);
  return [...listed, ...fresh];
}

/** One full pass over the records: items.jsonl, the totals, then every other file. */
async function rebuildSummary(dir: string, options: SummaryOptions): Promise<DatasetStats> {
  const manifest = await readManifest(dir);
  // The state goes first, then the stale mark: a crash between leaves no state to trust.
  await forgetSummaryState(dir);
  await clearStaleMark(dir);
  let stamp = await recordsStamp(dir);
  let damaged = 0;
  const onDamaged = (d: DamagedRecord) => {
    damaged++;
    options.onDamaged?.(d);
  };
  const acc = new StatsAccumulator(manifest.kind);
  const items = manifest.kind === "reasoning" ? await DurableWriter.open(join(dir, ITEMS_FILE)) : undefined;
  try {
    for await (const r of eachRecord(dir, { onDamaged })) {
      acc.addRecord(r);
      if (items && r.kind === "reasoning") for (const item of keptItems(r)) await items.write(JSON.stringify(item) + "\n");
    }
    await items?.commit();
  } catch (err) {
    await items?.abort();
    throw err;
  }
  // Records moved aside changed the folder: the pass has seen that change.
  if (damaged) stamp = await recordsStamp(dir);
  const totals = acc.totals();
  await writeSummaryState(dir, { kind: manifest.kind, records_dir: stamp, ...(items && { items_bytes: items.bytes }), totals });
  return writeSummaryFiles(dir, manifest, totals, { pending: options.pending, coco: true });
}

/** stats.json, DATASET.md, the chart, the manifest (and, when asked, the COCO file) from record totals plus the
 * failure notes (read every time: one small file per failing image). */
async function writeSummaryFiles(dir: string, manifestIn: Manifest, totals: RecordTotals, o: { pending?: number; coco: boolean }): Promise<DatasetStats> {
  let manifest = manifestIn;
  const acc = StatsAccumulator.fromTotals(totals);
  let failedOrParked = 0;
  for await (const f of eachFailure(dir)) {
    if (await pathExists(recordPath(dir, f.image_id))) continue;
    acc.addFailure(f);
    failedOrParked++;
  }
  const stats = acc.finish(Math.max(0, o.pending ?? manifest.counts.pending));

  const files: Record<string, string> = {
    "manifest.json": "this file: what the folder is and how it was made",
    "records/": "one JSON file per finished image (durable; a rerun skips these)",
  };
  if (failedOrParked) files["failures/"] = "one JSON file per image that failed, with the stage, the error and the attempts (parked after the limit)";
  let bars: { label: string; value: number }[];
  let writeCoco = false;
  if (manifest.kind === "reasoning") {
    files[ITEMS_FILE] = "every kept item, one JSON record per line: questions, explanation, answer labels, region ids, union mask (COCO RLE), split, generation metadata";
    bars = REASONING_TYPES.map((t) => ({ label: t, value: stats.reasoning_types[t].count }));
  } else {
    let coco = o.coco || !(await pathExists(join(dir, "annotations.json")));
    if (manifest.labels) {
      const classes = extendClasses(manifest.labels.classes, stats.classes ?? {});
      if (classes.length !== manifest.labels.classes.length) {
        manifest = { ...manifest, labels: { ...manifest.labels, classes } };
        await writeJsonDurable(join(dir, "manifest.json"), manifest);
        coco = true; // new categories
      }
    }
    writeCoco = coco;
    files["annotations.json"] = "COCO instances (RLE segmentations), every split; the split of each image is in images[].split";
    bars = Object.entries(stats.classes ?? {})
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([label, value]) => ({ label, value }));
  }
  await writeDurable(join(dir, CHART_FILE), await renderBarChartPng(bars, { title: manifest.kind === "reasoning" ? "Base pairs per reasoning type" : "Instances per class" }));
  files[CHART_FILE] = manifest.kind === "reasoning" ? "bar chart of the reasoning types" : "bar chart of the classes";
  files["stats.json"] = "the numbers below, as JSON";
  files["DATASET.md"] = "this summary";
  files[SUMMARY_STATE_FILE] = "the running totals these numbers are updated from as records are added (derived from the records; `engine stats --rebuild` recomputes it)";

  const models = new Set([...manifest.generation.models, ...stats.models]);
  const updated: Manifest = {
    ...manifest,
    updated: new Date().toISOString(),
    generation: { ...manifest.generation, models: [...models].sort() },
    files,
    counts: {
      images: stats.images.finished,
      failed: stats.images.failed,
      parked: stats.images.parked,
      pending: stats.images.pending,
      items: stats.base_pairs,
      ...(manifest.kind === "reasoning" && { questions: stats.qa_pairs }),
    },
  };
  await writeJsonDurable(join(dir, "stats.json"), stats);
  await writeDurable(join(dir, "DATASET.md"), renderDatasetMarkdown(updated, stats, CHART_FILE));
  await writeJsonDurable(join(dir, "manifest.json"), updated);
  // After the manifest: the COCO file's info names this summary's models and time.
  if (writeCoco) await writeCocoFiles(await openDatasetSource(dir), [{ path: join(dir, "annotations.json") }]);
  return stats;
}

/** Kept items of one record written in this session, in the order they were appended to the side file. */
interface AppendedBlock {
  imageId: string;
  lines: number;
  /** False once the record was replaced or removed again in the same session. */
  live: boolean;
}

/**
 * Writes, replaces and removes records of one dataset and keeps its summary up to date: what each change adds
 * or takes away is counted in the saved totals, and `commit` writes the summary files in time proportional to
 * the changes (a full pass when the saved totals were not current). The caller holds the dataset's writer lock.
 *
 * Crash safety: the saved totals are removed before the first record changes and written again by `commit`,
 * after items.jsonl; a process killed in between leaves none, and the next summary reads every record.
 */
export class SummaryUpdater {
  private changing = false;
  private changes = 0;
  /** Kept items of records written in this session, appended to items.jsonl by `commit`. */
  private side: { path: string; fh: FileHandle } | undefined;
  private readonly blocks: AppendedBlock[] = [];
  private readonly lastBlock = new Map<string, number>();
  /** Records that were in the dataset before this session and were replaced or removed: their lines go. */
  private readonly replacedBefore = new Set<string>();

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
    /** The running totals; undefined when they cannot be trusted (the commit reads every record). */
    private acc: StatsAccumulator | undefined,
    private itemsBytes: number | undefined,
    /** Why the summary will be rebuilt, when it will. */
    public fullPassReason: string | undefined,
    /** items.jsonl as the session found it (inode and size): another summary meanwhile replaces it. */
    private readonly itemsFile: string | undefined,
  ) {}

  static async open(dir: string): Promise<SummaryUpdater> {
    const manifest = await readManifest(dir);
    const { state, reason } = await readCurrentState(dir, manifest.kind);
    return new SummaryUpdater(dir, manifest, state && StatsAccumulator.fromTotals(state.totals), state?.items_bytes, reason, await fileIdentity(join(dir, ITEMS_FILE)));
  }

  get kind(): DatasetKind {
    return this.manifest.kind;
  }

  /** Changes run one at a time (a run finishes several images at once): each reads, writes and counts alone. */
  private serial<T>(change: () => Promise<T>): Promise<T> {
    const run = this.tail.then(change);
    this.tail = run.catch(() => undefined);
    return run;
  }
  private tail: Promise<unknown> = Promise.resolve();

  /** Writes a record durably (a new image, or a new version of an image's record) and counts it. */
  put(record: ImageRecord): Promise<void> {
    if (record.kind !== this.kind) return Promise.reject(new GearSegError(`a ${record.kind} record cannot go into a ${this.kind} dataset`));
    return this.serial(() => this.putNow(record));
  }

  private async putNow(record: ImageRecord): Promise<void> {
    await this.beginChange();
    const path = recordPath(this.dir, record.image_id);
    await this.takeOut(record.image_id);
    await writeJsonDurable(path, record);
    this.changes++;
    if (!this.acc) return;
    this.acc.addRecord(record);
    if (this.side && record.kind === "reasoning") {
      const kept = keptItems(record);
      if (kept.length) await this.side.fh.write(kept.map((item) => JSON.stringify(item) + "\n").join(""));
      this.lastBlock.set(record.image_id, this.blocks.length);
      this.blocks.push({ imageId: record.image_id, lines: kept.length, live: true });
    }
  }

  /** Removes an image's record (durably) and what it counted. */
  remove(imageId: string): Promise<void> {
    return this.serial(async () => {
      await this.beginChange();
      await this.takeOut(imageId);
      await removeDurable(recordPath(this.dir, imageId));
      this.changes++;
    });
  }

  /** Takes the current record of an image out of the totals (and its items out of items.jsonl at commit). */
  private async takeOut(imageId: string): Promise<void> {
    if (!this.acc) return;
    const { record, problem } = await readRecordFile(recordPath(this.dir, imageId));
    if (!record) {
      if (problem === "file not found") return;
      // A damaged record was never counted by a full pass, but the totals cannot tell: read everything.
      this.distrust(`the record of ${imageId} was damaged (${problem})`);
      return;
    }
    this.acc.removeRecord(record);
    const k = this.lastBlock.get(imageId);
    if (k === undefined) this.replacedBefore.add(imageId);
    else {
      this.blocks[k]!.live = false;
      this.lastBlock.delete(imageId);
    }
  }

  private distrust(reason: string): void {
    this.acc = undefined;
    this.fullPassReason = reason;
  }

  private async beginChange(): Promise<void> {
    if (this.changing) return;
    this.changing = true;
    await forgetSummaryState(this.dir);
    if (this.acc && this.kind === "reasoning") {
      const path = join(this.dir, `.${ITEMS_FILE}.added.${process.pid}.${Date.now().toString(16)}.tmp`);
      this.side = { path, fh: await open(path, "w") };
    }
  }

  /** Writes the summary files (see the class comment) and returns the statistics. */
  async commit(options: Omit<SummaryOptions, "rebuild"> = {}): Promise<DatasetStats> {
    await this.tail;
    try {
      if (this.acc && (await isStaleMarked(this.dir))) this.distrust("records were changed outside this run");
      // A summary of another process (`engine stats` during a run) rewrote items.jsonl from the records, some of
      // them this session's: appending to it would list those twice.
      if (this.acc && this.kind === "reasoning" && (await fileIdentity(join(this.dir, ITEMS_FILE))) !== this.itemsFile) this.distrust("items.jsonl was rewritten during this session");
      if (!this.acc) return await rebuildSummary(this.dir, options);
      if (this.side) await this.appendItems();
      const totals = this.acc.totals();
      await writeSummaryState(this.dir, {
        kind: this.kind,
        records_dir: await recordsStamp(this.dir),
        ...(this.kind === "reasoning" && { items_bytes: this.itemsBytes }),
        totals,
      });
      // The manifest may have changed since open (a run's own settings): read it again.
      this.manifest = await readManifest(this.dir);
      return await writeSummaryFiles(this.dir, this.manifest, totals, { pending: options.pending, coco: this.changes > 0 });
    } finally {
      await this.closeSide();
    }
  }

  /** Ends the session without a summary (the run failed): the saved totals stay removed when anything changed,
   * so the next summary reads every record. */
  async abandon(): Promise<void> {
    await this.tail;
    await this.closeSide();
  }

  private async closeSide(): Promise<void> {
    if (!this.side) return;
    await this.side.fh.close().catch(() => undefined);
    await removeDurable(this.side.path).catch(() => undefined);
    this.side = undefined;
  }

  /** items.jsonl gains the side file's live blocks: appended when nothing earlier went, else rewritten. */
  private async appendItems(): Promise<void> {
    const side = this.side!;
    await side.fh.sync();
    const itemsPath = join(this.dir, ITEMS_FILE);
    const everyBlockLive = this.blocks.every((b) => b.live);
    if (this.replacedBefore.size === 0 && everyBlockLive) {
      const out = await open(itemsPath, "a");
      try {
        for await (const chunk of createReadStream(side.path)) await out.write(chunk as Buffer);
        await out.sync();
      } finally {
        await out.close();
      }
      this.itemsBytes = (await stat(itemsPath)).size;
      return;
    }
    // Some lines must go: the earlier file without the replaced records' items, then the live blocks.
    const w = await DurableWriter.open(itemsPath);
    try {
      const existing = await pathExists(itemsPath);
      if (existing) {
        for await (const line of textLines(itemsPath)) {
          if (!line.trim()) continue;
          const item = JSON.parse(line) as unknown;
          if (isRecord(item) && typeof item.image_id === "string" && this.replacedBefore.has(item.image_id)) continue;
          await w.write(line + "\n");
        }
      }
      let block = 0;
      let left = this.blocks[0]?.lines ?? 0;
      for await (const line of textLines(side.path)) {
        while (left === 0 && block < this.blocks.length) left = this.blocks[++block]?.lines ?? 0;
        if (this.blocks[block]!.live) await w.write(line + "\n");
        left--;
      }
      await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
    this.itemsBytes = w.bytes;
  }
}

/** A file's inode and size ("" when it does not exist). */
async function fileIdentity(path: string): Promise<string> {
  const s = await stat(path, { bigint: true }).catch(() => null);
  return s ? `${s.ino}:${s.size}` : "";
}
