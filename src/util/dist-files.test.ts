import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../test/helpers/paths.js";
import { GearSegError } from "./errors.js";
import { distFile, packageVersion, workerScript } from "./dist-files.js";

describe("dist files", () => {
  it("are found in dist/ from the sources, from a compiled module and from the command line's bundle", () => {
    const want = join(repoRoot, "dist/stack/preparation-worker.js");
    expect(workerScript("stack/preparation-worker.js")).toBe(want); // this module, from src/util
    for (const at of ["src/util/dist-files.ts", "dist/util/dist-files.js", "dist/cli/bundle-chunk-ABC.js"]) {
      expect(distFile("stack/preparation-worker.js", pathToFileURL(join(repoRoot, at)).href), at).toBe(want);
    }
  });

  it("a missing worker script is a one-line error, never a silent fallback", () => {
    let err: unknown;
    try {
      workerScript("stack/no-such-worker.js");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GearSegError);
    expect((err as Error).message).toMatch(/^worker script ".*dist\/stack\/no-such-worker\.js" is missing: build gear-seg \(npm run build\)$/);
  });

  it("reads the package's version", async () => {
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    expect(packageVersion()).toBe(version);
  });
});
