// End-to-end tests of `gear-seg segment` and `gear-seg describe` through the built binary.
import { readFile, readdir, writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, samples, tempDir } from "./helpers/cli.js";

async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, "utf8"));
}

describe("segment replays the GEAR-Seg reference exactly", () => {
  for (const name of samples.names) {
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
      const result = await readJson(join(out, "result.json"));
      expect(result.mask.counts).toBe(answer.shapes[0].counts);
      expect(result.mask_ids).toEqual(answer.answer_mask_id.map(Number));
      expect(result.query).toBe(query);
      expect(result.mode).toBe("reasoning");
      expect(result.dropped_ids).toEqual([]);
      expect(result.regions.length).toBe((await readdir(samples.masks(name))).length);
      const descriptions = await readJson(samples.descriptions(name));
      expect(result.scene).toBe(descriptions.whole.des);
      for (const region of result.regions) expect(region.description).toBe(descriptions[String(region.id)].des);
      expect(Object.keys(result.timings)).toEqual(
        expect.arrayContaining(["segment_ms", "describe_ms", "reason_ms", "total_ms"]),
      );
      const files = (await readdir(out)).sort();
      expect(files).toEqual(["answer.json", "candidates.png", "descriptions.json", "mask.png", "overlay.png", "result.json"]);
      // The reference answer file we write equals the reference's own, field for field.
      const ours = await readJson(join(out, "answer.json"));
      expect(ours.answer_mask_id).toEqual(answer.answer_mask_id);
      expect(ours.shapes[0].counts).toBe(answer.shapes[0].counts);
      expect(await readJson(join(out, "descriptions.json"))).toEqual(descriptions);
    });
  }

  it("reports ids the reasoner invents and leaves them out of the mask", async () => {
    const name = samples.names[3]!;
    const dir = await tempDir();
    const answerFile = join(dir, "answer.json");
    await writeFile(answerFile, JSON.stringify({ answer_mask_id: ["0", "42", "0"], explanation: "x", text: ["q"] }));
    const out = join(dir, "out");
    const run = await runCli([
      "segment", samples.image(name), "q", "--out", out, "--quiet", "--json",
      "--segmenter", `masks:${samples.masks(name)}`, "--describer", "none", "--reasoner", `recorded:${answerFile}`,
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.mask_ids).toEqual([0]);
    expect(result.dropped_ids).toEqual([42]);
    expect(result.warnings.join(" ")).toContain("42");
    const reference = await readJson(samples.answer(name)); // its answer is mask 0 alone
    expect(result.mask.counts).toBe(reference.shapes[0].counts);
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
    const run = await runCli(["segment", samples.image(name), "the largest region", "--out", out, "--segmenter", `masks:${samples.masks(name)}`]);
    expect(run.code).toBe(0);
    const notice = run.stderr.split("\n").find((l) => l.startsWith("offline default"));
    expect(notice).toBe("offline default: attributes describer, WordNet reasoner (no models) — see README to plug in DAM and an LLM");
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

  it("empty image file", async () => {
    const dir = await tempDir();
    const img = join(dir, "empty.jpg");
    await writeFile(img, "");
    const out = join(dir, "out");
    await expectFailure(["segment", img, "q", "--out", out, ...stack(name)], 1, /empty\.jpg.*empty/, out);
  });

  it("truncated JPEG", async () => {
    const dir = await tempDir();
    const img = join(dir, "cut.jpg");
    const bytes = await readFile(samples.image(name));
    await writeFile(img, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const out = join(dir, "out");
    await expectFailure(["segment", img, "q", "--out", out, ...stack(name)], 1, /cut\.jpg.*(truncated|corrupt)/, out);
  });

  it("a file that is not an image", async () => {
    const dir = await tempDir();
    const img = join(dir, "notes.jpg");
    await writeFile(img, "these are not pixels\n".repeat(50));
    const out = join(dir, "out");
    await expectFailure(["segment", img, "q", "--out", out, ...stack(name)], 1, /notes\.jpg.*not an image/, out);
  });

  it("an image over the pixel limit", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(
      ["segment", samples.image(name), "q", "--out", out, "--max-pixels", "1000", ...stack(name)],
      1,
      /692198_ac99d18ac5_o\.jpg.*exceeds the limit/,
      out,
    );
  });

  it("an empty query is a usage error", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(["segment", samples.image(name), "  ", "--out", out, ...stack(name)], 2, /query is empty/, out);
  });

  it("no query at all is a usage error", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    await expectFailure(["segment", samples.image(name), "--out", out, ...stack(name)], 2, /give a query/, out);
  });

  it("an unknown backend is a usage error that lists the known ones", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    const args = ["segment", samples.image(name), "q", "--out", out, "--segmenter", "magic:x", "--quiet"];
    await expectFailure(args, 2, /unknown segmenter "magic".*known: .*masks/, out);
  });

  it("an output folder that cannot be written", async () => {
    const dir = await tempDir();
    const blocker = join(dir, "file");
    await writeFile(blocker, "x");
    const run = await runCli(["segment", samples.image(name), "q", "--out", join(blocker, "out"), ...stack(name)]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/cannot write to output folder .*file\/out/);
    expect(await readdir(dir)).toEqual(["file"]);
  });

  it("a mask folder whose masks do not fit the image", async () => {
    const dir = await tempDir();
    const other = samples.names[0]!;
    const out = join(dir, "out");
    await copyFile(samples.image(other), join(dir, "img.jpg"));
    await expectFailure(
      ["segment", join(dir, "img.jpg"), "q", "--out", out, ...stack(name)],
      1,
      /mask_\d+\.png" is \d+×\d+, the image is/,
      out,
    );
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
});
