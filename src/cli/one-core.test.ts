import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { oneCoreV8Flags } from "./one-core.js";

describe("oneCoreV8Flags", () => {
  test("a process with one core compiles on its main thread; with more, V8's defaults stay", () => {
    expect(oneCoreV8Flags(1)).toEqual(["--no-concurrent-recompilation", "--no-concurrent-osr"]);
    expect(oneCoreV8Flags(2)).toEqual([]);
    expect(oneCoreV8Flags(64)).toEqual([]);
  });

  test("the flags are ones this Node's V8 knows (an unknown flag would be ignored without a word)", () => {
    const known = spawnSync(process.execPath, ["--v8-options"], { encoding: "utf8" }).stdout;
    for (const flag of oneCoreV8Flags(1)) expect(known).toContain(`--${flag.replace(/^--no-/, "")} `);
  });
});
