// The stack every command builds (createConfiguredStack: config file, choices over it, timeouts) against model
// servers that misbehave and config files written carelessly (issue 11): reply size caps, timeouts, a refused
// key, relative paths, secrets in the file, the caption backend's own settings, and a dead server found before
// the slow stages. The CLI prints these errors after "gear-seg: "; its own runs are in net-cli.test.ts.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createConfiguredStack, type ConfiguredStackOptions } from "../src/stack/configured.js";
import { startDamServer } from "./helpers/dam-server.js";
import { FaultServer } from "./helpers/fault-server.js";
import { startOpenAiServer } from "./helpers/openai-server.js";
import { samples, tempDir } from "./helpers/cli.js";
import { freePort } from "./helpers/services.js";

const name = "692198_ac99d18ac5_o";
const SECRET = "sk-test-secret-4f9a2b7c";
const servers: { stop(): Promise<void> }[] = [];
afterAll(() => Promise.all(servers.map((s) => s.stop())));

/** What `gear-seg segment IMAGE QUERY --no-cache` does with these options: the prepared image, then the answer. */
async function segment(options: ConfiguredStackOptions) {
  const stack = await createConfiguredStack({ cache: false, ...options, specs: { segmenter: `masks:${samples.masks(name)}`, ...options.specs } });
  try {
    const prepared = await stack.agent.prepare(samples.image(name));
    return await stack.agent.ask(prepared, "the largest thing");
  } finally {
    await stack.close();
  }
}

/** The message of the error `run` ends with (undefined when it succeeds). */
const failure = (run: Promise<unknown>) => run.then(() => undefined, (e: Error) => e.message);

async function start(server: FaultServer): Promise<FaultServer> {
  await server.start();
  servers.push(server);
  return server;
}

describe("model servers that misbehave", () => {
  it("a reply larger than maxReplyBytes, or a description longer than maxAnswerChars, fails naming the backend and the limit", async () => {
    const huge = "A region. ".repeat(300_000); // 3 MB of description
    const dam = await start(new FaultServer({ "POST /chat/completions": () => ({ json: { choices: [{ message: { role: "assistant", content: huge } }] } }) }));
    const cwd = await tempDir("gear-seg-net-cap-");
    await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify({ describer: { spec: `dam:${dam.url}`, maxReplyBytes: 1_048_576, retries: 0 } }));
    expect(await failure(segment({ cwd, specs: { reasoner: "wordnet" } }))).toBe(
      `describer dam:${dam.url}: POST ${dam.url}/chat/completions failed: the reply is larger than 1048576 bytes (option maxReplyBytes)`,
    );
    // Within the body limit (16 MiB by default), the description itself is capped (20 000 characters by default).
    expect(await failure(segment({ specs: { describer: `dam:${dam.url}`, reasoner: "wordnet" } }))).toMatch(
      /^describer dam:http:\/\/127\.0\.0\.1:\d+: the description of region \d+ is \d+ characters, more than the limit of 20000 \(option maxAnswerChars\)$/,
    );
  });

  it("a timeout bounds every attempt, and the request's deadline bounds the retries", async () => {
    // Answers the cheap check, never answers a description.
    const dam = await start(new FaultServer({ "POST /chat/completions": () => new Promise(() => {}) }));
    expect(await failure(segment({ specs: { describer: `dam:${dam.url}`, reasoner: "wordnet" }, timeoutMs: 2000 }))).toMatch(
      /^describer dam:http:\/\/127\.0\.0\.1:\d+: POST http:\/\/127\.0\.0\.1:\d+\/chat\/completions failed after [12] attempts? \(deadline 4000 ms\): no answer within \d+ ms$/,
    );
    // A stage deadline ends the whole stage, however long each request may take.
    expect(await failure(segment({ specs: { describer: `dam:${dam.url}`, reasoner: "wordnet" }, stageTimeoutMs: 1000 }))).toBe(
      `describer dam:${dam.url}: no result within the stage deadline of 1000 ms (stageTimeoutMs)`,
    );
  });

  it("a dead server is found before the slow stages: no region is described", async () => {
    const dam = await startDamServer();
    servers.push(dam.server);
    const port = await freePort();
    expect(await failure(segment({ specs: { describer: `dam:${dam.url}`, reasoner: `openai:m@http://127.0.0.1:${port}/v1` } }))).toBe(
      `reasoner openai:m@http://127.0.0.1:${port}/v1: the server does not answer (GET http://127.0.0.1:${port}/v1/models: connection failed (ECONNREFUSED))`,
    );
    expect(dam.server.count("/chat/completions")).toBe(0);
  });

  it("a refused key is not retried, and the error shows the URL without it", async () => {
    const llm = await start(
      new FaultServer({
        "GET /v1/models": () => ({ status: 401, json: { error: { message: "invalid credentials" } } }),
        "POST /v1/chat/completions": () => ({ status: 401, json: { error: { message: "invalid credentials" } } }),
      }),
    );
    const port = new URL(llm.url).port;
    const message = await failure(segment({ specs: { describer: "none", reasoner: `openai:m@http://me:sk-wrong-key-1234@127.0.0.1:${port}/v1` } }));
    expect(message).toBe(
      `reasoner openai:m@http://***@127.0.0.1:${port}/v1: the server does not answer (GET http://127.0.0.1:${port}/v1/models: HTTP 401: invalid credentials (the server refused the credentials))`,
    );
    expect(llm.count("/v1/models")).toBe(1);
    expect(llm.count("/v1/chat/completions")).toBe(0);
  });
});

describe("servers are checked only when their stage runs", () => {
  it("a run the cache holds works with the DAM server stopped; each server is checked once per run", async () => {
    const dam = await startDamServer();
    const llm = await startOpenAiServer();
    servers.push(dam.server, llm.server);
    const cwd = await tempDir("gear-seg-net-lazy-");
    await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify({ cache: { path: join(cwd, "cache.sqlite") } }));
    /** One run: both queries on one prepared image, as `segment -q … -q …` does. */
    const run = async (reasoner: string, cache = true) => {
      const stack = await createConfiguredStack({ cwd, cache, specs: { segmenter: `masks:${samples.masks(name)}`, describer: `dam:${dam.url}`, reasoner } });
      try {
        const prepared = await stack.agent.prepare(samples.image(name));
        return [await stack.agent.ask(prepared, "the largest thing"), await stack.agent.ask(prepared, "the smallest thing")];
      } finally {
        await stack.close();
      }
    };

    await run(`openai:m@${llm.url}`);
    expect(dam.server.count("/")).toBe(1);
    expect(llm.server.count("/v1/models")).toBe(1); // two queries, one check
    expect(llm.server.count("/v1/chat/completions")).toBe(2);
    const described = dam.server.count("/chat/completions");
    expect(described).toBeGreaterThan(0);

    await dam.server.stop();
    const cached = await run("wordnet");
    expect(cached.map((r) => r.prepared.cache.descriptions)).toEqual(["hit", "hit"]);
    expect(dam.server.count("/chat/completions")).toBe(described);

    // When the descriptions must be made, the stopped server is found by its check, before any region is sent.
    expect(await failure(run("wordnet", false))).toBe(`describer dam:${dam.url}: the server does not answer (GET ${dam.url}/: connection failed (ECONNREFUSED))`);
  });
});

describe("config files", () => {
  it("refuses secrets in headers, and an apiKeyEnv that holds a key, in one line that does not echo them", async () => {
    const cwd = await tempDir("gear-seg-net-secret-");
    const cases: [unknown, RegExp][] = [
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", headers: { "X-Api-Key": SECRET } } }, /^config "[^"]+": reasoner: reasoner openai:m@http:\/\/127\.0\.0\.1:9\/v1: option "headers\.X-Api-Key" must not carry a secret: secrets are read only from the environment/],
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", apiKeyEnv: SECRET } }, /option "apiKeyEnv" must name an environment variable .*looks like a key itself and is not shown/],
      [{ reasoner: { spec: "openai:m@http://127.0.0.1:9/v1", token: SECRET } }, /"reasoner\.token": secrets are read only from the environment/],
    ];
    for (const [config, pattern] of cases) {
      await writeFile(join(cwd, "gear-seg.config.json"), JSON.stringify(config));
      const message = await failure(createConfiguredStack({ cwd }));
      expect(message).toMatch(pattern);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain("\n");
    }
  });

  it("relative paths resolve against the config file's folder; two config files in one folder are an error", async () => {
    const root = await tempDir("gear-seg-net-rel-");
    await mkdir(join(root, "project", "masks"), { recursive: true });
    for (const f of await readdir(samples.masks(name))) await writeFile(join(root, "project", "masks", f), await readFile(join(samples.masks(name), f)));
    await writeFile(join(root, "project", "gear-seg.config.json"), JSON.stringify({ segmenter: "masks:masks", describer: "none", reasoner: "wordnet" }));
    const stack = await createConfiguredStack({ cwd: root, configPath: "project/gear-seg.config.json", cache: false });
    try {
      expect((await stack.agent.prepare(samples.image(name))).regions).toHaveLength(3);
    } finally {
      await stack.close();
    }

    await writeFile(join(root, "project", "gear-seg.config.yaml"), "describer: none\n");
    expect(await failure(createConfiguredStack({ cwd: join(root, "project") }))).toBe(
      `config: "${join(root, "project", "gear-seg.config.json")}" and "${join(root, "project", "gear-seg.config.yaml")}" are both present; keep one, or name the one to use`,
    );
  });

  it("the captioner is configured like any backend: its key and headers reach its server", async () => {
    const llm = await startOpenAiServer();
    servers.push(llm.server);
    const cwd = await tempDir("gear-seg-net-caption-");
    await writeFile(
      join(cwd, "gear-seg.config.json"),
      JSON.stringify({ describer: "none", captioner: { spec: `openai-vision:v@${llm.url}`, apiKeyEnv: "GEAR_SEG_CAPTION_KEY", headers: { "x-team": "captions" } } }),
    );
    process.env.GEAR_SEG_CAPTION_KEY = SECRET;
    try {
      // The describer chosen over the file's keeps the file's captioner (no detector: the caption is under test).
      const stack = await createConfiguredStack({ cwd, specs: { segmenter: `masks:${samples.masks(name)}`, describer: "attributes", detector: "none" }, cache: false });
      try {
        expect((await stack.agent.prepare(samples.image(name))).scene).toMatch(/^A scene of \d+ by \d+ pixels\.$/);
      } finally {
        await stack.close();
      }
    } finally {
      delete process.env.GEAR_SEG_CAPTION_KEY;
    }
    const call = llm.server.log.find((e) => e.path === "/v1/chat/completions")!;
    expect(call.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(call.headers["x-team"]).toBe("captions");
  });
});
