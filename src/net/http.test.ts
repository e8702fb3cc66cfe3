import { createServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { FaultServer } from "../../test/helpers/fault-server.js";
import { HttpClient, parseModelAtUrls, parseRetryAfter } from "./http.js";
import { redactUrl } from "./redact.js";
import { EndpointPool } from "./pool.js";

const servers: FaultServer[] = [];
async function server(options: ConstructorParameters<typeof FaultServer>[1] = {}) {
  const s = new FaultServer({ "POST /echo": (body) => ({ json: { got: body } }) }, options);
  await s.start();
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
const fast = { backoffMs: 1, maxDelayMs: 50, timeoutMs: 2000 };

describe("HttpClient", () => {
  it("retries timeouts, 429, 5xx, resets and malformed bodies, then succeeds", async () => {
    // The hang is cut by the attempt timeout; it is long enough that an ordinary attempt on a loaded machine never hits it.
    const s = await server();
    s.faults.push({ kind: "hang" }, { kind: "status", status: 429, retryAfter: "0" }, { kind: "status", status: 503 }, { kind: "reset" }, { kind: "malformed" });
    const client = new HttpClient("test", [s.url], { ...fast, timeoutMs: 1500, retries: 5, deadlineMs: 10_000 });
    const res = await client.postJson("/echo", { a: 1 });
    expect(res.json).toEqual({ got: { a: 1 } });
    expect(res.attempts).toBe(6);
    expect(s.count("/echo")).toBe(6);
  });
  it("gives up after the retries with the server's own error message", async () => {
    const s = await server();
    for (let i = 0; i < 3; i++) s.faults.push({ kind: "status", status: 500, body: { error: "CUDA out of memory" } });
    const client = new HttpClient("describer dam:x", [s.url], { ...fast, retries: 2 });
    await expect(client.postJson("/echo", {})).rejects.toThrow(/describer dam:x: POST http:\/\/127\.0\.0\.1:\d+\/echo failed after 3 attempts: HTTP 500: CUDA out of memory/);
  });
  it("does not retry a 400", async () => {
    const s = await server();
    s.faults.push({ kind: "status", status: 400, body: { error: { message: "bad field" } } });
    const client = new HttpClient("t", [s.url], fast);
    await expect(client.postJson("/echo", {})).rejects.toThrow(/failed: HTTP 400: bad field/);
    expect(s.count()).toBe(1);
  });
  it("does not retry a refused key (401, 403), and says so", async () => {
    const s = await server();
    s.faults.push({ kind: "status", status: 401, body: { error: { message: "invalid api key" } } });
    const client = new HttpClient("t", [s.url], fast);
    await expect(client.postJson("/echo", {})).rejects.toThrow(/failed: HTTP 401: invalid api key \(the server refused the credentials\)$/);
    expect(s.count()).toBe(1);
  });

  it("sends a URL's credentials as Basic authorization and never shows them", async () => {
    const s = await server();
    s.faults.push({ kind: "status", status: 500, body: { error: "boom" } });
    const withKey = s.url.replace("http://", "http://me:sk-url-secret-99@");
    const client = new HttpClient(`reasoner openai:m@${redactUrl(withKey)}`, [withKey], { ...fast, retries: 1 });
    expect(client.urls).toEqual([s.url]);
    await client.postJson("/echo", {});
    expect(s.log.map((r) => r.headers.authorization)).toEqual([`Basic ${Buffer.from("me:sk-url-secret-99").toString("base64")}`, `Basic ${Buffer.from("me:sk-url-secret-99").toString("base64")}`]);
    s.faults.push({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    const err = await client.postJson("/echo", {}).catch((e: Error) => e);
    expect(String(err)).toContain("http://***@127.0.0.1");
    expect(String(err)).not.toContain("sk-url-secret-99");
  });

  it("honours Retry-After (the retry waits for it)", async () => {
    const s = await server();
    s.faults.push({ kind: "status", status: 429, retryAfter: "1" });
    const client = new HttpClient("t", [s.url], { ...fast, maxDelayMs: 5000 });
    await client.postJson("/echo", {});
    const [a, b] = s.log;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(900);
  });
  it("keeps at most `concurrency` requests in flight per endpoint and spreads over replicas", async () => {
    const a = await server({ delayMs: 40 });
    const b = await server({ delayMs: 40 });
    const client = new HttpClient("t", [a.url, b.url], { ...fast, concurrency: 2 });
    let peak = 0;
    const pool = client.pool;
    const jobs = Array.from({ length: 12 }, async (_, i) => {
      const p = client.postJson("/echo", { i });
      peak = Math.max(peak, pool.stats().reduce((s, x) => s + x.busy, 0));
      return p;
    });
    await Promise.all(jobs);
    expect(peak).toBeLessThanOrEqual(4);
    expect(a.maxActive).toBeLessThanOrEqual(2);
    expect(b.maxActive).toBeLessThanOrEqual(2);
    expect(a.count()).toBe(6);
    expect(b.count()).toBe(6);
  });
  it("keeps the connection open between requests (one TCP connection for a series)", async () => {
    const s = new FaultServer({ "POST /port": (_body, req) => ({ json: { port: req.socket.remotePort } }) });
    await s.start();
    servers.push(s);
    const client = new HttpClient("t", [s.url], fast);
    const ports = [];
    for (let i = 0; i < 4; i++) ports.push(((await client.postJson("/port", { i })).json as { port: number }).port);
    expect(new Set(ports).size).toBe(1);
  });
  it("tells when a body has been handed over, before the answer comes", async () => {
    const s = await server({ delayMs: 50 });
    const client = new HttpClient("t", [s.url], fast);
    const events: string[] = [];
    const body = new TextEncoder().encode(JSON.stringify({ big: "x".repeat(1 << 20) }));
    const res = await client.request<{ got: { big: string } }>("POST", "/echo", body, undefined, { onSent: () => events.push("sent") }).then((r) => {
      events.push("answer");
      return r;
    });
    expect(events).toEqual(["sent", "answer"]);
    expect(res.json.got.big.length).toBe(1 << 20);
  });
  it("tells when an attempt ended before its body went out (nothing listening), and then not that it was sent", async () => {
    const dead = createNetServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise((resolve) => dead.close(resolve));
    const events: string[] = [];
    const client = new HttpClient("t", [url], { ...fast, retries: 2 });
    await expect(client.request("POST", "/echo", "{}", undefined, { onSent: () => events.push("sent"), onNotSent: () => events.push("not sent") })).rejects.toThrow(/failed after 3 attempts/);
    expect(events).toEqual(["not sent", "not sent", "not sent"]);
  });
  it("sends a body given in pieces as one body (its length declared), again on a retry, and tells when the last piece is handed over", async () => {
    const s = await server();
    s.faults.push({ kind: "reset" });
    const client = new HttpClient("t", [s.url], fast);
    const text = JSON.stringify({ big: "é".repeat(300_000), n: 7 });
    const bytes = new TextEncoder().encode(text);
    // cut anywhere, even inside a character, with an empty piece among them
    const pieces = [bytes.subarray(0, 1), bytes.subarray(1, 1), bytes.subarray(1, 400_001), bytes.subarray(400_001)];
    const events: string[] = [];
    const res = await client.request<{ got: unknown }>("POST", "/echo", pieces, undefined, { onSent: () => events.push("sent") });
    events.push("answer");
    expect(res.attempts).toBe(2);
    expect(res.json.got).toEqual(JSON.parse(text));
    expect(s.log.at(-1)!.headers["content-length"]).toBe(String(bytes.length));
    expect(events.at(-2)).toBe("sent");
    expect(events.at(-1)).toBe("answer");
  });
  it("reads a compressed reply, and refuses a reply over the cap even when it was compressed small", async () => {
    const big = JSON.stringify({ text: "y".repeat(200_000) });
    const raw = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync(big)));
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
      const res = await new HttpClient("t", [url], fast).getJson<{ text: string }>("/");
      expect(res.json.text.length).toBe(200_000);
      await expect(new HttpClient("t", [url], { ...fast, maxReplyBytes: 100_000 }).getJson("/")).rejects.toThrow(/failed: the reply is larger than 100000 bytes \(option maxReplyBytes\)$/);
    } finally {
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    }
  });
  it("does not follow a redirect: says where the server points, once, with its credentials hidden", async () => {
    let requests = 0;
    const raw = createServer((req, res) => {
      requests++;
      req.resume();
      req.on("end", () => res.writeHead(301, { location: "https://me:sk-moved-secret@gpu2.example/v1/chat" }).end());
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
      const err = await new HttpClient("t", [url], fast).postJson("/echo", {}).catch((e: Error) => e);
      expect(String(err)).toMatch(/failed: HTTP 301: the server redirects to https:\/\/\*\*\*@gpu2\.example\/v1\/chat \(give that URL instead\)$/);
      expect(String(err)).not.toContain("sk-moved-secret");
      expect(requests).toBe(1);
    } finally {
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    }
  });
  it("does not retry a request that cannot be built (a header value with a line break), and says why", async () => {
    const s = await server();
    const client = new HttpClient("t", [s.url], { ...fast, headers: { "x-note": "a\nb" } });
    await expect(client.postJson("/echo", {})).rejects.toThrow(/^t: POST http:\/\/127\.0\.0\.1:\d+\/echo failed: .*"x-note"/);
    expect(s.count()).toBe(0);
  });
  it("says a refused connection is refused", async () => {
    const s = await server();
    const url = s.url;
    await s.stop();
    servers.splice(servers.indexOf(s), 1);
    await expect(new HttpClient("t", [url], { ...fast, retries: 0 }).postJson("/echo", {})).rejects.toThrow(/failed after 1 attempt: connection failed \(ECONNREFUSED\)$/);
  });
  it("speaks TLS to an https URL (node:https, loaded on first use)", async () => {
    // a TCP server that reads what the client sends first, then hangs up: a TLS handshake record starts with 0x16
    const first: number[] = [];
    const tcp = createNetServer((socket) => socket.once("data", (d: Buffer) => (first.push(d[0]!), socket.destroy())));
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    try {
      const url = `https://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
      await expect(new HttpClient("t", [url], { ...fast, retries: 0 }).postJson("/echo", {})).rejects.toThrow(/failed after 1 attempt: connection failed/);
      expect(first).toEqual([0x16]);
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
    }
  });
  it("cancels with the caller's signal", async () => {
    const s = await server();
    s.faults.push({ kind: "hang" });
    const client = new HttpClient("t", [s.url], { ...fast, timeoutMs: 60_000 });
    const ac = new AbortController();
    const p = client.postJson("/echo", {}, ac.signal);
    setTimeout(() => ac.abort(new Error("stop")), 50);
    await expect(p).rejects.toThrow("stop");
  });
});

describe("helpers", () => {
  it("parseRetryAfter reads seconds and dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
  it("parseModelAtUrls splits at the @ before the URL", () => {
    expect(parseModelAtUrls("llama3.2-vision:11b@http://h:11434/v1", "x")).toEqual({ model: "llama3.2-vision:11b", urls: ["http://h:11434/v1"] });
    expect(parseModelAtUrls("org/m@x@https://a/v1/,https://b/v1", "x")).toEqual({ model: "org/m@x", urls: ["https://a/v1", "https://b/v1"] });
    expect(() => parseModelAtUrls("gpt-4o", "reasoner openai:gpt-4o")).toThrow(/expected <model>@<base-url>/);
  });
  it("the pool hands out the least busy endpoint and queues when all are full", async () => {
    const pool = new EndpointPool(["a", "b"], 1);
    const l1 = await pool.acquire();
    const l2 = await pool.acquire();
    expect([l1.url, l2.url].sort()).toEqual(["a", "b"]);
    let third: string | undefined;
    const p = pool.acquire().then((l) => (third = l.url));
    await new Promise((r) => setTimeout(r, 5));
    expect(third).toBeUndefined();
    l2.release();
    await p;
    expect(third).toBe(l2.url);
  });
  it("the pool's waiters on one signal hold one abort listener, all fail when it aborts, and others keep their places", async () => {
    const pool = new EndpointPool(["a"], 1);
    const held = await pool.acquire();
    const controller = new AbortController();
    const other = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const waiting = Array.from({ length: 20 }, () => pool.acquire(controller.signal));
      const mine = pool.acquire(other.signal);
      controller.abort(new Error("stop"));
      const results = await Promise.allSettled(waiting);
      expect(results.every((r) => r.status === "rejected" && (r.reason as Error).message === "stop")).toBe(true);
      held.release();
      expect((await mine).url).toBe("a"); // the waiter of another signal got the freed slot
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
