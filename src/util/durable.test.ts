import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appendDurable, writeJsonDurable } from "./durable.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "gear-seg-durable-"));
  dirs.push(d);
  return d;
};

describe("durable writes", () => {
  it("appendDurable creates the log and its folder, then appends whole lines, concurrent appends included", async () => {
    const log = join(await tempDir(), "sub", "review.jsonl");
    await appendDurable(log, '{"n":0}\n');
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendDurable(log, JSON.stringify({ n: i + 1, pad: "x".repeat(200) }) + "\n")));
    const lines = (await readFile(log, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ n: 0 });
    expect(lines.map((l) => l.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it("writeJsonDurable replaces the file whole and leaves no temporary file", async () => {
    const dir = await tempDir();
    await writeJsonDurable(join(dir, "r.json"), { a: 1 });
    await writeJsonDurable(join(dir, "r.json"), { a: 2 });
    expect(await readFile(join(dir, "r.json"), "utf8")).toBe('{"a":2}\n');
    expect(await readdir(dir)).toEqual(["r.json"]);
  });
});
