// The built CLI against model servers that misbehave, and config files written carelessly (issue 11): reply
// size caps, timeouts, credentials in URLs and headers, relative paths, the caption backend's own settings,
// a dead server found before the slow stages, and no server needed for what the cache holds.
import { readFile, readdir, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDamServer } from "./helpers/dam-server.js";
import { FaultServer } from "./helpers/fault-server.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { runCli, samples, tempDir } from "./helpers/cli.js";
import { freePort } from "./helpers/services.js";

const name = "692198_ac99d18ac5_o";
const SECRET = "sk-test-secret-4f9a2b7c";
let dir: string;
let env: NodeJS.ProcessEnv;
const servers: { stop(): Promise<void> }[] = [];

/** An OpenAI-style chat server that answers only with Basic credentials me:SECRET. */
async function lockedLlm() {
  const expected = `Basic ${Buffer.from(`me:${SECRET}`).toString("base64")}`;
  const locked = (ok: () => unknown) => (_body: unknown, req: import("node:http").IncomingMessage) =>
    req.headers.authorization === expected ? { json: ok() } : { status: 401, json: { error: { message: "invalid credentials" } } };
  const server = new FaultServer({
    "GET /v1/models": locked(() => ({ object: "list", data: [] })),
    "POST /v1/chat/completions": locked(() => ({
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: '{"mask_ids": [0], "explanation": "the largest"}' }, finish_reason: "stop" }],
    })),
  });
  await server.start();
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await tempDir("gear-seg-net-cli-");
  env = { GEAR_SEG_HOME: join(dir, "home") };
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

const segment = (out: string, ...flags: string[]) => ["segment", samples.image(name), "the largest thing", "-o", join(dir, out), "--segmenter", `masks:${samples.masks(name)}`, ...flags];

describe("model servers that misbehave", () => {
  it("a reply larger than maxReplyBytes, or a description longer than maxAnswerChars, fails naming the backend and the limit", async () => {
    const huge = "A region. ".repeat(300_000); // 3 MB of description
    const dam = new FaultServer({
      "POST /chat/completions": () => ({ json: { choices: [{ message: { role: "assistant", content: huge } }] } }),
    });
    await dam.start();
    servers.push(dam);
    const cwd = await tempDir("gear-seg-net-cap-");
    await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify({ describer: { spec: `dam:${dam.url}`, maxReplyBytes: 1_048_576, retries: 0 } }));
    const r = await runCli([...segment("cap1"), "--reasoner", "wordnet", "--no-cache"], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gear-seg: describer dam:${dam.url}: POST ${dam.url}/chat/completions failed: the reply is larger than 1048576 bytes (option maxReplyBytes)\n`);
    // Within the body limit (16 MiB by default), the description itself is capped (20 000 characters by default).
    const r2 = await runCli([...segment("cap2"), "--describer", `dam:${dam.url}`, "--reasoner", "wordnet", "--no-cache"], { env });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^gear-seg: describer dam:http:\/\/127\.0\.0\.1:\d+: the description of region \d+ is \d+ characters, more than the limit of 20000 \(option maxAnswerChars\)\n$/);
  });

  it("--timeout bounds every attempt, and the request's deadline bounds the retries", async () => {
    // Answers the cheap check, never answers a description.
    const dam = new FaultServer({ "POST /chat/completions": () => new Promise(() => {}) });
    await dam.start();
    servers.push(dam);
    const r = await runCli([...segment("slow"), "--describer", `dam:${dam.url}`, "--reasoner", "wordnet", "--timeout", "2", "--no-cache"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gear-seg: describer dam:http:\/\/127\.0\.0\.1:\d+: POST http:\/\/127\.0\.0\.1:\d+\/chat\/completions failed after [12] attempts? \(deadline 4000 ms\): no answer within \d+ ms\n$/);
    // A stage deadline ends the whole stage, however long each request may take.
    const stage = await runCli([...segment("slow3"), "--describer", `dam:${dam.url}`, "--reasoner", "wordnet", "--stage-timeout", "1", "--no-cache"], { env });
    expect(stage.code).toBe(1);
    expect(stage.stderr).toMatch(/^gear-seg: describer dam:http:\/\/127\.0\.0\.1:\d+: no result within the stage deadline of 1000 ms \(stageTimeoutMs\)\n$/);
    const bad = await runCli([...segment("slow2"), "--timeout", "soon"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('gear-seg: --timeout: must be a number in [0.001, 86400], got "soon"\n');
  });

  it("a dead server is found before the slow stages: no region is described", async () => {
    const dam = await startDamServer();
    servers.push(dam.server);
    const port = await freePort();
    const r = await runCli([...segment("dead"), "--describer", `dam:${dam.url}`, "--reasoner", `openai:m@http://127.0.0.1:${port}/v1`, "--no-cache"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gear-seg: reasoner openai:m@http://127.0.0.1:${port}/v1: the server does not answer (GET http://127.0.0.1:${port}/v1/models: connection failed (ECONNREFUSED))\n`);
    expect(dam.server.count("/chat/completions")).toBe(0);
  });
});

describe("servers are checked only when their stage runs", () => {
  it("a run the cache holds works with the DAM server stopped; each server is checked once per run", async () => {
    const dam = await startDamServer();
    const llm = await startOpenAiServer();
    servers.push(dam.server, llm.server);
    const home = { GEAR_SEG_HOME: join(dir, "home-lazy") };
    const run = (out: string, ...flags: string[]) =>
      runCli(["segment", samples.image(name), "-q", "the largest thing", "-q", "the smallest thing", "-o", join(dir, out), "--segmenter", `masks:${samples.masks(name)}`, "--describer", `dam:${dam.url}`, ...flags], { env: home });

    const first = await run("lazy1", "--reasoner", `openai:m@${llm.url}`);
    expect(first.code, first.stderr).toBe(0);
    expect(dam.server.count("/")).toBe(1);
    expect(llm.server.count("/v1/models")).toBe(1); // two queries, one check
    expect(llm.server.count("/v1/chat/completions")).toBe(2);
    const described = dam.server.count("/chat/completions");
    expect(described).toBeGreaterThan(0);

    await dam.server.stop();
    const cached = await run("lazy2", "--reasoner", "wordnet", "--json");
    expect(cached.code, cached.stderr).toBe(0);
    const results = JSON.parse(cached.stdout) as { cache: { descriptions: string } }[];
    expect(results.map((r) => r.cache.descriptions)).toEqual(["hit", "hit"]);
    expect(dam.server.count("/chat/completions")).toBe(described);

    // When the descriptions must be made, the stopped server is found by its check, before any region is sent.
    const uncached = await run("lazy3", "--reasoner", "wordnet", "--no-cache");
    expect(uncached.code).toBe(1);
    expect(uncached.stderr).toBe(`gear-seg: describer dam:${dam.url}: the server does not answer (GET ${dam.url}/: connection failed (ECONNREFUSED))\n`);
  });
});

describe("credentials", () => {
  it("a key in a URL is sent as Basic authorization and never printed or stored; a refused key is not retried", async () => {
    const llm = await lockedLlm();
    const dam = await startDamServer();
    servers.push(dam.server);
    const port = new URL(llm.url).port;
    const damPort = new URL(dam.url).port;
    const home = join(dir, "home-secret");
    const flags = ["--describer", `dam:http://me:${SECRET}@127.0.0.1:${damPort}`, "--reasoner", `openai:m@http://me:${SECRET}@127.0.0.1:${port}/v1`, "--json"];
    const ok = await runCli(segment("secret", ...flags), { env: { GEAR_SEG_HOME: home } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).mask_ids).toEqual([0]);
    const written = await Promise.all((await readdir(join(dir, "secret"))).map((f) => readFile(join(dir, "secret", f))));
    const cacheFiles = await readdir(home, { recursive: true });
    const cached = await Promise.all(cacheFiles.map((f) => readFile(join(home, f)).catch(() => Buffer.alloc(0))));
    for (const text of [ok.stdout, ok.stderr, ...written.map(String), ...cached.map((b) => b.toString("latin1"))]) expect(text).not.toContain(SECRET);
    expect(JSON.parse(ok.stdout).backends.describer).toBe(`dam:http://***@127.0.0.1:${damPort}`);

    const before = llm.count("/v1/chat/completions");
    const wrong = await runCli(segment("wrong", "--reasoner", `openai:m@http://me:sk-wrong-key-1234@127.0.0.1:${port}/v1`, "--no-cache"), { env });
    expect(wrong.code).toBe(1);
    // The check comes when the first stage runs, after the stack is built and the offline default named.
    expect(wrong.stderr).toBe(`offline default: attributes describer, NanoDet-g object detector (COCO classes) — see README to plug in DAM\ngear-seg: reasoner openai:m@http://***@127.0.0.1:${port}/v1: the server does not answer (GET http://127.0.0.1:${port}/v1/models: HTTP 401: invalid credentials (the server refused the credentials))\n`);
    expect(llm.count("/v1/models")).toBeGreaterThan(0);
    expect(llm.count("/v1/chat/completions")).toBe(before);
  });

  it("the config file refuses secrets in headers, and an apiKeyEnv that holds a key, without echoing them", async () => {
    const cwd = await tempDir("gear-seg-net-secret-");
    const cases: [unknown, RegExp][] = [
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", headers: { "X-Api-Key": SECRET } } }, /config "[^"]+": reasoner: reasoner openai:m@http:\/\/127\.0\.0\.1:9\/v1: option "headers\.X-Api-Key" must not carry a secret: secrets are read only from the environment/],
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", apiKeyEnv: SECRET } }, /option "apiKeyEnv" must name an environment variable .*looks like a key itself and is not shown/],
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", token: SECRET } }, /"reasoner\.token": secrets are read only from the environment/],
    ];
    for (const [config, message] of cases) {
      await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify(config));
      const r = await runCli(["segment", samples.image(name), "x", "-o", join(cwd, "out")], { cwd, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr.split("\n")).toHaveLength(2);
    }
  });
});

describe("config files", () => {
  it("relative paths resolve against the config file's folder; two config files in one folder are an error", async () => {
    const root = await tempDir("gear-seg-net-rel-");
    await mkdir(join(root, "project", "masks"), { recursive: true });
    for (const f of await readdir(samples.masks(name))) await writeFile(join(root, "project", "masks", f), await readFile(join(samples.masks(name), f)));
    await writeFile(join(root, "project", "gear-seg.config.json"), JSON.stringify({ segmenter: "masks:masks", describer: "none", reasoner: "wordnet" }));
    const r = await runCli(["segment", samples.image(name), "x", "-o", join(root, "out"), "--config", "project/gear-seg.config.json", "--json", "--quiet"], { cwd: root, env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).regions).toHaveLength(3);

    await writeFile(join(root, "project", "gear-seg.config.yaml"), "describer: none\n");
    const both = await runCli(["segment", samples.image(name), "x", "-o", join(root, "out2")], { cwd: join(root, "project"), env });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(`gear-seg: config: "${join(root, "project", "gear-seg.config.json")}" and "${join(root, "project", "gear-seg.config.yaml")}" are both present; keep one, or name the one to use\n`);
  });

  it("the captioner is configured like any backend: its key and headers reach its server", async () => {
    const llm = await startOpenAiServer();
    servers.push(llm.server);
    const cwd = await tempDir("gear-seg-net-caption-");
    await writeFile(
      join(cwd, "gear-seg.config.json"),
      JSON.stringify({ describer: "none", captioner: { spec: `openai-vision:v@${llm.url}`, apiKeyEnv: "GEAR_SEG_CAPTION_KEY", headers: { "x-team": "captions" } } }),
    );
    const r = await runCli(["describe", samples.image(name), "--segmenter", `masks:${samples.masks(name)}`, "--describer", "attributes", "--json", "--no-cache"], {
      cwd,
      env: { ...env, GEAR_SEG_CAPTION_KEY: SECRET },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).scene).toMatch(/^A scene of \d+ by \d+ pixels\.$/);
    const call = llm.server.log.find((e) => e.path === "/v1/chat/completions")!;
    expect(call.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(call.headers["x-team"]).toBe("captions");
  });
});
