// Sums up the CPU time a test run spent, per file and per test, from the lines test/helpers/cpu-usage.ts
// appends when GEAR_SEG_TEST_CPU names a file:
//   GEAR_SEG_TEST_CPU=/tmp/cpu.jsonl npx vitest run && node scripts/test-cpu.mjs /tmp/cpu.jsonl [top]
// CPU time (user + system, the test process's and its CLIs') does not depend on the machine's load; wall time does.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node scripts/test-cpu.mjs <cpu.jsonl> [top]");
  process.exit(2);
}
const top = Number(topArg ?? 15);
const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const name = (p) => relative(process.cwd(), p);
const s = (x) => x.toFixed(1).padStart(7);

const files = lines.filter((l) => l.kind === "file").map((l) => ({ ...l, total: l.processSelf + l.children }));
files.sort((a, b) => b.total - a.total);
const sum = (xs, key) => xs.reduce((t, x) => t + x[key], 0);
console.log(`${files.length} files: ${sum(files, "total").toFixed(1)} s CPU (test processes ${sum(files, "processSelf").toFixed(1)} s, their child processes ${sum(files, "children").toFixed(1)} s), wall in tests ${sum(files, "wall").toFixed(1)} s`);
console.log(`\n  total   own  children   wall  file`);
for (const f of files.slice(0, top)) console.log(`${s(f.total)}${s(f.processSelf)}${s(f.children)}${s(f.wall)}  ${name(f.file)}`);

const tests = lines.filter((l) => l.kind === "test").map((l) => ({ ...l, total: l.self + l.children }));
tests.sort((a, b) => b.total - a.total);
console.log(`\n  total   own  children   wall  test`);
for (const t of tests.slice(0, top)) console.log(`${s(t.total)}${s(t.self)}${s(t.children)}${s(t.wall)}  ${name(t.file)} > ${t.test}`);
