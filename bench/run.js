// Runs the benchmarks: every bench/*.bench.js, or those whose names are given (`npm run bench -- masks`).
// Each benchmark file exports `default async function (log)`, measures against a baseline in the same
// run, and prints a Markdown section that goes into BENCHMARKS.md.
import { readdir } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith(".bench.js")).sort();
const chosen = wanted.length ? files.filter((f) => wanted.some((w) => f.startsWith(w))) : files;
if (chosen.length === 0) {
  console.error(`no benchmark matches ${wanted.join(", ")} (have: ${files.join(", ")})`);
  process.exit(2);
}
for (const file of chosen) {
  const mod = await import(pathToFileURL(join(here, file)).href);
  console.log(`\n<!-- ${file} -->`);
  await mod.default((line) => console.log(line));
}
