/**
 * The summary state of a dataset folder: `summary-state.json`, what its records add up to (the record totals of
 * stats.ts) and what it was computed from, so that a run that adds k records updates its summary files in O(k)
 * instead of reading every record again (summary.ts).
 *
 * When it is trusted: the state is used only when it is current, and it is current only if
 * - it exists: a writer removes it (durably) before it changes its first record, and writes it again once its
 *   changes are counted; a writer killed between the two leaves no state, so the next summary is a full pass;
 * - no other writer marked the summary stale (`summary.stale`: the review API and answers saved from the web app
 *   change records outside a run, then mark it);
 * - the `records/` folder's modification time and inode are those it saw (a record added, renamed or removed by
 *   hand, or a copy of the folder, changes them);
 * - (reasoning) `items.jsonl` has the size it wrote.
 * Anything else is a full pass, which writes a new state. Edits of a record file in place (no rename) are not
 * seen: after those, summarise with `rebuild`.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DatasetKind } from "../datasets/gear-seg.js";
import { removeDurable, writeDurable, writeJsonDurable } from "../util/durable.js";
import { pathExists } from "../util/fs.js";
import { isRecord } from "../util/json.js";
import type { RecordTotals } from "./stats.js";

export const SUMMARY_STATE_FILE = "summary-state.json";
export const SUMMARY_STALE_FILE = "summary.stale";
const STATE_FORMAT = "gear-seg-summary-state";
const STATE_VERSION = 1;

/** What identifies the `records/` folder's contents cheaply (null: no folder yet). */
export type RecordsStamp = { mtime_ns: string; ino: string } | null;

export interface SummaryState {
  format: typeof STATE_FORMAT;
  version: number;
  kind: DatasetKind;
  records_dir: RecordsStamp;
  /** Reasoning datasets: the size of the items.jsonl these totals describe. */
  items_bytes?: number;
  totals: RecordTotals;
}

export async function recordsStamp(dir: string): Promise<RecordsStamp> {
  const s = await stat(join(dir, "records"), { bigint: true }).catch(() => null);
  return s ? { mtime_ns: String(s.mtimeNs), ino: String(s.ino) } : null;
}

const sameStamp = (a: RecordsStamp, b: RecordsStamp) => (a === null || b === null ? a === b : a.mtime_ns === b.mtime_ns && a.ino === b.ino);

export const isStaleMarked = (dir: string) => pathExists(join(dir, SUMMARY_STALE_FILE));

/** Said by a writer that changed records outside an engine run: the next summary is a full pass. */
export async function markSummaryStale(dir: string): Promise<void> {
  await writeDurable(join(dir, SUMMARY_STALE_FILE), "records changed outside an engine run; the next summary reads every record\n");
}

export const clearStaleMark = (dir: string) => removeDurable(join(dir, SUMMARY_STALE_FILE));

/** Removes the state (durably): done before a writer's first change, so that a crash leaves no state. */
export const forgetSummaryState = (dir: string) => removeDurable(join(dir, SUMMARY_STATE_FILE));

export async function writeSummaryState(dir: string, state: Omit<SummaryState, "format" | "version">): Promise<void> {
  await writeJsonDurable(join(dir, SUMMARY_STATE_FILE), { format: STATE_FORMAT, version: STATE_VERSION, ...state });
}

/** The state when it is current (see the top of this file), else why not. */
export async function readCurrentState(dir: string, kind: DatasetKind): Promise<{ state?: SummaryState; reason?: string }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, SUMMARY_STATE_FILE), "utf8"));
  } catch (err) {
    return { reason: (err as NodeJS.ErrnoException).code === "ENOENT" ? "no summary state" : "the summary state cannot be read" };
  }
  if (!isRecord(json) || json.format !== STATE_FORMAT || json.version !== STATE_VERSION || !isRecord(json.totals)) return { reason: "the summary state is not one this version writes" };
  const state = json as unknown as SummaryState;
  if (state.kind !== kind || state.totals.kind !== kind) return { reason: "the summary state is of another kind of dataset" };
  if (await isStaleMarked(dir)) return { reason: "records were changed outside an engine run" };
  if (!sameStamp(state.records_dir, await recordsStamp(dir))) return { reason: "the records folder changed since the summary" };
  if (kind === "reasoning") {
    const size = (await stat(join(dir, "items.jsonl")).catch(() => null))?.size;
    if (size !== state.items_bytes) return { reason: "items.jsonl is not the one the summary wrote" };
  }
  return { state };
}
