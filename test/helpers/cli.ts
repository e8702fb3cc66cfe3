// Runs the built CLI (dist/cli/main.js) as a user would. test/global-setup.ts rebuilds dist/ when src/ is newer.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./paths.js";
import { tempDirSync } from "./temp.js";

export { photos, repoRoot, samples, sharedDir } from "./paths.js";
export { tempDir, tempDirSync } from "./temp.js";

export const cliPath = join(repoRoot, "dist/cli/main.js");

/** Tests never touch the user's cache: one fresh GEAR_SEG_HOME per test process unless a test sets its own. */
const testHome = tempDirSync("gear-seg-home-");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run the tests through vitest (its global setup builds dist/) or "npm run build"`);
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, GEAR_SEG_HOME: testHome, ...options.env },
        // Below the 60 s test timeout, so that a hung CLI fails with its own output rather than a bare timeout.
        timeout: options.timeoutMs ?? 50_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const killed = err?.killed ? `\n[runCli: killed with ${err.signal} after ${options.timeoutMs ?? 50_000} ms]` : "";
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) + killed });
      },
    );
  });
}

