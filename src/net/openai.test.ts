// The one OpenAI-compatible client's behaviour, the same for every caller: the response_format ladder, the
// answer cap, `endpoints` adding replicas, and the cheap check.
import { afterEach, describe, expect, it } from "vitest";
import { startOpenAiServer, type OpenAiServerOptions } from "../../test/helpers/openai-server.js";
import { createJsonChat } from "../engine/llm.js";
import { OpenAiClient } from "./openai.js";

const servers: Awaited<ReturnType<typeof startOpenAiServer>>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function llm(options: OpenAiServerOptions = {}) {
  const s = await startOpenAiServer(options);
  servers.push(s);
  return s;
}
const fast = { backoffMs: 1, maxDelayMs: 20, timeoutMs: 5000 };
const formats = (s: Awaited<ReturnType<typeof llm>>) => s.requests.map((r) => r.response_format?.type ?? "none");

describe("OpenAiClient", () => {
  it("steps down json_schema → json_object → none when a server rejects a format, and remembers where it stopped", async () => {
    const s = await llm({ rejectFormats: ["json_schema", "json_object"], answer: () => '{"ok": true}' });
    const client = new OpenAiClient("test", "m", [s.url], fast);
    const ask = () => client.chat({ messages: [{ role: "user", content: "hi" }], json: { schema: { name: "x", schema: { type: "object" } } } });
    expect((await ask()).text).toBe('{"ok": true}');
    expect(formats(s)).toEqual(["json_schema", "json_object", "none"]);
    await ask();
    expect(formats(s)).toEqual(["json_schema", "json_object", "none", "none"]);
  });

  it("the engine's LLM climbs the same ladder (no schema: json_object first)", async () => {
    const s = await llm({ rejectFormats: ["json_object"], answer: () => '{"items": []}' });
    const chat = createJsonChat(`openai:m@${s.url}`, fast);
    expect((await chat.chatJson([{ role: "user", content: "hi" }])).value).toEqual({ items: [] });
    expect(formats(s)).toEqual(["json_object", "none"]);
  });

  it("a fixed format is never changed: a rejection is an error", async () => {
    const s = await llm({ rejectFormats: ["json_object"] });
    const client = new OpenAiClient("test", "m", [s.url], fast, { responseFormat: "json_object" });
    await expect(client.chat({ messages: [{ role: "user", content: "hi" }], json: {} })).rejects.toThrow(/HTTP 400: response_format json_object is not supported/);
  });

  it("`endpoints` adds replicas to the spec's URLs, for the engine as for the backends", async () => {
    const a = await llm({ answer: () => "{}" });
    const b = await llm({ answer: () => "{}" });
    const chat = createJsonChat(`openai:m@${a.url}`, { ...fast, concurrency: 1, endpoints: [b.url] });
    await Promise.all([1, 2, 3, 4].map(() => chat.chatJson([{ role: "user", content: "hi" }])));
    expect(a.requests.length).toBeGreaterThan(0);
    expect(b.requests.length).toBeGreaterThan(0);
  });

  it("refuses an answer longer than maxAnswerChars, naming the backend and the limit", async () => {
    const s = await llm({ answer: () => "x".repeat(500) });
    const client = new OpenAiClient("reasoner openai:m", "m", [s.url], fast, { maxAnswerChars: 100 });
    await expect(client.chat({ messages: [{ role: "user", content: "hi" }] })).rejects.toThrow(
      "reasoner openai:m: the answer is 500 characters, more than the limit of 100 (option maxAnswerChars)",
    );
  });

  it("the cheap check lists the models; a server that is not there fails it", async () => {
    const s = await llm();
    await new OpenAiClient("t", "m", [s.url], fast).check();
    expect(s.server.count("/v1/models")).toBe(1);
    await s.close();
    await expect(new OpenAiClient("t", "m", [s.url], fast).check()).rejects.toThrow(/t: the server does not answer \(GET http:\/\/127\.0\.0\.1:\d+\/v1\/models: connection failed/);
  });
});
