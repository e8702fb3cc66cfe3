// Temporary folders for tests: tempDir() makes one under the OS temp folder; every folder made in a test file
// is removed after that file (test/helpers/temp-cleanup.ts, a vitest setup file), pass or fail.
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();

export async function tempDir(prefix = "gear-seg-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** For module-level setup that cannot await. */
export function tempDirSync(prefix = "gear-seg-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  const dirs = [...made];
  made.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

// A file's last folders, if the process ends before its afterAll hooks (a crash, a timeout).
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
