/** Request bodies parsed against their schemas, replies checked against theirs. */
import type { Context } from "hono";
import type * as z from "zod";
import { HttpError } from "./http-error.js";

/** Parses the body as JSON and checks it against `schema`; a 400 naming the field otherwise. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON (${(err as Error).message.split("\n")[0]})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw new HttpError(400, `invalid request: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/** Replies with `value` after checking it against the response schema (a mismatch is our bug: a 500). */
export function reply<T extends z.ZodType>(c: Context, schema: T, value: z.input<T>, status: 200 | 201 = 200): Response {
  const checked = schema.safeParse(value);
  if (!checked.success) throw new Error(`response does not match its schema: ${checked.error.issues[0]?.message ?? "?"}`);
  return c.json(value as object, status);
}
