import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Tests (and the CLIs they spawn) never read or write the user's cache or model store.
const home = mkdtempSync(join(tmpdir(), "gear-seg-test-home-"));
process.on("exit", () => rmSync(home, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // No test may take a minute, even on a loaded two-core machine; none is retried.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    retry: 0,
    // Two cores: forks keep native addons (sharp, onnxruntime, sqlite) isolated per file.
    pool: "forks",
    // Rebuilds dist/ before any test when src/ is newer (the end-to-end tests run the built CLI).
    globalSetup: ["test/global-setup.ts"],
    // Removes the folders made by tempDir() (test/helpers/temp.ts) after each test file.
    setupFiles: ["test/helpers/temp-cleanup.ts"],
    env: { GEAR_SEG_HOME: home },
  },
});
