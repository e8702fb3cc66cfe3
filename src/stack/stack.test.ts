import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStageCache } from "../cache/sqlite-cache.js";
import { runConfigurationFingerprint } from "../eval/run.js";
import { segmentRunManifest } from "../pipeline/batch.js";
import { samples } from "../../test/helpers/paths.js";
import type { BackendOptions } from "./registry.js";
import { createStack, OFFLINE_DEFAULT_NOTICE, offlineDefaultNotice } from "./stack.js";

describe("offlineDefaultNotice", () => {
  it("names only the stages that fell back to the offline default", () => {
    expect(OFFLINE_DEFAULT_NOTICE).toBe(
      "offline default: classic segmenter, attributes describer, WordNet reasoner, NanoDet-g object detector (COCO classes) — see README to plug in SAM 2, DAM and an LLM",
    );
    expect(offlineDefaultNotice(["describer", "reasoner"])).toBe(
      "offline default: attributes describer, WordNet reasoner — see README to plug in DAM and an LLM",
    );
    expect(offlineDefaultNotice(["reasoner"])).toBe("offline default: WordNet reasoner — see README to plug in an LLM");
    expect(offlineDefaultNotice(["detector"])).toBe("offline default: NanoDet-g object detector (COCO classes)");
  });
});

describe("fingerprints cover every option that shapes an answer", () => {
  const masks = `masks:${samples.masks("692198_ac99d18ac5_o")}`;
  const fingerprints = async (reasoner: string, options: BackendOptions = {}) => {
    await using stack = await createStack({ segmenter: masks, describer: "none", reasoner }, { backendOptions: { reasoner: options } });
    return {
      reasoner: stack.agent.reasoner!.fingerprint,
      agent: stack.agent.fingerprint,
      run: runConfigurationFingerprint(stack.agent).fingerprint,
      batch: segmentRunManifest(stack.agent, ["q"], "reasoning").fingerprint,
    };
  };

  it("a reasoner's options (temperature, the prompt's geometry lines, the selection rule) change the run and batch fingerprints", async () => {
    const llm = "openai:m@http://127.0.0.1:9/v1"; // never called: building a reasoner makes no request
    const base = await fingerprints(llm);
    expect(await fingerprints(llm)).toEqual(base);
    for (const changed of [await fingerprints(llm, { temperature: 0.7 }), await fingerprints(llm, { geometry: true }), await fingerprints("openai:m2@http://127.0.0.1:9/v1")]) {
      expect(changed.reasoner).not.toBe(base.reasoner);
      expect(changed.agent).not.toBe(base.agent);
      expect(changed.run).not.toBe(base.run);
      expect(changed.batch).not.toBe(base.batch);
    }
    const wordnet = await fingerprints("wordnet");
    expect((await fingerprints("wordnet", { ratio: 0.5 })).run).not.toBe(wordnet.run);
  });
});

describe("descriptions made with a detector (SQLite cache)", () => {
  it("go stale when the detector's options change: the describer's and captioner's fingerprints carry the detector's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gear-seg-stack-"));
    const path = join(dir, "cache.sqlite");
    const name = "692198_ac99d18ac5_o"; // a dog on a rug: NanoDet finds the dog at about 0.8
    const prepare = async (detector: string) => {
      await using stack = await createStack(
        { segmenter: `masks:${samples.masks(name)}`, describer: "attributes", reasoner: "none", detector },
        { cache: new SqliteStageCache(path) },
      );
      const { describer, captioner } = stack.agent;
      expect(describer!.fingerprint).toContain(stack.detector!.fingerprint!);
      expect(captioner!.fingerprint).toContain(stack.detector!.fingerprint!);
      const p = await stack.agent.prepare(samples.image(name));
      return { cache: p.cache, text: [...p.descriptions, p.scene].join("\n") };
    };
    try {
      const first = await prepare("nanodet");
      expect(first.cache).toEqual({ regions: "miss", descriptions: "miss", caption: "miss" });
      expect(first.text).toMatch(/\bdog\b/);
      expect((await prepare("nanodet")).cache).toEqual({ regions: "hit", descriptions: "hit", caption: "hit" });
      // No detection passes 0.95: the dog is no longer named, and the cache must not say otherwise.
      const strict = await prepare("nanodet:scoreThreshold=0.95");
      expect(strict.cache).toEqual({ regions: "hit", descriptions: "miss", caption: "miss" });
      expect(strict.text).not.toMatch(/\bdog\b/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
