// Describe once, ask many: a second run on the same image, through a fresh agent and a reopened cache, makes
// no segmenter or describer call; a corrupt entry is recomputed, never returned.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStageCache } from "../src/cache/sqlite-cache.js";
import { createStack } from "../src/stack/stack.js";
import { startDamServer } from "./helpers/dam-server.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { samples } from "./helpers/cli.js";

const name = "692198_ac99d18ac5_o";
let dam: Awaited<ReturnType<typeof startDamServer>>;
let llm: Awaited<ReturnType<typeof startOpenAiServer>>;
let dir: string;
beforeAll(async () => {
  dam = await startDamServer();
  llm = await startOpenAiServer();
  dir = await mkdtemp(join(tmpdir(), "gear-seg-http-cache-"));
});
afterAll(async () => {
  await dam.server.stop();
  await llm.server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function agent() {
  const { agent } = await createStack(
    { segmenter: `masks:${samples.masks(name)}`, describer: `dam:${dam.url}`, captioner: `openai-vision:v@${llm.url}`, reasoner: `openai:m@${llm.url}` },
    { cache: new SqliteStageCache(join(dir, "cache.sqlite")) },
  );
  return agent;
}

describe("stage cache over HTTP backends", () => {
  it("the second run on the same image makes no describer call", async () => {
    const first = await agent();
    const p1 = await first.prepare(samples.image(name));
    await first.ask(p1, "a soft surface for the dog");
    await first.close();
    expect(p1.cache).toEqual({ regions: "miss", descriptions: "miss", caption: "miss" });
    const damCalls = dam.server.count("/chat/completions");
    const visionCalls = llm.images.length;
    expect(damCalls).toBe(p1.regions.length);
    expect(visionCalls).toBe(1);

    const second = await agent();
    const p2 = await second.prepare(samples.image(name));
    const r2 = await second.ask(p2, "where could the dog sleep?");
    await second.close();
    expect(p2.cache).toEqual({ regions: "hit", descriptions: "hit", caption: "hit" });
    expect(dam.server.count("/chat/completions")).toBe(damCalls);
    expect(llm.images.length).toBe(visionCalls);
    expect(p2.descriptions).toEqual(p1.descriptions);
    expect(p2.scene).toBe(p1.scene);
    expect(r2.query).toBe("where could the dog sleep?");
  });

  it("a corrupt descriptions entry is recomputed", async () => {
    const raw = new Database(join(dir, "cache.sqlite"));
    raw.prepare("UPDATE entries SET value = CAST(replace(CAST(value AS TEXT), 'A region', 'B region') AS BLOB) WHERE stage = 'descriptions'").run();
    raw.close();
    const before = dam.server.count("/chat/completions");
    const a = await agent();
    const p = await a.prepare(samples.image(name));
    await a.close();
    expect(p.cache).toEqual({ regions: "hit", descriptions: "miss", caption: "hit" });
    expect(p.descriptions.every((d) => d.startsWith("A region"))).toBe(true);
    expect(dam.server.count("/chat/completions")).toBe(before + p.regions.length);
  });
});
