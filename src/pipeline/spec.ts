import { UsageError } from "../util/errors.js";

/** A parsed backend spec: `name` or `name:argument` (the argument may itself contain colons, e.g. URLs). */
export interface BackendSpec {
  name: string;
  arg: string;
  /** The original string, for messages and cache keys. */
  text: string;
}

export function parseSpec(text: string, stage: string): BackendSpec {
  const trimmed = text.trim();
  if (!trimmed) throw new UsageError(`empty ${stage} spec`);
  const colon = trimmed.indexOf(":");
  const name = (colon < 0 ? trimmed : trimmed.slice(0, colon)).toLowerCase();
  const arg = colon < 0 ? "" : trimmed.slice(colon + 1);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`${stage} spec "${text}": "${name}" is not a backend name`);
  return { name, arg, text: trimmed };
}
