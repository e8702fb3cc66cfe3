/**
 * The one validation core: every options object (the config file, a backend's options, the CLI's values) is
 * checked against a zod schema here, and every mistake is reported the same way — a usage error (exit 2) that
 * names where the value came from, the key path and what was expected:
 *
 *   describer dam:http://gpu1:8000: option "concurrency" must be an integer ≥ 1, got "2"
 *   segmenter sam2:/models/tiny: unknown option "thread" (known: provider, threads, …)
 *
 * Rules that hold everywhere: unknown keys are refused (schemas are strict objects); numbers are numbers — a
 * numeric string is accepted only from a text source (a command-line value, a `key=value` spec argument),
 * which the caller says with `fromText`; secrets never come from options (an environment variable is named
 * instead), and values of secret-bearing keys are never echoed.
 *
 * The schemas are exported (src/stack/registry.ts lists every backend's), so a server can validate requests
 * with them and describe them with `z.toJSONSchema`. The ones a run on the defaults meets are `LazySchema`s:
 * built, and zod loaded (zod.ts), on first use.
 */
import type { z } from "zod";
import { UsageError } from "../util/errors.js";
import { zod } from "./zod.js";

/** Keys that would hold a secret: refused with a pointer to `apiKeyEnv`. */
const SECRET_KEYS = new Set(["apikey", "api_key", "api-key", "key", "token", "password", "secret", "authorization"]);

/** Key paths whose values are never shown in a message (they may be a key typed in the wrong place). */
const QUIET_KEYS = new Set(["apiKeyEnv", "headers"]);

/** Options that moved elsewhere: the message says where. */
const MOVED: Record<string, string> = {
  caption: 'the caption is a stage of its own: choose it with "captioner" (config file) or the captioner spec (library)',
};

export const SECRET_HINT = 'secrets are read only from the environment; set "apiKeyEnv" to the variable\'s name';

/** A schema for an integer in [min, max], with the message the error style uses. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  const error = max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer in [${min}, ${max}]`;
  return zod().int({ error }).min(min, { error }).max(max, { error });
}

/** A schema for a finite number in [min, max]. */
export function number(min = -Number.MAX_VALUE, max = Number.MAX_VALUE) {
  const range = min === -Number.MAX_VALUE ? (max === Number.MAX_VALUE ? "" : ` ≤ ${max}`) : max === Number.MAX_VALUE ? ` ≥ ${min}` : ` in [${min}, ${max}]`;
  const error = `must be a number${range}`;
  return zod().number({ error }).min(min, { error }).max(max, { error });
}

/** A non-empty string. */
export function text(what = "a non-empty string") {
  const error = `must be ${what}`;
  return zod().string({ error }).trim().min(1, { error });
}

export function flag() {
  return zod().boolean({ error: "must be true or false" });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return zod().enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

export function list<T extends z.ZodType>(item: T, what = "a list") {
  return zod().array(item, { error: `must be ${what}` });
}

/** The name of an environment variable; a value that looks like a key itself is refused (and never shown). */
export function envName() {
  return zod()
    .string({ error: "must name an environment variable" })
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: "must name an environment variable (letters, digits and \"_\"); the value given looks like a key itself and is not shown" })
    .refine((v) => !looksLikeKey(v), { error: "must name an environment variable; the value given looks like a key itself and is not shown" });
}

/** Upper-case names such as DEEPSEEK_API_KEY are names; long mixed-case strings with digits are keys. */
function looksLikeKey(v: string): boolean {
  return v.length >= 24 && /[a-z]/.test(v) && /[0-9]/.test(v);
}

/** Whether a header or key name would carry a secret (X-Api-Key, Authorization, a session token …). */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_KEYS.has(n) || /key|token|secret|password|auth|cookie/.test(n);
}

/**
 * A schema built on first use (`schema`), so that loading the module that declares it loads neither zod nor the
 * schema. `emptyIsValid` declares that `{}` is valid and parses to `{}` (every key optional, none defaulted:
 * what every backend's options schema is; src/stack/registry.test.ts checks each), so `parseWith` answers an
 * empty options object without building anything.
 */
export class LazySchema<S extends z.ZodType = z.ZodType> {
  #built: S | undefined;

  constructor(
    private readonly build: () => S,
    readonly emptyIsValid = false,
  ) {}

  get schema(): S {
    return (this.#built ??= this.build());
  }
}

/** A backend's options: an object schema whose keys are all optional, built on first use. */
export function optionsSchema<S extends z.ZodType>(build: () => S): LazySchema<S> {
  return new LazySchema(build, true);
}

function isEmptyObject(value: unknown): boolean {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.keys(value).length === 0;
}

export interface ParseOptions {
  /** The values were typed as text (command line, `key=value` spec argument): numeric and boolean strings count. */
  fromText?: boolean;
  /** "option" (a backend's options: `option "a.b"`) or "key" (the config file: `key "a.b"`). */
  noun?: "option" | "key";
}

/**
 * `value` checked against `schema`; a usage error naming `where`, the key path and the reason otherwise.
 * `where` names the source: a backend's label, or `config "<file>"` and the entry.
 */
export function parseWith<S extends z.ZodType>(schema: S | LazySchema<S>, value: unknown, where: string, options: ParseOptions = {}): z.output<S> {
  if (schema instanceof LazySchema) {
    if (schema.emptyIsValid && isEmptyObject(value)) return {} as z.output<S>;
    schema = schema.schema;
  }
  const input = options.fromText ? fromText(schema, value) : value;
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new UsageError(`${where}: ${describeIssue(schema, result.error.issues[0]!, options.noun ?? "option")}`);
}

/** One issue as one clause: `option "timeoutMs" must be an integer ≥ 1, got "fast"`. */
export function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue, noun: "option" | "key"): string {
  const at = (path: readonly PropertyKey[]) => `${noun} "${path.join(".")}"`;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const path = [...issue.path, key];
    if (SECRET_KEYS.has(key.toLowerCase())) return `${at(path)}: ${SECRET_HINT}`;
    if (issue.path.length === 0 && MOVED[key]) return `${at(path)} is not taken here: ${MOVED[key]}`;
    const known = knownKeys(schema, issue.path);
    return `unknown ${at(path)}${known.length ? ` (known: ${known.join(", ")})` : ""}`;
  }
  const path = issue.path;
  const quiet = path.some((p) => QUIET_KEYS.has(String(p)));
  const message = issue.message.startsWith("must ") ? issue.message : genericReason(issue);
  const shown = quiet || !("input" in issue) || issue.input === undefined ? "" : `, got ${show(issue.input)}`;
  if (path.length === 0) return `${message}${shown}`;
  return `${at(path)} ${message}${shown}`;
}

function genericReason(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "is required" : `must be ${article(issue.expected)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `must be at least ${String(issue.minimum)}${issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : ""}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}${issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : ""}`;
    default:
      return `is not valid: ${issue.message}`;
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    number: "a number",
    int: "an integer",
    string: "a string",
    boolean: "true or false",
    array: "a list",
    object: "an object",
    record: "an object",
  };
  return names[expected] ?? expected;
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

/** The definition under the wrappers that do not change what is accepted at this key. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } };
  for (;;) {
    const def = s.def;
    if ((def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault" || def.type === "readonly") && def.innerType) s = def.innerType as typeof s;
    else if (def.type === "pipe" && def.in) s = def.in as typeof s;
    else return s;
  }
}

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const s = unwrap(schema) as z.ZodType & { def: { type: string; shape?: Record<string, z.ZodType> } };
  return s.def.type === "object" ? s.def.shape : undefined;
}

/** The keys an object schema accepts at `path` (for "known: …"). */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema;
  for (const p of path) s = s && shapeOf(s)?.[String(p)];
  return s ? Object.keys(shapeOf(s) ?? {}) : [];
}

/**
 * Text values converted where the schema wants a number or a boolean ("4" → 4, "true" → true), through nested
 * objects; anything else is left for the schema to judge.
 */
export function fromText(schema: z.ZodType, value: unknown): unknown {
  const s = unwrap(schema) as z.ZodType & { def: { type: string; element?: z.ZodType } };
  const type = s.def.type;
  if (typeof value === "string") {
    const t = value.trim();
    if (type === "number" && t !== "" && Number.isFinite(Number(t))) return Number(t);
    if (type === "boolean" && (t === "true" || t === "false")) return t === "true";
    return value;
  }
  if (type === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    const shape = shapeOf(s)!;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape[k] ? fromText(shape[k], v) : v]));
  }
  if (type === "array" && Array.isArray(value) && s.def.element) return value.map((v) => fromText(s.def.element!, v));
  return value;
}

/** A spec argument's `key=value` pairs, comma-separated (`classic:sigma=0.8,minSize=50`), as text. */
export function specPairs(arg: string, label: string): [key: string, value: string][] {
  const text = arg.trim();
  if (text === "") return [];
  return text.split(",").map((part) => {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new UsageError(`${label}: "${part.trim()}" is not key=value`);
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
}

/** Defaults overridden by each layer in turn; a layer's undefined values leave the value below. */
export function layered<T extends object>(defaults: T, ...layers: Partial<T>[]): T {
  const out = { ...defaults };
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
