// Vitest setup file, opt-in: with GEAR_SEG_TEST_CPU=<file.jsonl> every test file appends the CPU time (user +
// system, its own and its finished child processes': the CLIs it spawned) of each test and of the whole file.
// CPU time does not depend on the machine's load, unlike wall time; scripts/test-cpu.mjs sums the file up.
import { appendFileSync, readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";

const out = process.env.GEAR_SEG_TEST_CPU;

/** CPU seconds of this process and of its waited-for children, from /proc/self/stat (clock ticks of 10 ms). */
function cpu(): { self: number; children: number } {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (proc(5)).
  const tick = (i: number) => Number(fields[i - 3]) / 100;
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

if (out) {
  let fileStart = cpu();
  let fileWall = 0;
  let testStart = fileStart;
  let testWall = 0;
  let file = "";
  beforeAll(({}, suite) => {
    file = (suite as { filepath?: string }).filepath ?? "";
    fileStart = cpu();
    fileWall = performance.now();
  });
  beforeEach(() => {
    testStart = cpu();
    testWall = performance.now();
  });
  afterEach((context) => {
    const end = cpu();
    const line = {
      kind: "test",
      file,
      test: context.task.name,
      self: end.self - testStart.self,
      children: end.children - testStart.children,
      wall: (performance.now() - testWall) / 1000,
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
  afterAll(() => {
    const end = cpu();
    const line = {
      kind: "file",
      file,
      pid: process.pid,
      // Everything this process spent since it started (module loading included), and within the file's hooks.
      processSelf: end.self,
      self: end.self - fileStart.self,
      children: end.children,
      wall: (performance.now() - fileWall) / 1000,
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
