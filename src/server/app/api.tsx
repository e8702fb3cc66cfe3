/**
 * The page's side of the HTTP API: JSON calls with the bearer token (kept for the tab's session; it may come
 * in the URL fragment, #token=…, which browsers never send to a server), errors as `ApiError` with the
 * server's one-line message, the status event stream (read with fetch: EventSource cannot send a token),
 * and downloads (fetched, then saved from a blob URL, for the same reason).
 */
const TOKEN_KEY = "gear-seg-token";

function initialToken(): string | null {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    const t = decodeURIComponent(m[1]!);
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, "", location.pathname + location.search);
    return t;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

let token = initialToken();

/** The server needs a token and the page has none yet (the server says so in the page's root element). */
export const tokenMissing = () => document.getElementById("app")?.dataset.token === "required" && !token;

export function setToken(t: string): void {
  token = t.trim() || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  const retry = res.headers.get("Retry-After");
  throw new ApiError(res.status, retry ? `${message} (retry in ${retry} s)` : message);
}

export async function api<T>(path: string, init: { method?: string; json?: unknown; body?: BodyInit; type?: string; signal?: AbortSignal } = {}): Promise<T> {
  const extra: Record<string, string> = {};
  let body = init.body;
  if (init.json !== undefined) {
    extra["Content-Type"] = "application/json";
    body = JSON.stringify(init.json);
  } else if (init.type) {
    extra["Content-Type"] = init.type;
  }
  const res = await check(await fetch(path, { method: init.method ?? (body ? "POST" : "GET"), headers: headers(extra), body, signal: init.signal }));
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function apiBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  return (await check(await fetch(path, { headers: headers(), signal }))).blob();
}

/** Saves a server file under its own name. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const res = await check(await fetch(path, { headers: headers() }));
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Reads `event: status` messages of a server-sent event stream until it ends. */
export async function readEvents<T>(path: string, onEvent: (data: T) => void, signal: AbortSignal): Promise<void> {
  const res = await check(await fetch(path, { headers: headers({ Accept: "text/event-stream" }), signal }));
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      if (data) onEvent(JSON.parse(data) as T);
    }
  }
}

// The API's shapes: the server's own zod schemas (types only: nothing of zod reaches the bundle).
export type { AnswerJson as Answer, HealthJson as Health, ImageStatusJson as ImageStatus, RegionJsonType as RegionJson, RegionsJson as Regions } from "../schemas.js";
export type {
  DatasetSummaryJson as DatasetSummary,
  ItemJson as Item,
  ItemPageJson as ItemPage,
  ReviewCountsJson as ReviewCounts,
  SaveAnswerReplyJson as SaveAnswerReply,
  SaveAnswerRequestJson as SaveAnswerRequest,
} from "../dataset-schemas.js";
