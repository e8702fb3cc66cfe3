import { mkdtemp, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { area, decode, encode, toBbox } from "../masks/index.js";
import type { RgbImage } from "../image/types.js";
import { GearSeg } from "./agent.js";
import { dropNearDuplicates } from "./duplicates.js";
import type { Captioner, Describer, ReasonRequest, Reasoner, Region, Segmenter } from "./types.js";
import { SqliteStageCache } from "../cache/sqlite-cache.js";
import type { StageCache } from "./stage-cache.js";
import { encodePng } from "../image/index.js";

const W = 40;
const H = 30;
const image: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3), source: "synthetic" };
const tempDir = () => mkdtemp(join(tmpdir(), "gear-seg-agent-"));

/** A rectangle region [x0, x1) × [y0, y1). */
function rect(x0: number, y0: number, x1: number, y1: number, extra: Partial<Region> = {}): Region {
  const data = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * W + x] = 1;
  const rle = encode({ height: H, width: W, data });
  return { id: -1, rle, bbox: toBbox(rle), area: area(rle), ...extra };
}

class ListSegmenter implements Segmenter {
  readonly spec = "list";
  calls = 0;
  constructor(private readonly regions: Region[], readonly recorded = false) {}
  async segment(): Promise<Region[]> {
    this.calls++;
    return this.regions.map((r) => ({ ...r }));
  }
}

class IdDescriber implements Describer {
  readonly spec = "ids";
  calls = 0;
  async describe(_i: RgbImage, regions: readonly Region[]): Promise<string[]> {
    this.calls++;
    return regions.map((r) => `region of area ${r.area}`);
  }
}

class SceneCaptioner implements Captioner {
  readonly spec = "scene";
  async caption(): Promise<string> {
    return "a test scene";
  }
}

class FixedReasoner implements Reasoner {
  readonly spec = "fixed";
  last?: ReasonRequest;
  constructor(private readonly ids: number[]) {}
  async reason(request: ReasonRequest) {
    this.last = request;
    return { maskIds: this.ids, explanation: "because" };
  }
}

describe("dropNearDuplicates (GEAR-Seg's rule)", () => {
  it("drops the less stable of two masks that each cover > 99% of the other", () => {
    // 200 px and 202 px sharing 200: 200/202 = 0.990099 > 0.99 of the larger, 1.0 of the smaller.
    const a = rect(0, 0, 20, 10, { stabilityScore: 0.9 });
    const bigger = { ...rect(0, 0, 20, 10, { stabilityScore: 0.95 }) };
    const plus = rect(0, 0, 20, 10);
    const data = decode(plus.rle).data.slice();
    data[10 * W + 0] = 1;
    data[10 * W + 1] = 1;
    bigger.rle = encode({ height: H, width: W, data });
    bigger.area = area(bigger.rle);
    bigger.bbox = toBbox(bigger.rle);
    expect(bigger.area).toBe(202);
    const out = dropNearDuplicates([a, bigger], 0.99);
    expect(out).toHaveLength(1);
    expect(out[0]!.stabilityScore).toBe(0.95);
  });

  it("keeps a part inside a whole (each must cover the other)", () => {
    const whole = rect(0, 0, 20, 20, { stabilityScore: 0.99 });
    const part = rect(0, 0, 20, 19, { stabilityScore: 0.5 }); // 380/400 = 0.95 of the whole
    expect(dropNearDuplicates([whole, part], 0.99)).toHaveLength(2);
  });

  it("drops at just above the threshold and keeps at it", () => {
    const a = rect(0, 0, 10, 10, { stabilityScore: 1 }); // 100 px
    const b = rect(0, 0, 10, 10, { stabilityScore: 0.5 });
    // Identical: each covers 100% of the other.
    expect(dropNearDuplicates([a, b], 0.99)).toHaveLength(1);
    const c = rect(0, 0, 10, 9, { stabilityScore: 0.5 }); // 90/100
    expect(dropNearDuplicates([a, c], 0.9)).toHaveLength(2); // 0.9 is not > 0.9
    expect(dropNearDuplicates([a, c], 0.89)).toHaveLength(1);
  });
});

describe("GearSeg agent", () => {
  it("sorts by area, caps, numbers from 0, and unions the chosen masks", async () => {
    const small = rect(0, 0, 5, 5);
    const big = rect(10, 10, 40, 30);
    const mid = rect(0, 20, 10, 30);
    const segmenter = new ListSegmenter([small, big, mid]);
    const reasoner = new FixedReasoner([2, 1, 7, 1]);
    const agent = new GearSeg({ segmenter, describer: new IdDescriber(), captioner: new SceneCaptioner(), reasoner, maxRegions: 3 });
    const result = await agent.segment(image, "which?");
    const areas = result.prepared.regions.map((r) => r.area);
    expect(areas).toEqual([600, 100, 25]);
    expect(result.prepared.regions.map((r) => r.id)).toEqual([0, 1, 2]);
    expect(result.maskIds).toEqual([2, 1]);
    expect(result.droppedIds).toEqual([7]);
    expect(area(result.mask)).toBe(125);
    const union = decode(result.mask);
    expect(union.data[0]).toBe(1); // small square at the origin
    expect(union.data[25 * W + 5]).toBe(1); // the 10×10 square at the bottom left
    expect(reasoner.last!.regions.map((r) => r.description)).toEqual([
      "region of area 600",
      "region of area 100",
      "region of area 25",
    ]);
    expect(reasoner.last!.scene).toBe("a test scene");
  });

  it("keeps only the largest maxRegions", async () => {
    const agent = new GearSeg({
      segmenter: new ListSegmenter([rect(0, 0, 2, 2), rect(0, 0, 30, 30), rect(0, 0, 4, 4)]),
      reasoner: new FixedReasoner([]),
      maxRegions: 2,
    });
    const prepared = await agent.prepare(image);
    expect(prepared.regions.map((r) => r.area)).toEqual([900, 16]);
    expect(prepared.capDropped).toBe(1);
  });

  it("keeps recorded ids and order as given", async () => {
    const regions = [rect(0, 0, 2, 2, { id: 5 }), rect(0, 0, 30, 30, { id: 9 }), rect(0, 0, 2, 2, { id: 3 })];
    const agent = new GearSeg({ segmenter: new ListSegmenter(regions, true), reasoner: new FixedReasoner([9]) });
    const result = await agent.segment(image, "q");
    expect(result.prepared.regions.map((r) => r.id)).toEqual([5, 9, 3]);
    expect(result.prepared.duplicatesDropped).toBe(0);
    expect(area(result.mask)).toBe(900);
  });

  it("an empty answer gives an empty mask", async () => {
    const agent = new GearSeg({ segmenter: new ListSegmenter([rect(0, 0, 3, 3)]), reasoner: new FixedReasoner([]) });
    const result = await agent.segment(image, "nothing");
    expect(result.maskIds).toEqual([]);
    expect(area(result.mask)).toBe(0);
    expect(result.mask.height).toBe(H);
  });

  it("rejects an empty query and a segmenter mask of the wrong size", async () => {
    const agent = new GearSeg({ segmenter: new ListSegmenter([rect(0, 0, 3, 3)]), reasoner: new FixedReasoner([]) });
    await expect(agent.segment(image, "   ")).rejects.toThrow(/query is empty/);
    const wrong = { ...rect(0, 0, 3, 3), rle: encode({ height: 2, width: 2, data: new Uint8Array(4) }) };
    const bad = new GearSeg({ segmenter: new ListSegmenter([wrong]), reasoner: new FixedReasoner([]) });
    await expect(bad.prepare(image)).rejects.toThrow(/2×2 mask for a 30×40 image/);
  });

  it("reuses cached regions and descriptions: no segmenter or describer call the second time", async () => {
    const cache = new SqliteStageCache(join(await tempDir(), "c.sqlite"));
    const segmenter = new ListSegmenter([rect(0, 0, 5, 5), rect(10, 10, 20, 20)]);
    const describer = new IdDescriber();
    const agent = new GearSeg({ segmenter, describer, captioner: new SceneCaptioner(), reasoner: new FixedReasoner([0]), cache });
    const first = await agent.prepare(image);
    const second = await agent.prepare(image);
    expect(segmenter.calls).toBe(1);
    expect(describer.calls).toBe(1);
    expect(first.cache).toEqual({ regions: "miss", descriptions: "miss", caption: "miss" });
    expect(second.cache).toEqual({ regions: "hit", descriptions: "hit", caption: "hit" });
    expect(second.descriptions).toEqual(first.descriptions);
    expect(second.scene).toBe("a test scene");
    await agent.close();
  });
});

describe("the stage cache never serves another configuration's work (SQLite)", () => {
  const proposals = () => [rect(0, 0, 5, 5), rect(10, 10, 40, 30), rect(0, 20, 10, 30), rect(20, 0, 22, 2)];

  it("--max-regions 3, then the default, then 2: each run gets its own cut of the same proposals", async () => {
    const path = join(await tempDir(), "c.sqlite");
    const segmenter = new ListSegmenter(proposals());
    const run = async (maxRegions?: number) => {
      const agent = new GearSeg({ segmenter, describer: new IdDescriber(), reasoner: null, cache: new SqliteStageCache(path), maxRegions });
      const p = await agent.prepare(image);
      await agent.close();
      return p;
    };
    const three = await run(3);
    const all = await run();
    const two = await run(2);
    expect(three.regions.map((r) => r.area)).toEqual([600, 100, 25]);
    expect(all.regions.map((r) => r.area)).toEqual([600, 100, 25, 4]);
    expect(two.regions.map((r) => r.area)).toEqual([600, 100]);
    expect([three.capDropped, all.capDropped, two.capDropped]).toEqual([1, 0, 2]);
    expect(segmenter.calls).toBe(1);
    expect(all.cache.regions).toBe("hit");
    // Descriptions are keyed on the exact regions: each cut is described for itself.
    expect(all.descriptions).toEqual(["region of area 600", "region of area 100", "region of area 25", "region of area 4"]);
    expect(all.cache.descriptions).toBe("miss");
  });

  it("the duplicate rule runs on cached proposals too (another overlap, another result)", async () => {
    const path = join(await tempDir(), "c.sqlite");
    const a = rect(0, 0, 10, 10, { stabilityScore: 1 });
    const c = rect(0, 0, 10, 9, { stabilityScore: 0.5 }); // covers 90% of a
    const segmenter = new ListSegmenter([a, c]);
    const run = async (duplicateOverlap: number) => {
      const agent = new GearSeg({ segmenter, reasoner: null, cache: new SqliteStageCache(path), duplicateOverlap });
      const p = await agent.prepare(image);
      await agent.close();
      return p;
    };
    expect((await run(0.95)).regions).toHaveLength(2);
    expect((await run(0.85)).regions).toHaveLength(1);
    expect(segmenter.calls).toBe(1);
  });

  it("a failed caption keeps the finished descriptions; the next run pays only for the caption", async () => {
    const path = join(await tempDir(), "c.sqlite");
    const describer = new IdDescriber();
    let captionCalls = 0;
    const captioner: Captioner = {
      spec: "flaky",
      caption: async () => {
        if (++captionCalls === 1) throw new Error("vision server down");
        return "a scene";
      },
    };
    const run = async () => {
      const agent = new GearSeg({ segmenter: new ListSegmenter(proposals()), describer, captioner, reasoner: null, cache: new SqliteStageCache(path) });
      try {
        return await agent.prepare(image);
      } finally {
        await agent.close();
      }
    };
    await expect(run()).rejects.toThrow(/vision server down/);
    const second = await run();
    expect(describer.calls).toBe(1);
    expect(captionCalls).toBe(2);
    expect(second.cache).toEqual({ regions: "hit", descriptions: "hit", caption: "miss" });
    expect(second.scene).toBe("a scene");
  });

  it("a file seen before is not decoded again; a changed file is", async () => {
    const dir = await tempDir();
    const file = join(dir, "img.png");
    const pixels = new Uint8Array(W * H * 3).fill(90);
    await writeFile(file, await encodePng({ width: W, height: H, data: pixels }));
    const path = join(dir, "c.sqlite");
    const segmenter = new ListSegmenter(proposals());
    const run = async () => {
      const agent = new GearSeg({ segmenter, describer: new IdDescriber(), reasoner: new FixedReasoner([0]), cache: new SqliteStageCache(path) });
      const p = await agent.prepareLazily(file);
      const answer = await agent.ask(p, "q");
      await agent.close();
      return { p, answer };
    };
    const first = await run();
    expect(first.p.timings.decodeMs).toBeGreaterThan(0);
    const second = await run();
    expect(second.p.timings.decodeMs).toBe(0);
    expect(second.p.imageKey).toBe(first.p.imageKey);
    expect(second.answer.maskIds).toEqual([0]);
    // The pixels are still there on demand, and equal.
    expect(Buffer.from((await second.p.loadImage()).data).equals(Buffer.from(pixels))).toBe(true);
    expect(second.p.timings.decodeMs).toBeGreaterThan(0);
    // Other bytes (one pixel changed): another key, decoded again, segmented again.
    pixels[0] = 91;
    await writeFile(file, await encodePng({ width: W, height: H, data: pixels }));
    const third = await run();
    expect(third.p.imageKey).not.toBe(first.p.imageKey);
    expect(third.p.timings.decodeMs).toBeGreaterThan(0);
    expect(segmenter.calls).toBe(2);
  });

  it("a file the agent read before and that has not changed since (its stat) is not read again; a changed one is", async () => {
    const dir = await tempDir();
    const file = join(dir, "img.png");
    const pixels = new Uint8Array(W * H * 3).fill(70);
    const hourAgo = new Date(Date.now() - 3600_000);
    const write = async () => {
      await writeFile(file, await encodePng({ width: W, height: H, data: pixels }));
      await utimes(file, hourAgo, hourAgo); // not changed within the last seconds: its key may be remembered
    };
    await write();
    const segmenter = new ListSegmenter(proposals());
    const agent = new GearSeg({ segmenter, describer: new IdDescriber(), reasoner: new FixedReasoner([0]), cache: new SqliteStageCache(join(dir, "c.sqlite")) });
    const first = await agent.prepareLazily(file);
    const second = await agent.prepareLazily(file);
    expect(second.imageKey).toBe(first.imageKey);
    expect(second.timings.decodeMs).toBe(0);
    // Read on demand, checked against the key: the same pixels.
    expect(Buffer.from((await second.loadImage()).data).equals(Buffer.from(pixels))).toBe(true);
    // Other bytes with the same modification time: the size or change time tells, segmented again.
    pixels[0] = 71;
    await write();
    const third = await agent.prepareLazily(file);
    expect(third.imageKey).not.toBe(first.imageKey);
    expect(segmenter.calls).toBe(2);
    // Changed after the key was taken from memory and before its bytes were needed: refused, not mixed up.
    const fourth = await agent.prepareLazily(file);
    pixels[0] = 72;
    await writeFile(file, await encodePng({ width: W, height: H, data: pixels }));
    await expect(fourth.loadImage()).rejects.toThrow(/img\.png": it changed while it was being read/);
    await agent.close();
  });

  it("a second query on a file the agent prepared: not decoded, its stages read from memory, not the store", async () => {
    const dir = await tempDir();
    const file = join(dir, "img.png");
    await writeFile(file, await encodePng({ width: W, height: H, data: new Uint8Array(W * H * 3).fill(60) }));
    const store = new SqliteStageCache(join(dir, "c.sqlite"));
    const reads: string[] = [];
    const counting: StageCache = {
      getImage: (k) => (reads.push("image"), store.getImage(k)),
      putImage: (k, v) => store.putImage(k, v),
      getRegions: (k, s) => (reads.push("regions"), store.getRegions(k, s)),
      putRegions: (k, s, r) => store.putRegions(k, s, r),
      getDescriptions: (k, d) => (reads.push("descriptions"), store.getDescriptions(k, d)),
      putDescriptions: (k, d, v) => store.putDescriptions(k, d, v),
      getCaption: (k, c) => (reads.push("caption"), store.getCaption(k, c)),
      putCaption: (k, c, v) => store.putCaption(k, c, v),
    };
    const segmenter = new ListSegmenter(proposals());
    const reasoner = new FixedReasoner([1]);
    const agent = new GearSeg({ segmenter, describer: new IdDescriber(), captioner: new SceneCaptioner(), reasoner, cache: counting });
    const first = await agent.segment(file, "first");
    first.prepared.regions.reverse(); // a caller's change to its list must not reach the next query
    reads.length = 0;
    const second = await agent.segment(file, "second");
    expect(reads).toEqual([]);
    expect(second.prepared.timings.decodeMs).toBe(0);
    expect(second.prepared.cache).toEqual({ regions: "hit", descriptions: "hit", caption: "hit" });
    expect(second.prepared.regions.map((r) => r.id)).toEqual([0, 1, 2, 3]);
    expect(second.prepared.descriptions).toEqual(first.prepared.descriptions);
    expect(reasoner.last!.scene).toBe("a test scene");
    expect(second.mask).toEqual(second.prepared.regions[1]!.rle);
    expect(segmenter.calls).toBe(1);
    await agent.close();
    // Another agent on the same store reads it (the memory is the agent's own).
    const other = new GearSeg({ segmenter, describer: new IdDescriber(), captioner: new SceneCaptioner(), reasoner, cache: counting });
    reads.length = 0;
    await other.segment(file, "third");
    expect(reads).toEqual(["image", "regions", "descriptions", "caption"]);
    await other.close();
    await store.close();
  });

  it("the pixel limit holds for a file the cache knows", async () => {
    const dir = await tempDir();
    const file = join(dir, "img.png");
    await writeFile(file, await encodePng({ width: W, height: H, data: new Uint8Array(W * H * 3) }));
    const path = join(dir, "c.sqlite");
    const agent = new GearSeg({ segmenter: new ListSegmenter(proposals()), reasoner: null, cache: new SqliteStageCache(path) });
    await agent.prepare(file);
    await agent.close();
    const limited = new GearSeg({ segmenter: new ListSegmenter(proposals()), reasoner: null, cache: new SqliteStageCache(path), maxPixels: 100 });
    await expect(limited.prepareLazily(file)).rejects.toThrow(/img\.png.*exceeds the limit/);
    await limited.close();
  });
});

describe("server checks (checkServers)", () => {
  const proposals = () => [rect(0, 0, 5, 5), rect(10, 10, 40, 30)];
  /** Records the order of checks and stage calls, as a backend behind a server would see them. */
  const served = (log: string[]) => {
    const check = (name: string) => async () => void log.push(`check ${name}`);
    const describer: Describer = { spec: "d", check: check("describer"), describe: async (_i, rs) => (log.push("describe"), rs.map(() => "a region")) };
    let captionFails = true;
    const captioner: Captioner = {
      spec: "c",
      check: check("captioner"),
      caption: async () => {
        log.push("caption");
        if (captionFails) throw new Error("caption failed");
        return "a scene";
      },
    };
    const reasoner: Reasoner = { spec: "r", check: check("reasoner"), reason: async () => (log.push("reason"), { maskIds: [0], explanation: "" }) };
    return { describer, captioner, reasoner, captionWorks: () => void (captionFails = false) };
  };

  it("checks a server once, before its stage and the slow stages ahead of it; never for a stage the cache holds", async () => {
    const path = join(await tempDir(), "c.sqlite");
    const log: string[] = [];
    const b = served(log);
    const agent = (checkServers = true) => new GearSeg({ segmenter: new ListSegmenter(proposals()), ...b, cache: new SqliteStageCache(path), checkServers });

    const first = agent();
    await expect(first.prepare(image)).rejects.toThrow(/caption failed/);
    expect(log).toEqual(["check describer", "check captioner", "check reasoner", "describe", "caption"]);
    b.captionWorks();
    const p = await first.prepare(image);
    await first.ask(p, "q");
    await first.ask(p, "q");
    await first.close();
    // Once per agent: only the caption ran again (its descriptions were kept), and nothing was checked again.
    expect(log.slice(5)).toEqual(["caption", "reason", "reason"]);

    log.length = 0;
    const second = agent();
    await second.ask(await second.prepare(image), "q");
    await second.close();
    expect(log).toEqual(["check reasoner", "reason"]); // every stage of preparation came from the cache

    log.length = 0;
    const unchecked = agent(false);
    await unchecked.ask(await unchecked.prepare(image), "q");
    await unchecked.close();
    expect(log).toEqual(["reason"]);
  });
});
