/**
 * The options every HTTP backend shares, as one schema that each backend's own schema extends. Secrets come
 * only from the environment: `apiKeyEnv` names the variable; the key is sent as `Authorization: Bearer …`, or
 * in the header named by `apiKeyHeader` (Azure's `api-key`, some gateways' `x-api-key`). `headers` may not
 * carry a secret of its own. What a client is built from them is `httpClientOptions` (http.ts): this module is
 * loaded with the backends' table, by runs that speak no HTTP.
 */
import type { z } from "zod";
import { envName, integer, isSecretName, list, optionsSchema, SECRET_HINT, text } from "../config/schema.js";
import { zod } from "../config/zod.js";

const headerName = () => zod().string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "must be an HTTP header name" });

const headers = () =>
  zod()
    .record(headerName(), zod().string({ error: "must be an object of strings" }), { error: "must be an object of strings" })
    .check((ctx) => {
      for (const name of Object.keys(ctx.value)) {
        if (isSecretName(name)) {
          ctx.issues.push({ code: "custom", input: ctx.value, path: [name], message: `must not carry a secret: ${SECRET_HINT} (and "apiKeyHeader" to send it as "${name}")` });
        }
      }
    });

export const httpOptions = optionsSchema(() =>
  zod().strictObject({
    /** Requests in flight per endpoint (default 4). */
    concurrency: integer(1).optional(),
    /** One attempt, reading the reply included (default 120 000 ms). */
    timeoutMs: integer(1).optional(),
    /** All attempts of one request, waits between them included (default: twice `timeoutMs`). */
    deadlineMs: integer(1).optional(),
    /** Retries after the first attempt (default 3); timeouts, 429, 5xx and dropped connections are retried. */
    retries: integer(0, 20).optional(),
    /** First wait between attempts, doubled each retry (default 500 ms). */
    backoffMs: integer(0).optional(),
    /** Cap on one wait and on a server's Retry-After (default 30 000 ms). */
    maxDelayMs: integer(0).optional(),
    /** Largest reply body read (default 16 MiB); a larger one fails the request. */
    maxReplyBytes: integer(1024).optional(),
    /** The environment variable that holds the API key. */
    apiKeyEnv: envName().optional(),
    /** The header that carries the key (default `authorization`, sent as `Bearer <key>`). */
    apiKeyHeader: headerName().optional(),
    /** Extra headers sent with every request (no secrets). */
    headers: headers().optional(),
    /** More base URLs of replicas, besides the spec's. */
    endpoints: list(text("a URL"), "a list of URLs").optional(),
  }),
);

export type HttpOptions = z.output<typeof httpOptions.schema>;

/** The options of a backend that talks to a chat model: the HTTP ones and a cap on one answer's length. */
export const chatOptions = optionsSchema(() =>
  httpOptions.schema.extend({
    /** Longest answer accepted, in characters, thinking blocks excluded (default 20 000). */
    maxAnswerChars: integer(1).optional(),
  }),
);
