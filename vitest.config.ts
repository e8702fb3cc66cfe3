import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: forks keep native addons (sharp, onnxruntime, sqlite) isolated per file.
    pool: "forks",
    // Tests (and the CLIs they spawn) never read or write the user's cache or model store.
    env: { GEAR_SEG_HOME: mkdtempSync(join(tmpdir(), "gear-seg-test-home-")) },
  },
});
