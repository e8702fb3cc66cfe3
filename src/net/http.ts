/**
 * The HTTP client every network backend uses: JSON over Node's fetch (undici), a timeout per attempt and a
 * deadline for all attempts of a request, retries with exponential backoff on timeouts, 429 (honouring
 * Retry-After), 5xx, dropped connections and malformed bodies, a cap on the reply's size, and an endpoint pool
 * that spreads requests over replicas (least busy first) with a limit on requests in flight. 4xx other than
 * 408/429 are not retried: the request itself is wrong (401/403: the key is).
 *
 * Credentials in a URL (`http://user:key@host`) are taken out of it and sent as Basic authorization; the URLs
 * this client prints or returns never hold them (see ./redact.ts).
 */
import { GearSegError, UsageError } from "../util/errors.js";
import { EndpointPool } from "./pool.js";
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

  postJson<T = unknown>(path: string, body: unknown, signal?: AbortSignal): Promise<HttpResponse<T>> {
    return this.request<T>("POST", path, JSON.stringify(body), signal);
  }

  getJson<T = unknown>(path: string, signal?: AbortSignal): Promise<HttpResponse<T>> {
    return this.request<T>("GET", path, undefined, signal);
  }

  /** `body` is JSON text, or its UTF-8 bytes (a describer that builds large bodies off the main thread). */
  async request<T>(method: string, path: string, body: string | Uint8Array | undefined, signal?: AbortSignal): Promise<HttpResponse<T>> {
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
      try {
        const result = await this.attempt(method, url, body, Math.max(1, Math.ceil(Math.min(this.timeoutMs, deadline - performance.now()))), signal);
        if ("json" in result) {
          return { status: result.status, json: result.json as T, url, latencyMs: performance.now() - started, attempts: attempt + 1 };
        }
        last = result;
        if (!result.retryable) break;
      } finally {
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
    body: string | Uint8Array | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ status: number; json: unknown } | AttemptFailure> {
    // A timer cleared once the body is read: a timeout that fires after the reply is complete must not abort
    // anything (fetch would report it as an unhandled rejection).
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    const base = this.pool.urls.find((u) => url.startsWith(u));
    const authorization = base !== undefined ? this.basicAuth.get(base) : undefined;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: "application/json",
          ...(body !== undefined && { "content-type": "application/json" }),
          ...(authorization !== undefined && { authorization }),
          ...this.headers,
        },
        body,
        signal: combined,
      });
      text = await readCapped(res, this.maxReplyBytes);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (err instanceof ReplyTooLarge) {
        return { reason: `the reply is larger than ${this.maxReplyBytes} bytes (option maxReplyBytes)`, retryable: false, cause: err };
      }
      if (timeout.signal.aborted) return { reason: `no answer within ${timeoutMs} ms`, retryable: true, cause: err };
      // fetch refuses a request it cannot even build (a bad header value, say): asking again cannot help.
      if (err instanceof TypeError && !(err as { cause?: unknown }).cause) return { reason: redactText(err.message), retryable: false, cause: err };
      return { reason: networkReason(err), retryable: true, cause: err };
    } finally {
      clearTimeout(timer);
    }
    if (res.status >= 200 && res.status < 300) {
      try {
        return { status: res.status, json: JSON.parse(text) as unknown };
      } catch {
        return { reason: `HTTP ${res.status} with a body that is not JSON: ${snippet(text)}`, retryable: true, status: res.status };
      }
    }
    const reason = `HTTP ${res.status}${serverMessage(text)}`;
    if (res.status === 401 || res.status === 403) return { reason: `${reason} (the server refused the credentials)`, retryable: false, status: res.status };
    if (res.status === 429 || res.status === 408 || res.status >= 500) {
      return { reason, retryable: true, status: res.status, retryAfterMs: parseRetryAfter(res.headers.get("retry-after")) };
    }
    return { reason, retryable: false, status: res.status };
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

class ReplyTooLarge extends Error {}

/** The body as text, refusing (and cancelling) one larger than `limit` bytes. */
async function readCapped(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new ReplyTooLarge();
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ReplyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
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
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `connection failed (${cause.code})`;
  if (cause?.message) return `connection failed (${redactText(cause.message)})`;
  return `connection failed (${redactText(err instanceof Error ? err.message : String(err))})`;
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
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
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
