/**
 * Where a worker thread's script is. Worker threads run compiled JavaScript: next to the compiled module
 * (dist/…) the script is its sibling; when the module runs from its TypeScript sources (src/…, as under vitest)
 * the script is the compiled sibling in dist/ (the tests' global setup rebuilds dist/ when src/ is newer). A
 * missing script is an error, never a silent fallback to the main thread.
 */
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { GearSegError } from "./errors.js";

/** The compiled script `name` (e.g. "preparation-worker.js") beside the module at `moduleUrl` (its import.meta.url). */
export function workerScript(moduleUrl: string, name: string): string {
  const module = fileURLToPath(moduleUrl);
  let script = join(dirname(module), name);
  if (module.endsWith(".ts")) {
    // src/<dir>/<module>.ts → dist/<dir>/<name>: the package root is the folder above src/.
    const parts = dirname(module).split(sep);
    const at = parts.lastIndexOf("src");
    if (at >= 0) script = join(parts.slice(0, at).join(sep) || sep, "dist", ...parts.slice(at + 1), name);
  }
  if (!existsSync(script)) {
    throw new GearSegError(`worker script "${relative(process.cwd(), script) || basename(script)}" is missing: build gear-seg (npm run build)`);
  }
  return script;
}
