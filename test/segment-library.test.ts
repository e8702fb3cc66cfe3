// What `gear-seg segment` does, through the library it calls (the CLI's own runs are in segment-cli.test.ts):
// the GEAR-Seg reference replayed exactly on every sample, the files written, ids the reasoner invents, and
// the errors that bad input gets before any work is done.
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureWritableDir } from "../src/cli/output-dir.js";
import { answerQueries } from "../src/pipeline/answers.js";
import { plannedOutputFiles } from "../src/pipeline/outputs.js";
import { createBackend, createStack, resultToJson, toReferenceAnswer, toReferenceDescriptions, writeSegmentationOutputs } from "../src/index.js";
import { loadImage } from "../src/image/index.js";
import { samples, tempDir } from "./helpers/cli.js";

async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, "utf8"));
}

const recordedStack = (name: string, answerFile = samples.answer(name)) =>
  createStack({ segmenter: `masks:${samples.masks(name)}`, describer: `recorded:${samples.descriptions(name)}`, reasoner: `recorded:${answerFile}` });

describe("segment replays the GEAR-Seg reference exactly", () => {
  for (const name of samples.names) {
    it(`reproduces the reference answer mask for ${name}`, async () => {
      const answer = await readJson(samples.answer(name));
      const descriptions = await readJson(samples.descriptions(name));
      const query = answer.text[0];
      const { agent } = await recordedStack(name);
      try {
        const prepared = await agent.prepare(samples.image(name));
        const result = await agent.ask(prepared, query);
        const json = resultToJson(result);
        expect(json.mask.counts).toBe(answer.shapes[0].counts);
        expect(json.mask_ids).toEqual(answer.answer_mask_id.map(Number));
        expect(json.query).toBe(query);
        expect(json.mode).toBe("reasoning");
        expect(json.dropped_ids).toEqual([]);
        expect(json.regions.length).toBe((await readdir(samples.masks(name))).length);
        expect(json.scene).toBe(descriptions.whole.des);
        for (const region of json.regions) expect(region.description).toBe(descriptions[String(region.id)].des);
        expect(Object.keys(json.timings)).toEqual(expect.arrayContaining(["segment_ms", "describe_ms", "reason_ms", "total_ms"]));
        // The reference's own files, field for field.
        const ours = toReferenceAnswer(result, `${name}.jpg`);
        expect(ours.answer_mask_id).toEqual(answer.answer_mask_id);
        expect(ours.shapes[0]!.counts).toBe(answer.shapes[0].counts);
        expect(toReferenceDescriptions(prepared)).toEqual(descriptions);
        if (name === samples.names[3]) {
          // The files, written once (rendering 100 regions' pictures per sample would add nothing here).
          const out = await tempDir();
          await writeSegmentationOutputs(out, result, prepared.image, { reference: true });
          expect((await readdir(out)).sort()).toEqual(["answer.json", "candidates.png", "descriptions.json", "mask.png", "overlay.png", "result.json"]);
          expect(await readJson(join(out, "result.json"))).toEqual(JSON.parse(JSON.stringify(json)));
          expect(await readJson(join(out, "answer.json"))).toEqual(JSON.parse(JSON.stringify(ours)));
          expect(await readJson(join(out, "descriptions.json"))).toEqual(descriptions);
        }
      } finally {
        await agent.close();
      }
    });
  }

  it("reports ids the reasoner invents and leaves them out of the mask", async () => {
    const name = samples.names[3]!;
    const answerFile = join(await tempDir(), "answer.json");
    await writeFile(answerFile, JSON.stringify({ answer_mask_id: ["0", "42", "0"], explanation: "x", text: ["q"] }));
    const { agent } = await createStack({ segmenter: `masks:${samples.masks(name)}`, describer: "none", reasoner: `recorded:${answerFile}` });
    try {
      const result = resultToJson(await agent.segment(samples.image(name), "q"));
      expect(result.mask_ids).toEqual([0]);
      expect(result.dropped_ids).toEqual([42]);
      expect(result.warnings.join(" ")).toContain("42");
      const reference = await readJson(samples.answer(name)); // its answer is mask 0 alone
      expect(result.mask.counts).toBe(reference.shapes[0].counts);
    } finally {
      await agent.close();
    }
  });
});

// Bad images (missing, empty, truncated, not an image, over the pixel limit) are src/image/decode.test.ts's,
// an empty query src/pipeline/agent.test.ts's; the CLI's one-line messages and exit codes segment-cli.test.ts's.
describe("bad input is refused before any work", () => {
  it("an unknown backend names the known ones", async () => {
    await expect(createBackend("segmenter", "magic:x")).rejects.toThrow(/unknown segmenter "magic".*known: .*masks/);
  });

  it("an output folder that cannot be written", async () => {
    const dir = await tempDir();
    const blocker = join(dir, "file");
    await writeFile(blocker, "x");
    await expect(ensureWritableDir(join(blocker, "out"))).rejects.toThrow(/cannot write to output folder .*file\/out.*: a file is in the way/);
    expect(await readdir(dir)).toEqual(["file"]);
  });

  it("a mask folder whose masks do not fit the image", async () => {
    const segmenter = await createBackend("segmenter", `masks:${samples.masks(samples.names[3]!)}`);
    const image = await loadImage(samples.image(samples.names[0]!));
    await expect(segmenter.segment(image)).rejects.toThrow(/mask_\d+\.png" is \d+×\d+, the image is/);
  });
});

describe("the files a run plans are the files it writes (what --out refuses to replace)", () => {
  it("png and jpg, one query and several, with and without the reference files", async () => {
    const name = samples.names[3]!;
    const { agent } = await recordedStack(name);
    try {
      const prepared = await agent.prepare(samples.image(name));
      for (const imageFormat of ["png", "jpg"] as const) {
        for (const queries of [["q"], ["first", "second"]]) {
          for (const reference of [false, true]) {
            const out = await tempDir();
            await answerQueries(agent, prepared, queries, { imageFormat, reference, folder: async () => out });
            const written = (await readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(out, join(e.parentPath, e.name)));
            expect(written.sort(), `${imageFormat}, ${queries.length} queries, reference ${reference}`).toEqual(plannedOutputFiles(queries, { imageFormat, reference }).sort());
          }
        }
      }
    } finally {
      await agent.close();
    }
  });
});
