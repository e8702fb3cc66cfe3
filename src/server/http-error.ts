/**
 * Errors as the API reports them: a status and one line, `{"error": "..."}`, never a stack trace. Library
 * errors map by kind: a usage error is the client's (400), a queue that is full is 429 with Retry-After, a
 * client that went away is 499 (nobody reads it), anything else 500 with its one-line message. (Work the
 * server cancels while it shuts down answers 503: see app.ts.)
 */
import { GearSegError, UsageError, describeError } from "../util/errors.js";
import { QueueFullError } from "./queue.js";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export interface ErrorReply {
  status: number;
  body: { error: string };
  headers: Record<string, string>;
}

export function errorReply(err: unknown, signal?: AbortSignal): ErrorReply {
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message }, headers: err.headers };
  if (err instanceof QueueFullError) {
    return { status: 429, body: { error: err.message }, headers: { "Retry-After": String(err.retryAfterSeconds) } };
  }
  if (signal?.aborted || (err instanceof Error && err.name === "AbortError")) {
    return { status: 499, body: { error: "request cancelled" }, headers: {} };
  }
  if (err instanceof UsageError) return { status: 400, body: { error: err.message }, headers: {} };
  if (err instanceof GearSegError) return { status: 500, body: { error: err.message }, headers: {} };
  return { status: 500, body: { error: `internal error: ${describeError(err)}` }, headers: {} };
}
