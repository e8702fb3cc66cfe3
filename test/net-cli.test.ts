// The built CLI with model servers (issue 11): the timeout flags reach the stack, and a key in a URL is neither
// printed nor stored. What the stack does with misbehaving servers, timeouts, refused keys and careless config
// files is net-stack.test.ts's, through the library every command calls.
import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDamServer } from "./helpers/dam-server.js";
import { FaultServer } from "./helpers/fault-server.js";
import { runCli, samples, tempDir } from "./helpers/cli.js";

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

describe("flags", () => {
  it("--stage-timeout reaches the stage deadline; a --timeout that is not a number is a usage error", async () => {
    // Answers the cheap check, never answers a description.
    const dam = new FaultServer({ "POST /chat/completions": () => new Promise(() => {}) });
    await dam.start();
    servers.push(dam);
    const stage = await runCli([...segment("slow"), "--describer", `dam:${dam.url}`, "--reasoner", "wordnet", "--stage-timeout", "1", "--no-cache"], { env });
    expect(stage.code).toBe(1);
    expect(stage.stderr).toBe(`gear-seg: describer dam:${dam.url}: no result within the stage deadline of 1000 ms (stageTimeoutMs)\n`);
    const bad = await runCli([...segment("slow2"), "--timeout", "soon"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('gear-seg: --timeout: must be a number in [0.001, 86400], got "soon"\n');
  });
});

describe("credentials", () => {
  it("a key in a URL is sent as Basic authorization and never printed or stored", async () => {
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
  });
});
