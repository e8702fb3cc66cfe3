/**
 * A model server stand-in on 127.0.0.1 that holds every request until the test releases it, for tests of
 * queues and cancellation: it speaks the OpenAI chat protocol (`POST /v1/chat/completions`, answered with the
 * given JSON as the message content) and DAM's (`POST /chat/completions`, a description), counts requests that
 * arrived, are waiting, and whose client went away before the answer (the server saw the connection close).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

export interface HeldServer {
  url: string;
  /** Requests received, waiting now, and abandoned by their client. */
  readonly received: number;
  readonly waiting: number;
  readonly abandoned: number;
  /** Answers every waiting request and, from now on, answers at once. */
  release(): void;
  /** Resolves when `n` requests have arrived. */
  arrived(n: number): Promise<void>;
  /** Resolves when `n` requests have been abandoned. */
  abandonedAtLeast(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHeldServer(reply: { chatContent: string; description?: string }): Promise<HeldServer> {
  let received = 0;
  let abandoned = 0;
  let open = false;
  const waiting = new Set<() => void>();
  const watchers: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const notify = () => watchers.splice(0).forEach((w) => w());

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const content = req.url === "/v1/chat/completions" ? reply.chatContent : (reply.description ?? "a region");
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        id: `held-${received}`,
        object: "chat.completion",
        model: "held-model",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
      }),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || (req.url !== "/v1/chat/completions" && req.url !== "/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
        return;
      }
      received++;
      notify();
      if (open) return answer(req, res);
      const go = () => {
        waiting.delete(go);
        answer(req, res);
      };
      waiting.add(go);
      res.on("close", () => {
        if (waiting.delete(go)) {
          abandoned++;
          notify();
        }
      });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const until = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => (test() ? resolve() : watchers.push(check));
      check();
    });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get received() {
      return received;
    },
    get waiting() {
      return waiting.size;
    },
    get abandoned() {
      return abandoned;
    },
    release() {
      open = true;
      for (const go of [...waiting]) go();
    },
    arrived: (n) => until(() => received >= n),
    abandonedAtLeast: (n) => until(() => abandoned >= n),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
