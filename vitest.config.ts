import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Filled once per machine by test/helpers/model-store.ts (the offline default's detector weights). */
const testModelStore = fileURLToPath(new URL("./node_modules/.cache/gear-seg-test/models", import.meta.url));

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: forks keep native addons (sharp, onnxruntime, sqlite) isolated per file.
    pool: "forks",
    // Tests (and the CLIs they spawn) never read or write the user's cache or model store; they read models
    // from the test store, pulled before any test starts.
    env: { GEAR_SEG_HOME: mkdtempSync(join(tmpdir(), "gear-seg-test-home-")), GEAR_SEG_MODEL_PATH: testModelStore },
    globalSetup: ["test/helpers/model-store.ts"],
  },
});
