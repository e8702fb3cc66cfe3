import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, resolveStage, validateConfig } from "./index.js";
import { createBackend } from "../stack/registry.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gear-seg-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("config", () => {
  it("finds gear-seg.config.yaml in the working folder; named backends carry their options; flags override", async () => {
    await writeFile(
      join(dir, "gear-seg.config.yaml"),
      ["describer: dam", "reasoner: {spec: 'openai:m@http://127.0.0.1:9/v1', apiKeyEnv: MY_KEY}", "backends:", "  dam:", "    spec: dam:http://127.0.0.1:9", "    concurrency: 2", "maxMasks: 3", "cache: {path: c.sqlite}"].join("\n"),
    );
    const config = (await loadConfig(undefined, dir))!;
    expect(config.stages.describer).toMatchObject({ name: "dam", spec: "dam:http://127.0.0.1:9", options: { concurrency: 2 } });
    expect(config.stages.describer!.source).toEqual({ where: `config "${join(dir, "gear-seg.config.yaml")}": backends.dam`, baseDir: dir });
    expect(config.maxMasks).toBe(3);
    expect(config.cache.path).toBe(join(dir, "c.sqlite"));
    expect(resolveStage(config, "describer", "dam:http://other:1")).toEqual({ spec: "dam:http://other:1", options: {} });
    expect(resolveStage(config, "describer", "dam")?.options).toEqual({ concurrency: 2 });
    expect(resolveStage(config, "segmenter", undefined)).toBeUndefined();
    expect(await loadConfig(undefined, join(dir, "nowhere"))).toBeUndefined();
  });

  it("says which key is wrong and what was expected", () => {
    const bad = (v: unknown) => () => validateConfig(v, "/x/gear-seg.config.json");
    expect(bad({ describr: "dam:x" })).toThrow(/unknown key "describr" \(known: segmenter, describer, captioner/);
    expect(bad({ describer: { concurrency: 2 } })).toThrow(/key "describer" must be a spec string such as "dam:http:\/\/localhost:8000", or an object with "spec"/);
    expect(bad({ reasoner: { spec: "openai:m@http://h/v1", apiKey: "sk-123" } })).toThrow(/"reasoner.apiKey": secrets are read only from the environment/);
    expect(bad({ reasoner: { spec: "openai:m@http://h/v1", apiKey: "sk-123" } })).not.toThrow(/sk-123/);
    expect(bad({ maxMasks: 0 })).toThrow(/key "maxMasks" must be an integer ≥ 1, got 0/);
    expect(bad({ maxMasks: "3" })).toThrow(/key "maxMasks" must be an integer ≥ 1, got "3"/);
    expect(bad({ cache: { enable: true } })).toThrow(/unknown key "cache.enable" \(known: enabled, path, maxBytes\)/);
  });

  it("backend options are validated by the backend, and keys come from the named environment variable", async () => {
    await expect(createBackend("reasoner", "openai:m@http://127.0.0.1:9/v1", { concurency: 2 })).rejects.toThrow(/unknown option "concurency"/);
    await expect(createBackend("reasoner", "openai:m@http://127.0.0.1:9/v1", { timeoutMs: "fast" })).rejects.toThrow(/option "timeoutMs" must be an integer ≥ 1, got "fast"/);
    await expect(createBackend("reasoner", "openai:m@http://127.0.0.1:9/v1", { timeoutMs: "100" })).rejects.toThrow(/option "timeoutMs" must be an integer ≥ 1, got "100"/);
    await expect(createBackend("reasoner", "openai:m@http://127.0.0.1:9/v1", { apiKeyEnv: "GEAR_SEG_TEST_UNSET_KEY" })).rejects.toThrow(/GEAR_SEG_TEST_UNSET_KEY.*is not set/);
  });

  it("reports a malformed file with its path", async () => {
    await writeFile(join(dir, "gear-seg.config.json"), "{ nope");
    await expect(loadConfig(undefined, dir)).rejects.toThrow(/gear-seg.config.json": not valid JSON/);
    await expect(loadConfig("missing.json", dir)).rejects.toThrow(/missing.json": file not found/);
  });
});

describe("config: the stage cache's size limit", () => {
  it("cache.maxBytes is a positive integer", () => {
    expect(validateConfig({ cache: { maxBytes: 1_000_000 } }, "/x/gear-seg.config.json").cache.maxBytes).toBe(1_000_000);
    expect(() => validateConfig({ cache: { maxBytes: 0 } }, "/x/gear-seg.config.json")).toThrow(/key "cache.maxBytes" must be an integer ≥ 1/);
  });
});
