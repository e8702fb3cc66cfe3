// Runs the built CLI (dist/cli/main.js) as a user would. `npm test` builds before vitest runs.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const sharedDir = resolve(repoRoot, "../shared");
export const cliPath = join(repoRoot, "dist/cli/main.js");

/** Tests never touch the user's cache: one fresh GEAR_SEG_HOME per test process unless a test sets its own. */
const testHome = mkdtempSync(join(tmpdir(), "gear-seg-home-"));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first`);
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      {
        cwd: options.cwd ?? repoRoot,
        env: { ...process.env, GEAR_SEG_HOME: testHome, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export function tempDir(prefix = "gear-seg-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The GEAR-Seg reference samples in ../shared. */
export const samples = {
  root: join(sharedDir, "data/gear-seg-samples"),
  names: ["3417356_b6f97b6b6e_o", "4220420_7397afecdb_o", "4537339_3d8e488294_o", "692198_ac99d18ac5_o"],
  image: (name: string) => join(sharedDir, "data/gear-seg-samples/dataset/ReasonSeg_val/images", `${name}.jpg`),
  question: (name: string) => join(sharedDir, "data/gear-seg-samples/dataset/ReasonSeg_val/questions", `${name}.json`),
  masks: (name: string) => join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/sam/masks", name),
  descriptions: (name: string) =>
    join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/dam/descriptions", `${name}.json`),
  answer: (name: string) => join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/answers/json", `${name}.json`),
};

export const photos = {
  cars: join(sharedDir, "data/photos/cars.jpg"),
  groceries: join(sharedDir, "data/photos/groceries.jpg"),
  truck: join(sharedDir, "data/photos/truck.jpg"),
};
