// `gear-seg serve` as a user runs it (the built CLI): the first stdout line a script reads, SIGTERM with a
// query in flight (answered, then exit 0), the token rule for non-loopback addresses (exit 2 without one).
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, repoRoot, runCli, samples } from "./helpers/cli.js";
import { startHeldServer, type HeldServer } from "./helpers/held-server.js";
import { fetch } from "./server-fixtures.js";

const NAME = "4537339_3d8e488294_o";

interface Serving {
  child: ChildProcess;
  url: string;
  firstLine: string;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Serving> {
  const child = spawn(process.execPath, [cliPath, "serve", "--port", "0", "--quiet", ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve({ child, firstLine: line, url: line.replace(/^listening on /, ""), exit }));
    void exit.then(({ code, stderr }) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
}

describe("gear-seg serve", () => {
  let held: HeldServer;
  beforeAll(async () => {
    held = await startHeldServer({ chatContent: JSON.stringify({ mask_ids: [3, 8], explanation: "the boats" }) });
  });
  afterAll(() => held.close());

  it("prints where it listens first, and on SIGTERM answers the query in flight and exits 0", async () => {
    const s = await serve([
      "--segmenter", `masks:${samples.masks(NAME)}`,
      "--describer", `recorded:${samples.descriptions(NAME)}`,
      "--reasoner", `openai:held-model@${held.url}/v1`,
      "--no-cache",
    ]);
    expect(s.firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const up = await fetch(`${s.url}/api/images`, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: await readFile(samples.image(NAME)) });
    const { id } = await up.json();
    await (await fetch(`${s.url}/api/images/${id}/events`)).text();
    const arrived = held.received;
    const pending = fetch(`${s.url}/api/images/${id}/ask`, { method: "POST", body: JSON.stringify({ query: "what carries people?" }) });
    await held.arrived(arrived + 1);
    s.child.kill("SIGTERM");
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "the server is shutting down" });
    const { code, stderr } = await s.exit;
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("refuses a non-loopback address without a token (exit 2), and serves it with one", async () => {
    const refused = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], { env: { GEAR_SEG_TOKEN: "" } });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe("gear-seg: refusing to listen on 0.0.0.0 without a token: anyone on the network could use the server; give it one (GEAR_SEG_TOKEN, or a variable named with --token-env)\n");
    const missing = await runCli(["serve", "--token-env", "MY_TOKEN", "--port", "0"], { env: { MY_TOKEN: "" } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--token-env MY_TOKEN: the variable is not set or empty/);

    const token = "s3cret-token-for-tests";
    const s = await serve(["--host", "0.0.0.0", "--token-env", "MY_TOKEN", "--segmenter", `masks:${samples.masks(NAME)}`, "--describer", "none", "--reasoner", "none"], { MY_TOKEN: token });
    expect(s.firstLine).toMatch(/^listening on http:\/\/0\.0\.0\.0:\d+$/);
    const url = s.url.replace("0.0.0.0", "127.0.0.1");
    expect((await fetch(`${url}/api/health`)).status).toBe(401);
    expect((await fetch(`${url}/api/health`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    s.child.kill("SIGINT");
    const { code, stderr } = await s.exit;
    expect(code).toBe(0);
    expect(stderr).not.toContain(token);
  });
});
