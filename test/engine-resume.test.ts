// Crash safety of `gear-seg engine generate` through the built CLI: a run killed in the middle (SIGKILL) and
// resumed loses nothing and duplicates nothing (its items equal those of an uninterrupted run); a run stopped
// with Ctrl-C (SIGINT) leaves a consistent dataset and exits 130.
import { spawn } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiServer, type OpenAiServer } from "./helpers/openai-server.js";
import { cliPath, runCli, samples, tempDir } from "./helpers/cli.js";

const recorded = join(samples.root, "outputs/reasonseg_task/ReasonSeg_val");
// The two small samples (640 × 480 and 400 × 299): crash safety is under test, not the work on big pictures.
const stems = ["4220420_7397afecdb_o", "692198_ac99d18ac5_o"];
let root: string;
let server: OpenAiServer;
const names: string[] = [];

const reply = JSON.stringify({
  items: [
    {
      reasoning_type: "commonsense",
      questions: ["What covers most of this picture?", "Which thing fills the view?", "What is the biggest thing here?", "What dominates the scene?", "Which area takes up the most room?"],
      explanation: "It is the largest region. It fills the frame.",
      answer_labels: ["background"],
      answer_mask_ids: [0],
      confidence: 9,
    },
  ],
});

beforeAll(async () => {
  root = await tempDir("gear-seg-resume-");
  await mkdir(join(root, "images"));
  await mkdir(join(root, "masks"));
  await mkdir(join(root, "desc"));
  for (let k = 0; k < 6; k++) {
    for (const stem of stems) {
      const name = `${stem}_copy${k}`;
      names.push(name);
      await copyFile(samples.image(stem), join(root, "images", `${name}.jpg`));
      await symlink(join(recorded, "sam/masks", stem), join(root, "masks", name));
      await symlink(join(recorded, "dam/descriptions", `${stem}.json`), join(root, "desc", `${name}.json`));
    }
  }
  // Slow enough that a kill lands in the middle of the run.
  server = await startOpenAiServer({ answer: async () => {
    await new Promise((r) => setTimeout(r, 250));
    return reply;
  }, servedModel: (m) => `${m}-served` });
});

afterAll(async () => {
  await server?.close();
});

const args = (out: string) => [
  "engine",
  "generate",
  join(root, "images"),
  "--out",
  out,
  "--segmenter",
  `masks:${join(root, "masks")}/{stem}`,
  "--describer",
  `recorded:${join(root, "desc")}/{stem}.json`,
  "--llm",
  `openai:m@${server.url}`,
  "--concurrency",
  "2",
  "--seed",
  "3",
  "--quiet",
];

async function countRecords(out: string): Promise<number> {
  return (await readdir(join(out, "records")).catch(() => [] as string[])).filter((n) => n.endsWith(".json") && !n.startsWith(".")).length;
}

/** Starts the CLI and sends `signal` once `records` images are finished; resolves with the exit code. */
function runAndStop(out: string, records: number, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args(out)], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    const timer = setInterval(async () => {
      if ((await countRecords(out)) >= records) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 20);
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, stderr });
    });
  });
}

const itemsOf = async (out: string) => (await readFile(join(out, "items.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));

describe("engine generate survives crashes", () => {
  it("a killed run, resumed, equals an uninterrupted run", async () => {
    const clean = join(root, "clean");
    const full = await runCli(args(clean));
    expect(full.stderr).toBe("");
    expect(full.code).toBe(0);
    const expected = await itemsOf(clean);
    expect(expected).toHaveLength(names.length);

    const crashed = join(root, "crashed");
    const killed = await runAndStop(crashed, 3, "SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    const done = await countRecords(crashed);
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(names.length);

    const before = server.requests.length;
    const resumed = await runCli(args(crashed));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`${names.length - done} images done now, ${done} already done, 0 failed`));
    // Only the unfinished images went to the LLM again (an image in flight at the kill counts as unfinished).
    expect(server.requests.length - before).toBe(names.length - done);
    const got = await itemsOf(crashed);
    expect(got.map((i) => i.id)).toEqual(expected.map((i) => i.id));
    expect(new Set(got.map((i) => i.id)).size).toBe(names.length);
    expect(got).toEqual(expected);
    const manifest = JSON.parse(await readFile(join(crashed, "manifest.json"), "utf8"));
    expect(manifest.counts).toMatchObject({ images: names.length, items: names.length, failed: 0, pending: 0 });
    // `engine stats` answers from the saved totals; `--rebuild` reads every record: the same numbers.
    const saved = await runCli(["engine", "stats", crashed]);
    const rebuilt = await runCli(["engine", "stats", crashed, "--rebuild"]);
    expect([saved.code, rebuilt.code, rebuilt.stderr]).toEqual([0, 0, ""]);
    expect(JSON.parse(saved.stdout)).toEqual(JSON.parse(rebuilt.stdout));
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ images: { finished: names.length }, base_pairs: names.length });
  });

  it("Ctrl-C stops the run with a consistent dataset and exit code 130", async () => {
    const out = join(root, "interrupted");
    const stopped = await runAndStop(out, 2, "SIGINT");
    expect(stopped.code).toBe(130);
    // Says what really happens to the calls in flight.
    expect(stopped.stderr).toMatch(/calls in flight are cancelled and their images stay pending/);
    const records = await countRecords(out);
    expect(records).toBeLessThan(names.length);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest.counts.images).toBe(records);
    expect(manifest.counts.images + manifest.counts.pending).toBe(names.length);
    expect(await itemsOf(out)).toHaveLength(records);
    const stats = JSON.parse(await readFile(join(out, "stats.json"), "utf8"));
    expect(stats.base_pairs).toBe(records);
  });
});
