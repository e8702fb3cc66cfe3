// The built CLI against local DAM and OpenAI-style servers: segment with several queries, the cache across
// runs, config files, `cache stats|clear` and `doctor`.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDamServer } from "./helpers/dam-server.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { runCli, samples, tempDir } from "./helpers/cli.js";
import { freePort } from "./helpers/services.js";

const name = "692198_ac99d18ac5_o";
let dam: Awaited<ReturnType<typeof startDamServer>>;
let llm: Awaited<ReturnType<typeof startOpenAiServer>>;
let dir: string;
let env: NodeJS.ProcessEnv;
const readJson = async (p: string) => JSON.parse(await readFile(p, "utf8"));

beforeAll(async () => {
  dam = await startDamServer();
  llm = await startOpenAiServer();
  dir = await tempDir("gear-seg-http-cli-");
  env = { GEAR_SEG_HOME: join(dir, "home") };
});
afterAll(async () => {
  await dam.server.stop();
  await llm.server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("gear-seg over HTTP backends", () => {
  it("answers several queries with one description pass; a second run hits the cache; --no-cache does not", async () => {
    const stack = ["--segmenter", `masks:${samples.masks(name)}`, "--describer", `dam:${dam.url}`, "--reasoner", `openai:deepseek-chat@${llm.url}`];
    const out = join(dir, "out1");
    const r1 = await runCli(["--quiet", "segment", samples.image(name), "-q", "a region of pixels", "-q", "nothing like that", "-o", out, "--reference", ...stack], { env });
    expect(r1.stderr).toBe("");
    expect(r1.code).toBe(0);
    const regions = (await readJson(join(out, "01-a-region-of-pixels", "result.json"))).regions.length;
    expect(regions).toBe(3);
    expect(dam.server.count("/chat/completions")).toBe(3); // two queries, one description per region
    expect(llm.server.count("/v1/chat/completions")).toBe(2);
    const first = await readJson(join(out, "01-a-region-of-pixels", "result.json"));
    expect(first.cache).toEqual({ regions: "miss", descriptions: "miss", caption: "off" });
    expect(first.mask_ids).toEqual([0, 1, 2]);
    expect(first.usage).toEqual({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 });
    const answer = await readJson(join(out, "01-a-region-of-pixels", "answer.json"));
    expect(answer).toMatchObject({ text: ["a region of pixels"], image_name: `${name}.jpg`, answer_mask_id: ["0", "1", "2"] });
    expect(answer.shapes[0]).toMatchObject({ label: "target", labels: ["target"], shape_type: "mask" });
    const descriptions = await readJson(join(out, "01-a-region-of-pixels", "descriptions.json"));
    expect(Object.keys(descriptions).sort()).toEqual(["0", "1", "2", "whole"]);
    expect(descriptions["0"].des).toMatch(/^A region of \d+ pixels/);

    const out2 = join(dir, "out2");
    const r2 = await runCli(["--quiet", "segment", samples.image(name), "what else?", "-o", out2, ...stack], { env });
    expect(r2.stderr).toBe("");
    expect(r2.code).toBe(0);
    expect(dam.server.count("/chat/completions")).toBe(3);
    expect((await readJson(join(out2, "result.json"))).cache).toEqual({ regions: "hit", descriptions: "hit", caption: "off" });

    const r3 = await runCli(["--quiet", "segment", samples.image(name), "what else?", "-o", join(dir, "out3"), "--no-cache", ...stack], { env });
    expect(r3.code).toBe(0);
    expect(dam.server.count("/chat/completions")).toBe(6);

    const stats = await runCli(["cache", "stats", "--json"], { env });
    expect(JSON.parse(stats.stdout)).toMatchObject({
      stages: { image: { entries: 1 }, regions: { entries: 1 }, descriptions: { entries: 1 }, caption: { entries: 0 } },
      images: 1,
      path: join(dir, "home", "cache.sqlite"),
    });
    const cleared = await runCli(["cache", "clear"], { env });
    expect(cleared.stdout).toBe(`cleared ${join(dir, "home", "cache.sqlite")}: 3 entries\n`);
  });

  it("reads backends from gear-seg.config.json in the working folder; flags override it", async () => {
    const cwd = await tempDir("gear-seg-http-cfg-");
    await writeFile(
      join(cwd, "gear-seg.config.json"),
      JSON.stringify({
        segmenter: `masks:${samples.masks(name)}`,
        describer: "dam",
        reasoner: { spec: `openai:m@${llm.url}`, responseFormat: "json_object" },
        backends: { dam: { spec: `dam:${dam.url}`, concurrency: 2 } },
        cache: { enabled: false },
      }),
    );
    const before = dam.server.count("/chat/completions");
    const r = await runCli(["--quiet", "segment", samples.image(name), "pixels", "-o", join(cwd, "out")], { cwd, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(dam.server.count("/chat/completions")).toBe(before + 3);
    expect((llm.server.log.at(-1)!.body as { response_format: { type: string } }).response_format.type).toBe("json_object");
    const over = await runCli(["--quiet", "segment", samples.image(name), "pixels", "-o", join(cwd, "out2"), "--describer", "none"], { cwd, env });
    expect(over.code).toBe(0);
    expect(dam.server.count("/chat/completions")).toBe(before + 3);

    await writeFile(join(cwd, "bad.yaml"), `describer: {spec: "dam:${dam.url}", concurency: 2}\n`);
    const bad = await runCli(["segment", samples.image(name), "x", "-o", join(cwd, "o3"), "--config", "bad.yaml"], { cwd, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option "concurency"/);
    await rm(cwd, { recursive: true, force: true });
  });

  it("doctor checks every configured backend with one real call and fails when one is down", async () => {
    const cwd = await tempDir("gear-seg-http-doctor-");
    const config = {
      segmenter: `masks:${samples.masks(name)}`,
      describer: `dam:${dam.url}`,
      captioner: `openai-vision:llava@${llm.url}`,
      reasoner: `openai:m@${llm.url}`,
      backends: { emb: { spec: `embedding:e@${llm.url}` } },
    };
    await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify(config));
    const before = dam.server.count("/chat/completions");
    const ok = await runCli(["doctor"], { cwd, env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/describer\s+describer\s+dam:http.*\s+ok\s+\d+ ms\s+"A region of 400 pixels/);
    expect(ok.stdout).toMatch(/reasoner\s+reasoner\s+openai:m@.*\s+ok\s+\d+ ms\s+mask_ids \[/);
    expect(ok.stdout).toMatch(/reasoner\s+emb\s+embedding:e@.*\s+ok/);
    expect(dam.server.count("/chat/completions")).toBe(before + 1);

    const port = await freePort();
    const down = { ...config, reasoner: `openai:m@http://127.0.0.1:${port}/v1` };
    await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify(down));
    const failed = await runCli(["doctor"], { cwd, env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`reasoner\\s+reasoner\\s+openai:m@http://127\\.0\\.0\\.1:${port}/v1\\s+FAIL\\s+\\d+ ms\\s+.*connection failed \\(ECONNREFUSED\\)`));
    expect(failed.stdout).toMatch(/1 of 5 backend\(s\) failed/);
    await rm(cwd, { recursive: true, force: true });
  });
});
