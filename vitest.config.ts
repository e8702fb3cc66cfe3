import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests (and the CLIs they spawn) never read or write the user's cache or model store.
const home = mkdtempSync(join(tmpdir(), "gear-seg-test-home-"));
process.on("exit", () => rmSync(home, { recursive: true, force: true }));
/** Filled once per machine by test/helpers/model-store.ts (the offline default's detector weights). */
const testModelStore = fileURLToPath(new URL("./node_modules/.cache/gear-seg-test/models", import.meta.url));

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // No test may take a minute, even on a loaded two-core machine; none is retried.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    retry: 0,
    // Two cores: forks keep native addons (sharp, onnxruntime, sqlite) isolated per file.
    pool: "forks",
    // Rebuilds dist/ before any test when src/ is newer (the end-to-end tests run the built CLI); pulls the
    // detector weights into the test model store once per machine.
    globalSetup: ["test/global-setup.ts", "test/helpers/model-store.ts"],
    // Removes the folders made by tempDir() (test/helpers/temp.ts) after each test file.
    setupFiles: ["test/helpers/temp-cleanup.ts"],
    // GEAR_SEG_MODEL_PATH: models are read from the test store.
    env: { GEAR_SEG_HOME: home, GEAR_SEG_MODEL_PATH: testModelStore },
  },
});
