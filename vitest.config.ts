import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Tests (and the CLIs they spawn) never read or write the user's cache or model store.
const home = mkdtempSync(join(tmpdir(), "gear-seg-test-home-"));
process.on("exit", () => rmSync(home, { recursive: true, force: true }));
/** Filled once per machine by test/helpers/model-store.ts (the offline default's detector weights). */
const testModelStore = fileURLToPath(new URL("./node_modules/.cache/gear-seg-test/models", import.meta.url));

/**
 * Slow files first, so that no long file starts last and runs alone at the end. Vitest orders by the durations it
 * cached on this machine; on a fresh one (CI) it knows only file sizes, so the end-to-end files (test/: CLIs,
 * servers, Redis, Chromium), which take most of the time, go before the unit tests, each group largest first.
 */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const known = files.every((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`));
    if (known) return sorted;
    const endToEnd = (f: TestSpecification) => relative(this.ctx.config.root, f.moduleId).startsWith("test/");
    return [...sorted.filter(endToEnd), ...sorted.filter((f) => !endToEnd(f))];
  }
}

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // No test may take a minute, even on a loaded two-core machine; none is retried.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    retry: 0,
    // Forks keep native addons (sharp, onnxruntime, sqlite) isolated per file. One fork per core: vitest's own
    // default (cores - 1) ran the whole suite one file at a time on the two-core CI machine, although most files
    // spend their time waiting for a child process (a CLI, Redis, Chromium) or a socket.
    pool: "forks",
    maxWorkers: availableParallelism(),
    sequence: { sequencer: SlowFirstSequencer },
    // Rebuilds dist/ before any test when src/ is newer (the end-to-end tests run the built CLI); pulls the
    // detector weights into the test model store once per machine.
    globalSetup: ["test/global-setup.ts", "test/helpers/model-store.ts"],
    // Removes the folders made by tempDir() (test/helpers/temp.ts) after each test file.
    setupFiles: ["test/helpers/temp-cleanup.ts", "test/helpers/cpu-usage.ts"],
    // GEAR_SEG_MODEL_PATH: models are read from the test store.
    env: { GEAR_SEG_HOME: home, GEAR_SEG_MODEL_PATH: testModelStore },
  },
});
