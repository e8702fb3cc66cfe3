/**
 * A small node:http server on 127.0.0.1 for tests of the HTTP backends: JSON routes, a limit on requests served
 * at a time (others wait, as behind a single-GPU model server), a per-request delay, a request log, and fault
 * injection for the next requests (timeouts, 429 + Retry-After, 500, dropped connections, malformed bodies).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | { kind: "hang" } // never answer (the client must time out)
  | { kind: "status"; status: number; body?: unknown; retryAfter?: string }
  | { kind: "reset" } // destroy the socket without answering
  | { kind: "malformed" }; // 200 with a body that is not JSON

export interface LoggedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: IncomingMessage["headers"];
  at: number;
}

export type Route = (body: unknown, req: IncomingMessage) => Promise<{ status?: number; json: unknown }> | { status?: number; json: unknown };

export interface FaultServerOptions {
  /** Requests handled at a time (default unlimited). */
  concurrency?: number;
  /** Added before each answer. */
  delayMs?: number;
}

export class FaultServer {
  readonly log: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  private server: Server;
  private active = 0;
  private queue: (() => void)[] = [];
  private sockets = new Set<import("node:net").Socket>();
  /** Highest number of requests handled at once. */
  maxActive = 0;
  url = "";

  constructor(
    private readonly routes: Record<string, Route>,
    readonly options: FaultServerOptions = {},
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests to a path (all paths when omitted). */
  count(path?: string): number {
    return path ? this.log.filter((r) => r.path === path).length : this.log.length;
  }

  private async acquire(): Promise<void> {
    const limit = this.options.concurrency ?? Infinity;
    if (this.active < limit) {
      this.active++;
    } else {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    }
    this.maxActive = Math.max(this.maxActive, this.active);
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const path = (req.url ?? "/").split("?")[0]!;
    this.log.push({ method: req.method ?? "GET", path, body, headers: req.headers, at: Date.now() });
    const fault = this.faults.shift();
    if (fault?.kind === "hang") return; // the socket stays open until the client gives up
    if (fault?.kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "malformed") return send(res, 200, '{"choices": [{"message": ', "application/json");
    if (fault?.kind === "status") {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
      return send(res, fault.status, JSON.stringify(fault.body ?? { error: `injected ${fault.status}` }), "application/json", headers);
    }
    const route = this.routes[`${req.method} ${path}`];
    if (!route) return send(res, 404, JSON.stringify({ detail: "Not Found" }), "application/json");
    await this.acquire();
    try {
      if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
      const out = await route(body, req);
      send(res, out.status ?? 200, JSON.stringify(out.json), "application/json");
    } catch (err) {
      send(res, 500, JSON.stringify({ error: (err as Error).message }), "application/json");
    } finally {
      this.release();
    }
  }
}

function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}
