// The `gear-seg` bin run as a program: its first two lines are a shell script that runs Node on the same file
// with glibc's malloc on huge pages (src/cli/main.ts). Checked with a `node` on PATH that reports what it got,
// then with the real one.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const cli = resolve(import.meta.dirname, "..", "dist", "cli", "main.js");

describe("the gear-seg program", () => {
  const dir = mkdtempSync(join(tmpdir(), "gear-seg-launcher-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "node"), '#!/bin/sh\nprintf "%s\\n" "$GLIBC_TUNABLES" "$@"\n');
  chmodSync(join(dir, "node"), 0o755);
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync("/bin/sh", [cli, "segment", "a photo.jpg", "--json"], { env: { ...env, PATH: `${dir}${delimiter}${process.env.PATH}` }, encoding: "utf8" });

  // On one core the launcher asks V8 to compile on the main thread (see src/cli/main.ts).
  const oneCoreFlags = availableParallelism() === 1 ? ["--no-concurrent-recompilation"] : [];

  it("runs node on itself with malloc on huge pages, arguments untouched, a user's tunables after ours", () => {
    const { GLIBC_TUNABLES: _, ...env } = process.env;
    const plain = run(env);
    expect(plain.status).toBe(0);
    expect(plain.stdout.split("\n")).toEqual(["glibc.malloc.hugetlb=1", ...oneCoreFlags, cli, "segment", "a photo.jpg", "--json", ""]);
    const own = run({ ...env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2" });
    expect(own.stdout.split("\n")[0]).toBe("glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2");
  });

  it.runIf(existsSync("/usr/bin/taskset"))("on a single core, has V8 compile on the main thread", () => {
    const { GLIBC_TUNABLES: _, ...env } = process.env;
    const pinned = spawnSync("/usr/bin/taskset", ["-c", "0", "/bin/sh", cli, "--version"], {
      env: { ...env, PATH: `${dir}${delimiter}${process.env.PATH}` },
      encoding: "utf8",
    });
    expect(pinned.stdout.split("\n")).toEqual(["glibc.malloc.hugetlb=1", "--no-concurrent-recompilation", cli, "--version", ""]);
    // and the real node accepts the flag
    const real = spawnSync("/usr/bin/taskset", ["-c", "0", "/bin/sh", cli, "--version"], { encoding: "utf8" });
    expect(real.stderr).toBe("");
    expect(real.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("is the command line both as a program and through node", () => {
    for (const args of [["/bin/sh", cli], [process.execPath, cli]]) {
      const r = spawnSync(args[0]!, [...args.slice(1), "--version"], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
