import { describe, expect, it } from "vitest";
import { knownKeys, LazySchema, parseWith } from "../config/schema.js";
import { BACKEND_KINDS, BACKENDS } from "./registry.js";

/** Every backend of the table, as [kind, name, entry]. */
const entries = BACKEND_KINDS.flatMap((kind) =>
  Object.entries(BACKENDS[kind] as Record<string, { options: LazySchema; http?: boolean }>).map(([name, entry]) => [kind, name, entry] as const),
);

describe("registry: what is known of a backend without building its schema", () => {
  it.each(entries)("%s %s: {} is valid and parses to {} (what parseWith answers without building the schema)", (_kind, _name, entry) => {
    expect(entry.options.emptyIsValid).toBe(true);
    expect(entry.options.schema.parse({})).toStrictEqual({});
  });

  it.each(entries)("%s %s: speaks HTTP exactly when its schema takes the shared HTTP options", (_kind, _name, entry) => {
    const keys = knownKeys(entry.options.schema, []);
    expect(entry.http === true).toBe(keys.includes("timeoutMs"));
    if (entry.http) expect(keys).toEqual(expect.arrayContaining(["concurrency", "retries", "apiKeyEnv", "headers", "endpoints"]));
  });

  it("an empty options object is answered without building the schema; anything else builds and checks it", () => {
    let builds = 0;
    const lazy = new LazySchema(() => {
      builds++;
      return BACKENDS.segmenter.classic.options.schema;
    }, true);
    expect(parseWith(lazy, {}, "segmenter classic")).toStrictEqual({});
    expect(builds).toBe(0);
    expect(parseWith(lazy, { sigma: 1 }, "segmenter classic")).toStrictEqual({ sigma: 1 });
    expect(builds).toBe(1);
    expect(() => parseWith(lazy, { sigmaa: 1 }, "segmenter classic")).toThrow('segmenter classic: unknown option "sigmaa"');
    // an empty object that is not a plain one (a class instance, a list) is the schema's to judge
    expect(() => parseWith(lazy, [], "segmenter classic")).toThrow("segmenter classic");
    expect(builds).toBe(1);
  });
});
