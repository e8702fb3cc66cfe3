import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/helpers/paths.js";
import { GearSegError } from "./errors.js";
import { workerScript } from "./worker-script.js";

describe("workerScript", () => {
  it("finds the compiled script in dist/ for a module running from src/, and beside a compiled module", () => {
    const fromSources = pathToFileURL(join(repoRoot, "src/stack/preparation-pool.ts")).href;
    expect(workerScript(fromSources, "preparation-worker.js")).toBe(join(repoRoot, "dist/stack/preparation-worker.js"));
    const compiled = pathToFileURL(join(repoRoot, "dist/stack/preparation-pool.js")).href;
    expect(workerScript(compiled, "preparation-worker.js")).toBe(join(repoRoot, "dist/stack/preparation-worker.js"));
  });

  it("a missing script is a one-line error, never a silent fallback", () => {
    const module = pathToFileURL(join(repoRoot, "src/stack/preparation-pool.ts")).href;
    let err: unknown;
    try {
      workerScript(module, "no-such-worker.js");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GearSegError);
    expect((err as Error).message).toMatch(/^worker script ".*dist\/stack\/no-such-worker\.js" is missing: build gear-seg \(npm run build\)$/);
  });
});
