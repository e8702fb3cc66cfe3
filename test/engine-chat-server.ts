// A local OpenAI-compatible chat server for the engine tests: POST /v1/chat/completions answered by a
// function of the request, with request counting. Speaks the real protocol (choices[0].message.content,
// usage, model), nothing more.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: unknown;
}

/** A string is sent as the message content; an object `{status, body}` as a raw HTTP answer. */
export type ChatAnswer = string | { status: number; body: string };

export interface ChatServer {
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startChatServer(answer: (req: ChatRequest) => ChatAnswer | Promise<ChatAnswer>): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const parsed = JSON.parse(await body(req)) as ChatRequest;
    requests.push(parsed);
    const a = await answer(parsed);
    if (typeof a !== "string") {
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: "chat.completion",
        model: `${parsed.model}-served`,
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: a } }],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Which sample image a generation request is about: its first region description. */
export function userText(req: ChatRequest): string {
  return req.messages.find((m) => m.role === "user")?.content ?? "";
}
