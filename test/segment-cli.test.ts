// Smoke runs of `gear-seg segment` and `gear-seg describe` through the built binary: the README's replay of the
// reference, one failure and one usage error (one line, exit code, nothing written), and describe. The same
// behaviour on every sample and every kind of bad input is tested through the library (segment-library.test.ts,
// src/image/decode.test.ts, src/pipeline/agent.test.ts).
import { existsSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, samples, tempDir } from "./helpers/cli.js";

async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, "utf8"));
}

describe("segment replays the GEAR-Seg reference exactly", () => {
  const name = "4537339_3d8e488294_o"; // the README's example
  it(`reproduces the reference answer mask for ${name}`, async () => {
    const out = await tempDir();
    const answer = await readJson(samples.answer(name));
    const query = answer.text[0];
    const run = await runCli([
      "segment",
      samples.image(name),
      query,
      "--out",
      out,
      "--segmenter",
      `masks:${samples.masks(name)}`,
      "--describer",
      `recorded:${samples.descriptions(name)}`,
      "--reasoner",
      `recorded:${samples.answer(name)}`,
      "--reference",
      "--quiet",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // The files' contents are segment-library.test.ts's; here: the command wrote them, with the answer.
    const result = await readJson(join(out, "result.json"));
    expect(result.mask.counts).toBe(answer.shapes[0].counts);
    expect(result.query).toBe(query);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(["answer.json", "candidates.png", "descriptions.json", "mask.png", "overlay.png", "result.json"]);
    expect((await readJson(join(out, "answer.json"))).shapes[0].counts).toBe(answer.shapes[0].counts);
  });
});

describe("pictures and result size options", () => {
  const name = samples.names[3]!;
  const stack = [
    "--segmenter", `masks:${samples.masks(name)}`,
    "--describer", `recorded:${samples.descriptions(name)}`,
    "--reasoner", `recorded:${samples.answer(name)}`,
    "--quiet",
  ];

  it("--image-format jpg writes JPEG pictures; --no-region-masks leaves the region RLEs out of result.json", async () => {
    const out = await tempDir();
    const run = await runCli(["segment", samples.image(name), "q", "--out", out, "--image-format", "jpg", "--no-region-masks", ...stack]);
    expect(run.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["candidates.jpg", "mask.png", "overlay.jpg", "result.json"]);
    expect(run.stdout).toContain("{result.json,mask.png,overlay.jpg,candidates.jpg}");
    for (const file of ["overlay.jpg", "candidates.jpg"]) expect([...(await readFile(join(out, file))).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const result = await readJson(join(out, "result.json"));
    expect(result.regions.length).toBe(3);
    for (const r of result.regions) {
      expect(r.segmentation).toBeUndefined();
      expect(r.bbox).toHaveLength(4);
    }
    expect(result.mask.counts).toBe((await readJson(samples.answer(name))).shapes[0].counts); // the answer itself stays

    // A folder holding a picture a jpg run would write is refused, and the picture stays as it was.
    const mine = await tempDir();
    await writeFile(join(mine, "candidates.jpg"), "my own picture");
    const refused = await runCli(["segment", samples.image(name), "q", "--out", mine, "--image-format", "jpg", ...stack]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`gear-seg: output folder "${mine}" already holds results (candidates.jpg): pass --overwrite to replace them, or choose another --out\n`);
    expect(await readdir(mine)).toEqual(["candidates.jpg"]);
    expect(await readFile(join(mine, "candidates.jpg"), "utf8")).toBe("my own picture");
  });

  it("with several queries, --image-format jpg names the shared candidates and every overlay .jpg", async () => {
    const out = await tempDir();
    const run = await runCli(["segment", samples.image(name), "-q", "first", "-q", "second", "--out", out, "--image-format", "jpg", ...stack]);
    expect(run.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["01-first", "02-second", "candidates.jpg"]);
    for (const dir of ["01-first", "02-second"]) expect((await readdir(join(out, dir))).sort()).toEqual(["mask.png", "overlay.jpg", "result.json"]);
  });

  it("a query of 100,000 characters gives an overlay of ordinary size, its caption cut", async () => {
    const out = await tempDir();
    const query = "is there anything soft to lie on ".repeat(3100).slice(0, 100_000);
    const run = await runCli(["segment", samples.image(name), query, "--out", out, ...stack]);
    expect(run.code).toBe(0);
    const overlay = await readFile(join(out, "overlay.png"));
    // PNG header: width at byte 16, height at 20. The photo is 400 × 299; the band holds at most 5 lines.
    expect(overlay.readUInt32BE(16)).toBe(400);
    expect(overlay.readUInt32BE(20)).toBeLessThan(299 + 80);
    expect((await readJson(join(out, "result.json"))).query).toBe(query); // the result keeps the whole query
  });

  it("the offline-default notice names only the defaults in use", async () => {
    const out = await tempDir();
    const args = ["segment", samples.image(name), "the largest region", "--out", out, "--segmenter", `masks:${samples.masks(name)}`, "--detector", "none"];
    const run = await runCli(args);
    expect(run.code).toBe(0);
    const notice = run.stderr.split("\n").find((l) => l.startsWith("offline default"));
    expect(notice).toBe("offline default: attributes describer, WordNet reasoner — see README to plug in DAM and an LLM");
  });

  it("an unknown picture format is a usage error and writes nothing", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    const run = await runCli(["segment", samples.image(name), "q", "--out", out, "--image-format", "gif", ...stack]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^gear-seg: .*--image-format must be "png" or "jpg", got "gif"$/);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });
});

describe("bad input: one line, non-zero exit, nothing written", () => {
  const stack = (name: string) => [
    "--segmenter", `masks:${samples.masks(name)}`,
    "--describer", `recorded:${samples.descriptions(name)}`,
    "--reasoner", `recorded:${samples.answer(name)}`,
    "--quiet",
  ];
  const name = samples.names[3]!;

  async function expectFailure(args: string[], code: number, pattern: RegExp, out: string) {
    const run = await runCli(args);
    expect(run.code).toBe(code);
    const lines = run.stderr.trim().split("\n");
    // Our own errors are one line; commander's parse errors add a one-line hint.
    expect(lines).toHaveLength(run.stderr.startsWith("gear-seg:") ? 1 : 2);
    expect(lines[0]).toMatch(pattern);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  }

  it("missing image", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(["segment", join(dir, "nope.jpg"), "q", "--out", out, ...stack(name)], 1, /nope\.jpg.*not found/, out);
  });

  it("an image over the pixel limit: the library's option is named as the CLI's flag", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(["segment", samples.image(name), "q", "--out", out, "--max-pixels", "1000", ...stack(name)], 1, /^gear-seg: cannot read image ".*": 400×299 = 119600 pixels exceeds the limit of 1000 pixels \(raise it with --max-pixels\)$/, out);
  });

  it("no query at all is a usage error", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(["segment", samples.image(name), "--out", out, ...stack(name)], 2, /give a query/, out);
  });
});

describe("describe", () => {
  it("lists regions with their recorded descriptions", async () => {
    const name = samples.names[3]!;
    const run = await runCli([
      "describe", samples.image(name), "--json", "--quiet",
      "--segmenter", `masks:${samples.masks(name)}`, "--describer", `recorded:${samples.descriptions(name)}`,
    ]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    const descriptions = await readJson(samples.descriptions(name));
    expect(json.regions.map((r: any) => r.id)).toEqual([0, 1, 2]);
    expect(json.regions.map((r: any) => r.description)).toEqual([0, 1, 2].map((i) => descriptions[String(i)].des));
    expect(json.scene).toBe(descriptions.whole.des);
  });

  it("--out writes regions.json and the candidates picture in the format asked for", async () => {
    const name = samples.names[3]!;
    const out = join(await tempDir(), "described");
    const args = ["describe", samples.image(name), "--quiet", "--segmenter", `masks:${samples.masks(name)}`, "--describer", `recorded:${samples.descriptions(name)}`];
    const refused = await runCli([...args, "--out", out, "--image-format", "gif"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('gear-seg: --image-format must be "png" or "jpg", got "gif"');
    expect(existsSync(out)).toBe(false);
    const run = await runCli([...args, "--out", out, "--image-format", "jpeg"]);
    expect(run.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(["candidates.jpg", "regions.json"]);
    expect([...(await readFile(join(out, "candidates.jpg"))).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect((await readJson(join(out, "regions.json"))).regions).toHaveLength(3);
  });
});
