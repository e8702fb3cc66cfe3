/**
 * Where this package's compiled files are (worker threads' scripts, package.json), from wherever the code
 * runs: a compiled module (dist/<dir>/<module>.js), the command line's bundle (dist/cli/<chunk>.js, made by
 * scripts/bundle-cli.mjs), or the TypeScript sources (src/<dir>/<module>.ts, as under vitest: worker threads
 * run compiled JavaScript, so the script is the one in dist/, which the tests' global setup rebuilds when src/
 * is newer). All three put this module two folders below the package root, so paths are taken from here,
 * never from the calling module's own place (a bundle moves that). A missing worker script is an error, never
 * a silent fallback to the main thread.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { GearSegError } from "./errors.js";

/** The package's dist/ folder, for the module at `moduleUrl` (this one's, or a test's stand-in at the same depth). */
export function distRoot(moduleUrl: string = import.meta.url): string {
  const module = fileURLToPath(moduleUrl);
  const root = dirname(dirname(dirname(module)));
  return module.endsWith(".ts") ? join(root, "dist") : dirname(dirname(module));
}

/** The compiled file at `path` inside dist/ (e.g. "stack/preparation-worker.js"). */
export function distFile(path: string, moduleUrl?: string): string {
  return join(distRoot(moduleUrl), path);
}

/** The compiled worker script at `path` inside dist/; a one-line error when it is not there. */
export function workerScript(path: string, moduleUrl?: string): string {
  const script = distFile(path, moduleUrl);
  if (!existsSync(script)) {
    throw new GearSegError(`worker script "${relative(process.cwd(), script) || basename(script)}" is missing: build gear-seg (npm run build)`);
  }
  return script;
}

/** This package's version (its package.json, one folder above dist/). */
export function packageVersion(): string {
  return (createRequire(import.meta.url)(join(dirname(distRoot()), "package.json")) as { version: string }).version;
}
