// Vitest global setup: the end-to-end tests run the built CLI (dist/), so no test may run against a build
// older than its sources. When any src/ file (TypeScript, WebAssembly text) is newer than its compiled output
// (or has none), this runs `npm run build` once before the tests start, and fails the run with the compiler's
// message if the build fails. `npx vitest run test/x.test.ts` is therefore as honest as `npm test`.
import { execFile } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./helpers/paths.js";

/** The first source file whose compiled .js is missing or older than it, or undefined when dist/ is fresh. */
export function staleSource(root = repoRoot): string | undefined {
  const src = join(root, "src");
  const walk = (dir: string): string | undefined => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if ((entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && !entry.name.endsWith(".d.ts")) || entry.name.endsWith(".wat")) {
        const built = join(root, "dist", relative(src, path)).replace(/\.ts$/, ".js").replace(/\.wat$/, ".wasm");
        let builtTime: number;
        try {
          builtTime = statSync(built).mtimeMs;
        } catch {
          return relative(root, path);
        }
        if (statSync(path).mtimeMs > builtTime) return relative(root, path);
      }
    }
    return undefined;
  };
  return walk(src);
}

export default async function setup(): Promise<void> {
  const stale = staleSource();
  if (!stale) return;
  const started = Date.now();
  try {
    await promisify(execFile)("npm", ["run", "--silent", "build"], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() || e.message;
    throw new Error(`dist/ is older than ${stale} and "npm run build" failed, so the tests would run a stale build:\n${output}`);
  }
  const still = staleSource();
  if (still) throw new Error(`"npm run build" left dist/ older than ${still}`);
  console.log(`[global-setup] dist/ was older than ${stale}: rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
