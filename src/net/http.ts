/**
 * The HTTP client every network backend uses: JSON over node:http(s) with keep-alive connections (one agent per
 * client; measured against fetch/undici: a request's bytes reach the server 3–20 ms sooner and it costs about
 * 15 ms less CPU per 3 MB body, BENCHMARKS.md "Describers over HTTP"), a timeout per attempt and a
 * deadline for all attempts of a request, retries with exponential backoff on timeouts, 429 (honouring
 * Retry-After), 5xx, dropped connections and malformed bodies, a cap on the reply's size, and an endpoint pool
 * that spreads requests over replicas (least busy first) with a limit on requests in flight. 4xx other than
 * 408/429 are not retried: the request itself is wrong (401/403: the key is).
 *
 * Credentials in a URL (`http://user:key@host`) are taken out of it and sent as Basic authorization; the URLs
 * this client prints or returns never hold them (see ./redact.ts).
 */
import http from "node:http";
import type https from "node:https";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { onAbort } from "../util/abort.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { EndpointPool } from "./pool.js";
import type { HttpOptions } from "./options.js";
import { redactText, redactUrl, splitCredentials } from "./redact.js";

export interface HttpClientOptions {
  /** Requests in flight per endpoint (default 4). */
  concurrency?: number;
  /** Per attempt, including reading the body (default 120 000 ms). */
  timeoutMs?: number;
  /** All attempts of one request and the waits between them (default twice `timeoutMs`). */
  deadlineMs?: number;
  /** Largest reply body read, in bytes (default 16 MiB): a larger reply fails the request, naming the limit. */
  maxReplyBytes?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay; doubles each retry, with jitter (default 500 ms). */
  backoffMs?: number;
  /** Cap on one backoff delay and on a server's Retry-After (default 30 000 ms). */
  maxDelayMs?: number;
  /** Sent with every request (e.g. Authorization). Never logged. */
  headers?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  json: T;
  url: string;
  latencyMs: number;
  attempts: number;
}

/** An HTTP failure after the retries, with what the server said. */
export class HttpError extends GearSegError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HttpError";
  }
}

/** Why one attempt failed, and whether another attempt may help. */
interface AttemptFailure {
  reason: string;
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

export const DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** A request body: text, bytes, or bytes in pieces (sent in order, as one body). */
export type RequestBody = string | Uint8Array | readonly Uint8Array[];

/** What a caller may hear about one request besides its answer. */
export interface RequestHooks {
  /**
   * Called when an attempt's whole body has been handed to the connection (the server is receiving it): a
   * caller that prepares the next bodies can start that work now without slowing this one's sending.
   */
  onSent?: () => void;
  /**
   * Called when an attempt ends before its whole body was handed to the connection (no connection, a timeout,
   * an abort): a caller that waits for this body to go out before sending others need not wait for the retries.
   */
  onNotSent?: () => void;
}

export class HttpClient {
  readonly pool: EndpointPool;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxDelayMs: number;
  readonly maxReplyBytes: number;
  private readonly headers: Record<string, string>;
  /** Basic authorization per endpoint, from credentials that were in its URL. */
  private readonly basicAuth = new Map<string, string>();
  /**
   * Connections kept open between requests. An idle one is closed after 4 s (or the server's Keep-Alive hint
   * minus 1 s), before the usual servers' 5 s (uvicorn, Node) close it under a request; undici's rule.
   */
  private readonly agents: { http: http.Agent; https?: https.Agent } = { http: new http.Agent({ keepAlive: true, timeout: 4000 }) };

  constructor(
    /** Names the backend in messages, e.g. `describer dam:http://…`. */
    readonly label: string,
    urls: readonly string[],
    options: HttpClientOptions = {},
  ) {
    const plain = urls.map((u) => {
      const { url, authorization } = splitCredentials(trimSlash(u));
      if (authorization) this.basicAuth.set(url, authorization);
      return url;
    });
    this.pool = new EndpointPool([...new Set(plain)], options.concurrency ?? 4);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.deadlineMs = options.deadlineMs ?? 2 * this.timeoutMs;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.headers = { ...(options.headers ?? {}) };
  }

  /** The endpoints' base URLs (without credentials). */
  get urls(): string[] {
    return this.pool.urls;
  }

  /**
   * One cheap request to every endpoint (no retries, at most 10 s): any answer shows the server is up, except
   * 401/403 (the credentials are refused). Throws an HttpError naming the endpoint otherwise.
   */
  async check(path: string, signal?: AbortSignal): Promise<void> {
    const timeoutMs = Math.min(this.timeoutMs, 10_000);
    await Promise.all(
      this.urls.map(async (base) => {
        const url = base + path;
        const result = await this.attempt("GET", url, undefined, timeoutMs, signal);
        if ("json" in result || (result.status !== undefined && result.status !== 401 && result.status !== 403)) return;
        throw new HttpError(`${this.label}: the server does not answer (GET ${url}: ${result.reason})`, result.status, url, { cause: result.cause });
      }),
    );
  }

  postJson<T = unknown>(path: string, body: unknown, signal?: AbortSignal, hooks?: RequestHooks): Promise<HttpResponse<T>> {
    return this.request<T>("POST", path, JSON.stringify(body), signal, hooks);
  }

  getJson<T = unknown>(path: string, signal?: AbortSignal): Promise<HttpResponse<T>> {
    return this.request<T>("GET", path, undefined, signal);
  }

  /**
   * `body` is JSON text, or its UTF-8 bytes, or those bytes in pieces sent one after the other (a describer
   * whose bodies share most of their bytes sends views of them instead of a copy per request).
   */
  async request<T>(method: string, path: string, body: RequestBody | undefined, signal?: AbortSignal, hooks?: RequestHooks): Promise<HttpResponse<T>> {
    const started = performance.now();
    const deadline = started + this.deadlineMs;
    let last: AttemptFailure | undefined;
    let lastUrl = this.urls[0]! + path;
    let attempts = 0;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        const backoff = Math.min(this.maxDelayMs, this.backoffMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
        const delay = last?.retryAfterMs !== undefined ? Math.min(this.maxDelayMs, last.retryAfterMs) : backoff;
        // No attempt starts that could not end before the deadline.
        if (performance.now() + delay >= deadline) break;
        await sleep(delay, signal);
      }
      const lease = await this.pool.acquire(signal);
      const url = lease.url + path;
      lastUrl = url;
      attempts++;
      let sent = false;
      const attemptHooks = hooks && {
        onSent: () => {
          sent = true;
          hooks.onSent?.();
        },
      };
      try {
        const result = await this.attempt(method, url, body, Math.max(1, Math.ceil(Math.min(this.timeoutMs, deadline - performance.now()))), signal, attemptHooks);
        if ("json" in result) {
          return { status: result.status, json: result.json as T, url, latencyMs: performance.now() - started, attempts: attempt + 1 };
        }
        last = result;
        if (!result.retryable) break;
      } finally {
        if (!sent) hooks?.onNotSent?.();
        lease.release();
      }
      if (performance.now() >= deadline) break;
    }
    const tries = last?.retryable ? ` after ${attempts} attempt${attempts === 1 ? "" : "s"}${attempts <= this.retries ? ` (deadline ${this.deadlineMs} ms)` : ""}` : "";
    throw new HttpError(`${this.label}: ${method} ${lastUrl} failed${tries}: ${last?.reason ?? "unknown error"}`, last?.status, lastUrl, {
      cause: last?.cause,
    });
  }

  private async attempt(
    method: string,
    url: string,
    body: RequestBody | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
    hooks?: RequestHooks,
  ): Promise<{ status: number; json: unknown } | AttemptFailure> {
    const base = this.pool.urls.find((u) => url.startsWith(u));
    const authorization = base !== undefined ? this.basicAuth.get(base) : undefined;
    const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const payload = body === undefined ? undefined : typeof body === "string" ? [Buffer.from(body, "utf8")] : "buffer" in body ? [asBuffer(body)] : body.map(asBuffer);
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(payload !== undefined && { "content-type": "application/json", "content-length": String(payload.reduce((n, p) => n + p.length, 0)) }),
      ...(authorization !== undefined && { authorization }),
      ...this.headers,
    };
    let reply: Reply;
    try {
      const target = new URL(url);
      // node:https (TLS, crypto) is loaded on the first https request: a client of a local server never pays for it
      const tls = target.protocol === "https:" ? await loadHttps() : undefined;
      const agent = tls ? (this.agents.https ??= new tls.Agent({ keepAlive: true, timeout: 4000 })) : this.agents.http;
      reply = await exchange(target, tls ?? http, { method, headers, agent }, payload, timeoutMs, this.maxReplyBytes, signal, hooks?.onSent);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ReplyTooLarge) {
        return { reason: `the reply is larger than ${this.maxReplyBytes} bytes (option maxReplyBytes)`, retryable: false, cause: err };
      }
      if (err instanceof AttemptTimeout) return { reason: `no answer within ${timeoutMs} ms`, retryable: true, cause: err };
      // A request that cannot even be built (a bad header value, say): asking again cannot help.
      if (err instanceof Unsendable) return { reason: redactText(err.message), retryable: false, cause: err.cause };
      return { reason: networkReason(err), retryable: true, cause: err };
    }
    const { status, text } = reply;
    if (status >= 200 && status < 300) {
      try {
        return { status, json: JSON.parse(text) as unknown };
      } catch {
        return { reason: `HTTP ${status} with a body that is not JSON: ${snippet(text)}`, retryable: true, status };
      }
    }
    // Redirects are not followed (a body and credentials are never re-sent to another place): say where to point.
    const location = status >= 300 && status < 400 ? headerValue(reply.headers.location) : undefined;
    if (location) return { reason: `HTTP ${status}: the server redirects to ${redactText(location)} (give that URL instead)`, retryable: false, status };
    const reason = `HTTP ${status}${serverMessage(text)}`;
    if (status === 401 || status === 403) return { reason: `${reason} (the server refused the credentials)`, retryable: false, status };
    if (status === 429 || status === 408 || status >= 500) {
      return { reason, retryable: true, status, retryAfterMs: parseRetryAfter(headerValue(reply.headers["retry-after"])) };
    }
    return { reason, retryable: false, status };
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

let httpsModule: Promise<typeof https> | undefined;
function loadHttps(): Promise<typeof https> {
  return (httpsModule ??= import("node:https").then((m) => m.default));
}

class ReplyTooLarge extends Error {}
class AttemptTimeout extends Error {}
class Unsendable extends Error {}

/**
 * One request and its whole reply (decoded as UTF-8, after gzip/deflate/br when the server compressed it),
 * within `timeoutMs`, refusing a reply larger than `limit` bytes. `onSent` is called once the body is written.
 */
function exchange(
  target: URL,
  transport: Pick<typeof http, "request">,
  options: { method: string; headers: Record<string, string>; agent: http.Agent },
  payload: readonly Buffer[] | undefined,
  timeoutMs: number,
  limit: number,
  signal: AbortSignal | undefined,
  onSent: (() => void) | undefined,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    signal?.throwIfAborted();
    let settled = false;
    const settle = (fail: unknown, reply?: Reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      if (fail !== undefined) {
        req?.destroy();
        reject(fail);
      } else resolve(reply!);
    };
    const timer = setTimeout(() => settle(new AttemptTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
    // one listener on a run's signal however many requests share it (util/abort.ts)
    const unsubscribe = signal && onAbort(signal, () => settle(signal.reason));
    let req: http.ClientRequest | undefined;
    try {
      req = transport.request(target, options, (res) => {
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) return settle(new ReplyTooLarge());
        const encoding = headerValue(res.headers["content-encoding"])?.trim().toLowerCase();
        let stream: Readable = res;
        if (encoding === "gzip" || encoding === "x-gzip") stream = res.pipe(zlib.createGunzip());
        else if (encoding === "deflate") stream = res.pipe(zlib.createInflate());
        else if (encoding === "br") stream = res.pipe(zlib.createBrotliDecompress());
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on("data", (c: Buffer) => {
          size += c.length;
          if (size > limit) return settle(new ReplyTooLarge());
          chunks.push(c);
        });
        stream.on("end", () => settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks, size).toString("utf8") }));
        stream.on("error", (err) => settle(err));
        res.on("error", (err) => settle(err));
        res.on("close", () => {
          if (!res.complete) settle(Object.assign(new Error("the connection closed before the reply was complete"), { code: "ECONNRESET" }));
        });
      });
    } catch (err) {
      return settle(new Unsendable(err instanceof Error ? err.message : String(err), { cause: err }));
    }
    req.on("error", (err) => settle(err));
    if (payload === undefined) return void req.end();
    // The pieces are written together (one writev once the connection is there); sent when the last one is.
    for (let i = 0; i < payload.length - 1; i++) req.write(payload[i]);
    req.end(payload[payload.length - 1] ?? Buffer.alloc(0), () => onSent?.());
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** What a server said in an error body: OpenAI's {"error": {"message"}}, DAM's {"error": "..."}, or text. */
function serverMessage(text: string): string {
  if (!text.trim()) return "";
  try {
    const json = JSON.parse(text) as unknown;
    if (json && typeof json === "object") {
      const e = (json as Record<string, unknown>).error ?? (json as Record<string, unknown>).detail ?? (json as Record<string, unknown>).message;
      if (typeof e === "string") return `: ${oneLine(e)}`;
      if (e && typeof e === "object" && typeof (e as Record<string, unknown>).message === "string") {
        return `: ${oneLine((e as Record<string, unknown>).message as string)}`;
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return `: ${snippet(text)}`;
}

function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? line.slice(0, max) + "…" : line;
}

function snippet(text: string): string {
  return JSON.stringify(oneLine(text, 120));
}

function networkReason(err: unknown): string {
  // Node's own code (ECONNREFUSED, ECONNRESET, ENOTFOUND); for a name with several addresses, the first one's
  const first = err instanceof AggregateError ? (err.errors[0] as unknown) : err;
  const code = (err as { code?: unknown })?.code ?? (first as { code?: unknown })?.code;
  if (typeof code === "string" && code) return `connection failed (${code})`;
  return `connection failed (${redactText(first instanceof Error ? first.message : String(first))})`;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const timer = setTimeout(() => {
      unsubscribe?.();
      resolve();
    }, ms);
    const unsubscribe =
      signal &&
      onAbort(signal, () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
  });
}

/**
 * `model@url[,url...]` → model and base URLs (the model may itself contain `@` or `:`; the URL part starts at
 * the last `@` that is followed by http:// or https://).
 */
export function parseModelAtUrls(arg: string, what: string): { model: string; urls: string[] } {
  const m = /^(.+)@(https?:\/\/.+)$/i.exec(arg.trim());
  if (!m) throw new UsageError(`${what}: expected <model>@<base-url>, got "${redactText(arg)}"`);
  return { model: m[1]!.trim(), urls: parseUrls(m[2]!, what) };
}

/** One or more base URLs separated by commas, each http(s). */
export function parseUrls(text: string, what: string): string[] {
  const urls = text
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new UsageError(`${what}: no URL given`);
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new UsageError(`${what}: "${redactUrl(u)}" is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UsageError(`${what}: "${redactUrl(u)}" is not an http(s) URL`);
    }
  }
  return urls.map(trimSlash);
}

/** What an HTTP backend's client is built from: its URLs (the spec's, then `endpoints`) and the options. */
export function httpClientOptions(options: HttpOptions, label: string, specUrls: readonly string[]): { urls: string[]; client: HttpClientOptions } {
  const headerMap: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.apiKeyEnv !== undefined) {
    const key = process.env[options.apiKeyEnv];
    if (!key) throw new UsageError(`${label}: environment variable ${options.apiKeyEnv} (named by "apiKeyEnv") is not set`);
    const header = (options.apiKeyHeader ?? "authorization").toLowerCase();
    headerMap[header] = header === "authorization" ? `Bearer ${key}` : key;
  } else if (options.apiKeyHeader !== undefined) {
    throw new UsageError(`${label}: option "apiKeyHeader" needs "apiKeyEnv" (the variable that holds the key)`);
  }
  const urls = [...specUrls, ...(options.endpoints ?? []).flatMap((e) => parseUrls(e, label))];
  return {
    urls,
    client: {
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      deadlineMs: options.deadlineMs,
      retries: options.retries,
      backoffMs: options.backoffMs,
      maxDelayMs: options.maxDelayMs,
      maxReplyBytes: options.maxReplyBytes,
      headers: headerMap,
    },
  };
}
