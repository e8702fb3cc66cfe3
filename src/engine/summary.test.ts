// Summaries kept up to date as records are written (summary.ts, summary-state.ts): after any sequence of added,
// replaced and removed records the summary files equal a full pass over the records; the saved totals are used
// only while they are current (a writer killed between a record and its count, a record added by hand, a review
// all lead to a full pass), and a current summary does not read the records it did not change.
import { spawn } from "node:child_process";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/helpers/paths.js";
import { tempDir } from "../../test/helpers/temp.js";
import { REASONING_TYPES, recordPath, type DamagedRecord, type DatasetKind, type ImageRecord, type InstancesRecord, type ReasoningRecord } from "../datasets/gear-seg.js";
import { area, encode, toBbox, toCocoRle } from "../masks/index.js";
import { reviewItem } from "./review.js";
import { openDataset } from "./store.js";
import { readCurrentState } from "./summary-state.js";
import { summarizeDataset, SummaryUpdater } from "./summary.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const LABELS = ["red cup", "cups", "glass", "dog", "the Dog!", "wooden table", "tables", "lamp"];
const MODELS = ["model-a", "model-b", "model-c"];
const SPLITS = ["train", "val", "test"] as const;

function mask(r: () => number) {
  const data = new Uint8Array(8 * 6);
  for (let p = 0; p < data.length; p++) data[p] = r() < 0.4 ? 1 : 0;
  data[0] = 1;
  return encode({ width: 8, height: 6, data });
}

/** A record with random contents: items or instances, some rejected, random labels, models, splits, counts. */
function randomRecord(kind: DatasetKind, id: string, r: () => number): ImageRecord {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const base = {
    image_id: id,
    image: `${id}.png`,
    root: 0,
    width: 8,
    height: 6,
    split: pick(SPLITS),
    regions: 5,
    model: r() < 0.2 ? null : pick(MODELS),
    ...(r() < 0.8 && { usage: { promptTokens: Math.floor(r() * 900), completionTokens: Math.floor(r() * 90), totalTokens: Math.floor(r() * 990) } }),
    notes: [],
    finished: "2026-12-01T00:00:00.000Z",
  };
  const review = () => (r() < 0.25 ? { review: { status: pick(["accepted", "rejected"] as const), at: "2026-12-01T00:00:00.000Z" } } : {});
  const n = Math.floor(r() * 4);
  if (kind === "reasoning") {
    const items = Array.from({ length: n }, (_, k) => {
      const m = mask(r);
      return {
        id: `${id}#${k}`,
        image_id: id,
        image: base.image,
        width: 8,
        height: 6,
        split: base.split,
        reasoning_type: pick(REASONING_TYPES),
        questions: Array.from({ length: 1 + Math.floor(r() * 4) }, (_, q) => `Which ${pick(LABELS)} would you use ${"for this ".repeat(q)}now?`),
        explanation: "It fits.",
        answer_labels: Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick(LABELS)),
        region_ids: [k],
        confidence: 8,
        mask: toCocoRle(m),
        area: area(m),
        bbox: toBbox(m),
        generation: { segmenter: "classic", describer: null, llm: "openai:m", model: base.model, prompt_version: "v" },
        ...review(),
      };
    });
    const c = () => Math.floor(r() * 3);
    const filters = { proposed: n + c(), dropped: { malformed: c(), unknown_ids: c(), low_confidence: c(), tiny_target: c(), duplicate: c(), same_target: c(), over_limit: c() }, duplicate_questions: c() };
    return { ...base, kind: "reasoning", items, filters } satisfies ReasoningRecord;
  }
  const instances = Array.from({ length: n }, (_, k) => {
    const m = mask(r);
    return { id: `${id}#${k}`, category: pick(["cup", "dog", "table", "lamp"]), region_id: k, mask: toCocoRle(m), area: area(m), bbox: toBbox(m), ...review() };
  });
  return { ...base, kind: "instances", instances, parts_dropped: Math.floor(r() * 3), unlabelled: Math.floor(r() * 3) } satisfies InstancesRecord;
}

async function newDataset(kind: DatasetKind): Promise<string> {
  const dir = join(await tempDir("gear-seg-summary-"), "ds");
  await openDataset(dir, {
    kind,
    imagesRoot: join(dir, "..", "images"),
    seed: "0",
    fractions: { train: 0.8, val: 0.1, test: 0.1 },
    generation: { segmenter: "classic", describer: null, llm: "openai:m", models: [], prompt_version: "v" },
    ...(kind === "instances" && { labels: { keyword: "things", classes: ["table"], discovered: true } }),
  });
  return dir;
}

/** Everything a summary writes, minus the time it was written; items.jsonl as a set of lines (a summary kept up
 * to date appends the items of later records, a full pass writes them by image id). */
async function summaryOf(dir: string) {
  const read = (f: string) => readFile(join(dir, f), "utf8").catch(() => "(none)");
  const manifest = JSON.parse(await read("manifest.json"));
  return {
    stats: JSON.parse(await read("stats.json")),
    markdown: (await read("DATASET.md")).replace(/^\| updated \|.*$/m, ""),
    items: (await read("items.jsonl")).split("\n").filter(Boolean).sort(),
    annotations: (await read("annotations.json")).replace(/"created":"[^"]*"/, ""),
    chart: await readFile(join(dir, "categories.png")),
    manifest: { counts: manifest.counts, models: manifest.generation.models, files: manifest.files, labels: manifest.labels },
  };
}

/** The summary a full pass writes for the same records (on a copy, so the dataset itself is untouched). */
async function rebuiltSummaryOf(dir: string) {
  const copy = join(await tempDir("gear-seg-summary-copy-"), "ds");
  await cp(dir, copy, { recursive: true });
  await summarizeDataset(copy, { rebuild: true });
  return summaryOf(copy);
}

describe("summaries kept up to date as records change", () => {
  for (const kind of ["reasoning", "instances"] as const) {
    it(`${kind}: random adds, replacements and removals give the summary of a full pass, without one`, async () => {
      const r = rng(kind === "reasoning" ? 11 : 23);
      const dir = await newDataset(kind);
      const present = new Set<string>();
      let fresh = 0;
      const sessions = kind === "reasoning" ? 8 : 5;
      for (let session = 0; session < sessions; session++) {
        const updater = await SummaryUpdater.open(dir);
        // Only the first summary has no saved totals to start from.
        expect(updater.fullPassReason).toBe(session === 0 ? "no summary state" : undefined);
        const ops = 1 + Math.floor(r() * 8);
        for (let k = 0; k < ops; k++) {
          const ids = [...present];
          const x = r();
          if (x < 0.5 || ids.length === 0) {
            const id = `img-${String(fresh++).padStart(3, "0")}`;
            await updater.put(randomRecord(kind, id, r));
            present.add(id);
          } else if (x < 0.8) {
            // A replacement: also of a record written earlier in this same session.
            await updater.put(randomRecord(kind, ids[Math.floor(r() * ids.length)]!, r));
          } else {
            const id = ids[Math.floor(r() * ids.length)]!;
            await updater.remove(id);
            present.delete(id);
          }
        }
        const stats = await updater.commit();
        expect(stats.images.finished).toBe(present.size);
        expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));
        expect((await readCurrentState(dir, kind)).reason).toBeUndefined();
      }
      // Nothing is left behind: no side files of appended items.
      expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    }, 30_000);
  }

  it("records written at once (a run finishes several images together) are each counted", async () => {
    const r = rng(3);
    const dir = await newDataset("reasoning");
    const first = await SummaryUpdater.open(dir);
    await first.put(randomRecord("reasoning", "img-0", r));
    await first.commit();
    const u = await SummaryUpdater.open(dir);
    expect(u.fullPassReason).toBeUndefined();
    const records = Array.from({ length: 8 }, (_, k) => randomRecord("reasoning", `img-${k % 6}`, r));
    await Promise.all(records.map((rec) => u.put(rec)));
    const stats = await u.commit();
    expect(stats.images.finished).toBe(6);
    expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));
  });

  it("a summary of another process during a session (engine stats during a run) makes the session's a full pass", async () => {
    const r = rng(4);
    const dir = await newDataset("reasoning");
    const first = await SummaryUpdater.open(dir);
    for (let k = 0; k < 3; k++) await first.put(randomRecord("reasoning", `img-${k}`, r));
    await first.commit();
    const run = await SummaryUpdater.open(dir);
    await run.put(randomRecord("reasoning", "img-3", r));
    await summarizeDataset(dir); // the other process: a full pass (the run removed the saved totals), img-3 included
    await run.put(randomRecord("reasoning", "img-4", r));
    const stats = await run.commit();
    expect(run.fullPassReason).toBe("items.jsonl was rewritten during this session");
    expect(stats.images.finished).toBe(5);
    expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));
    // Every item once.
    const ids = (await readFile(join(dir, "items.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l).id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a current summary reads only the records that changed; `rebuild` reads them all", async () => {
    const r = rng(5);
    const dir = await newDataset("reasoning");
    const u = await SummaryUpdater.open(dir);
    for (let k = 0; k < 6; k++) await u.put(randomRecord("reasoning", `img-${k}`, r));
    const before = await u.commit();
    // A record spoiled in place (no rename: the records folder does not change) is not read by the next update...
    await writeFile(recordPath(dir, "img-2"), "{ not json");
    const next = await SummaryUpdater.open(dir);
    await next.put(randomRecord("reasoning", "img-9", r));
    const damaged: DamagedRecord[] = [];
    const updated = await next.commit({ onDamaged: (d) => damaged.push(d) });
    expect(damaged).toEqual([]);
    expect(updated.images.finished).toBe(before.images.finished + 1);
    // ...while a full pass reads every record, finds it and moves it aside.
    const rebuilt = await summarizeDataset(dir, { rebuild: true, onDamaged: (d) => damaged.push(d) });
    expect(damaged.map((d) => d.file)).toEqual([recordPath(dir, "img-2")]);
    expect(rebuilt.images.finished).toBe(before.images.finished);
  });

  it("a writer killed between a record and its count leaves no saved totals: the next summary is a full pass", async () => {
    const r = rng(7);
    const dir = await newDataset("reasoning");
    const u = await SummaryUpdater.open(dir);
    for (let k = 0; k < 4; k++) await u.put(randomRecord("reasoning", `img-${k}`, r));
    await u.commit();
    const recordFile = join(dir, "..", "record.json");
    // One new record and one replacement, then SIGKILL before the commit.
    await writeFile(recordFile, JSON.stringify([randomRecord("reasoning", "img-7", r), randomRecord("reasoning", "img-1", r)]));
    const child = `
      const [dir, file] = process.argv.slice(1);
      const { readFile } = await import("node:fs/promises");
      const { SummaryUpdater } = await import(${JSON.stringify(join(repoRoot, "dist/engine/summary.js"))});
      const u = await SummaryUpdater.open(dir);
      if (u.fullPassReason) throw new Error("not current: " + u.fullPassReason);
      for (const record of JSON.parse(await readFile(file, "utf8"))) await u.put(record);
      process.stdout.write("written\\n");
      setInterval(() => {}, 1000);
    `;
    const p = spawn(process.execPath, ["--input-type=module", "-e", child, dir, recordFile], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => p.on("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      p.stdout.on("data", (d: Buffer) => String(d).includes("written") && resolve());
      p.on("exit", () => reject(new Error(`the writer ended before it wrote: ${stderr}`)));
    });
    p.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    expect((await readCurrentState(dir, "reasoning")).reason).toBe("no summary state");
    const stats = await summarizeDataset(dir);
    expect(stats.images.finished).toBe(5);
    expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));
    // The full pass saved new totals: the next update starts from them.
    expect((await SummaryUpdater.open(dir)).fullPassReason).toBeUndefined();
    // The dead writer's side file is a temporary of a dead process (removed when a run next opens the dataset).
    expect((await readdir(dir)).filter((n) => /^\.items\.jsonl\.added\.\d+\.[0-9a-f]+\.tmp$/.test(n))).toHaveLength(1);
  });

  it("records changed by another writer (by hand, by a review) make the next summary a full pass", async () => {
    const r = rng(9);
    const dir = await newDataset("reasoning");
    const u = await SummaryUpdater.open(dir);
    for (let k = 0; k < 3; k++) await u.put(randomRecord("reasoning", `img-${k}`, r));
    await u.commit();

    // A record file added by hand (a moment later: file times are kept at the clock tick, a few milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeFile(recordPath(dir, "img-5"), JSON.stringify(randomRecord("reasoning", "img-5", r)));
    expect((await readCurrentState(dir, "reasoning")).reason).toBe("the records folder changed since the summary");
    expect((await summarizeDataset(dir)).images.finished).toBe(4);
    expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));

    // A review rejects an item.
    let itemId: string | undefined;
    for (const id of ["img-0", "img-1", "img-2", "img-5"]) {
      const rec = JSON.parse(await readFile(recordPath(dir, id), "utf8")) as ReasoningRecord;
      itemId ??= rec.items.find((i) => i.review?.status !== "rejected")?.id;
    }
    expect(itemId).toBeDefined();
    const basePairs = (await summarizeDataset(dir)).base_pairs;
    await reviewItem(dir, itemId!, { status: "rejected" });
    expect((await readCurrentState(dir, "reasoning")).reason).toBe("records were changed outside an engine run");
    expect((await summarizeDataset(dir)).base_pairs).toBe(basePairs - 1);
    expect(await summaryOf(dir)).toEqual(await rebuiltSummaryOf(dir));
    expect((await readCurrentState(dir, "reasoning")).reason).toBeUndefined();
  });
});
