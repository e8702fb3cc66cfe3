/**
 * Reading the options every HTTP backend shares (from the config file or a library caller) with messages that
 * name the key and what was expected. Secrets come only from environment variables named in the options.
 */
import type { BackendOptions } from "../stack/registry.js";
import { GearSegError } from "../util/errors.js";
import type { HttpClientOptions } from "./http.js";

/** Keys every HTTP backend understands. */
export const HTTP_OPTION_KEYS = ["concurrency", "timeoutMs", "retries", "backoffMs", "maxDelayMs", "apiKeyEnv", "endpoints", "headers"] as const;

export class OptionReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly options: BackendOptions,
    /** Names the backend in messages. */
    readonly label: string,
  ) {}

  private bad(key: string, expected: string, value: unknown): never {
    throw new GearSegError(`${this.label}: option "${key}" must be ${expected}, got ${JSON.stringify(value)}`, { exitCode: 2 });
  }

  integer(key: string, min: number): number | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.bad(key, `an integer ≥ ${min}`, v);
    return v;
  }

  number(key: string, min: number, max = Infinity): number | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) this.bad(key, `a number in [${min}, ${max}]`, v);
    return v;
  }

  string(key: string): string | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !v.trim()) this.bad(key, "a non-empty string", v);
    return v;
  }

  boolean(key: string): boolean | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") this.bad(key, "true or false", v);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!values.includes(v as T)) this.bad(key, `one of ${values.map((x) => `"${x}"`).join(", ")}`, v);
    return v as T;
  }

  strings(key: string): string[] | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || !s.trim())) this.bad(key, "a list of non-empty strings", v);
    return v as string[];
  }

  record(key: string): Record<string, string> | undefined {
    this.seen.add(key);
    const v = this.options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((s) => typeof s !== "string")) {
      this.bad(key, "an object of strings", v);
    }
    return v as Record<string, string>;
  }

  /** The shared HTTP options; `apiKeyEnv` names the environment variable that holds a bearer token. */
  http(): HttpClientOptions & { endpoints: string[] } {
    const apiKeyEnv = this.string("apiKeyEnv");
    const headers: Record<string, string> = { ...(this.record("headers") ?? {}) };
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === "authorization") {
        throw new GearSegError(`${this.label}: option "headers" must not hold Authorization; put the key in an environment variable and name it in "apiKeyEnv"`, { exitCode: 2 });
      }
    }
    if (apiKeyEnv !== undefined) {
      const key = process.env[apiKeyEnv];
      if (!key) throw new GearSegError(`${this.label}: environment variable ${apiKeyEnv} (named by "apiKeyEnv") is not set`, { exitCode: 2 });
      headers.authorization = `Bearer ${key}`;
    }
    return {
      concurrency: this.integer("concurrency", 1),
      timeoutMs: this.integer("timeoutMs", 1),
      retries: this.integer("retries", 0),
      backoffMs: this.integer("backoffMs", 0),
      maxDelayMs: this.integer("maxDelayMs", 0),
      headers,
      endpoints: this.strings("endpoints") ?? [],
    };
  }

  /** Call last: any key not read is a mistake (a typo, or an option for another backend). */
  rejectUnknown(): void {
    for (const key of Object.keys(this.options)) {
      if (key === "spec") continue;
      if (key === "apiKey" || key === "api_key") {
        throw new GearSegError(`${this.label}: option "${key}": secrets are read only from the environment; set "apiKeyEnv" to the variable's name`, { exitCode: 2 });
      }
      if (!this.seen.has(key)) {
        throw new GearSegError(`${this.label}: unknown option "${key}" (known: ${[...this.seen].sort().join(", ")})`, { exitCode: 2 });
      }
    }
  }
}
