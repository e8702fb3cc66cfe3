// The offline default as a user meets it: `gear-seg segment PHOTO QUERY` (the program, as the bin runs) on a
// 1.5-megapixel photo, the whole process (start-up, imports, decode, classic + NanoDet, attributes, caption,
// WordNet, pictures, result.json), on one core (taskset, when the machine has it). Rows, alternating in this run: the default stack, the same without
// the detector (`--detector none`), and the floor every command pays (`node` starting and exiting; `gear-seg
// --version`). Wall and CPU time (user + system, all threads) of each process; medians.
// Then a second query on a described image, through the library as a program that asks several questions uses it:
// the agent's `segment` on the same photo with another query (every stage from the stage cache), against the first
// query on it (nothing cached) in the same process, pinned the same way. OFFLINE_BENCH_PART=second runs only this
// part; OFFLINE_BENCH_BASELINE=<another checkout's dist folder> adds that code's rounds, alternating with ours.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "..", "dist", "cli", "main.js");
const photo = join(here, "..", "..", "shared", "data", "photos", "cars.jpg");
const REPS = 5;

const pin = existsSync("/usr/bin/taskset") ? ["/usr/bin/taskset", "-c", String(availableParallelism() - 1)] : [];

/** The command line of one process: the CLI as the `gear-seg` program runs (its shell lines start Node: see
 * src/cli/main.ts), anything else by Node; pinned when the machine has taskset. */
const commandLine = (args) => [...pin, ...(args[0] === cli ? ["/bin/sh"] : [process.execPath]), ...args];

/** One process; returns its wall time in ms. */
function run(args, env) {
  const t = performance.now();
  const [cmd, ...rest] = commandLine(args);
  const r = spawnSync(cmd, rest, { env, encoding: "utf8" });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`offline bench: ${args.join(" ")} exited ${r.status}: ${r.stderr.trim().split("\n").pop()}`);
  return { wall };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The queries after the first: words the first did not have, and the car again (its WordNet senses read). */
const SECOND_QUERIES = ["the white car on the right", "the road", "a tree on the left", "the blue car", "the dark window"];

/**
 * One pinned process: a fresh stage cache, the default stack (classic + NanoDet, attributes, WordNet), the first
 * query, then each second query; wall and CPU time (this process, all threads) of every `segment` call, in ms.
 */
function secondQueryRound(input, home, first, dist = join(here, "..", "dist")) {
  const script = `
    import { createConfiguredStack } from ${JSON.stringify(join(dist, "index.js"))};
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const stack = await createConfiguredStack({ notice: () => {} });
    const out = [];
    for (const query of ${JSON.stringify([first, ...SECOND_QUERIES])}) {
      const t = performance.now(), c = cpu();
      const r = await stack.agent.segment(${JSON.stringify(input)}, query);
      out.push({ wall: performance.now() - t, cpu: cpu() - c, cache: r.prepared.cache.regions, decodeMs: r.prepared.timings.decodeMs });
    }
    await stack.close();
    console.log(JSON.stringify(out));`;
  const args = ["--input-type=module", "-e", script];
  const [cmd, ...rest] = pin.length ? [...pin, process.execPath, ...args] : [process.execPath, ...args];
  const r = spawnSync(cmd, rest, { env: { ...process.env, GEAR_SEG_HOME: home }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`offline bench: second-query process (${dist}) exited ${r.status}: ${r.stderr.trim().split("\n").slice(-8).join(" / ")}`);
  const calls = JSON.parse(r.stdout.trim().split("\n").pop());
  if (calls[0].cache !== "miss" || calls.slice(1).some((c) => c.cache !== "hit" || c.decodeMs !== 0)) {
    throw new Error(`offline bench: the second queries did not come from the cache without a decode: ${JSON.stringify(calls)}`);
  }
  return calls;
}

export default async function (log) {
  const dir = mkdtempSync(join(tmpdir(), "offline-bench-"));
  const input = join(dir, "cars-1500.jpg");
  await sharp(photo).resize(1500, 1000).jpeg({ quality: 90 }).toFile(input);
  const env = { ...process.env, GEAR_SEG_HOME: join(dir, "home") };
  const query = "the red car on the left";
  const cases = [
    ["offline default (classic + NanoDet, attributes, WordNet)", (i) => [cli, "segment", input, query, "--out", join(dir, `out-${i}`), "--no-cache", "--quiet"]],
    ["the same without the detector (`--detector none`)", (i) => [cli, "segment", input, query, "--out", join(dir, `plain-${i}`), "--no-cache", "--quiet", "--detector", "none"]],
    ["`gear-seg --version` (start-up floor of a command)", () => [cli, "--version"]],
    ["`node -e 0` (Node itself)", () => ["-e", "0"]],
  ];
  const results = cases.map(() => ({ wall: [], cpu: [] }));
  const wholeProcess = process.env.OFFLINE_BENCH_PART !== "second";
  // The second-query rounds: this code with the WordNet tables already on disk (a machine where gear-seg has run:
  // $GEAR_SEG_HOME/wordnet, copied from an untimed run), this code in a home without them (the first run on a
  // machine builds and saves them), and the baseline code when given. Each round has a fresh stage cache.
  const tablesHome = join(dir, "tables-home");
  const variants = [
    { name: "this code, WordNet tables on disk", home: (rep) => withTables(join(dir, `second-${rep}`), tablesHome) },
    { name: "this code, first run on the machine (tables built)", home: (rep) => join(dir, `cold-${rep}`) },
  ];
  const baseline = process.env.OFFLINE_BENCH_BASELINE;
  if (baseline) variants.push({ name: `baseline (${baseline})`, home: (rep) => join(dir, `baseline-${rep}`), dist: baseline });
  const second = variants.map(() => ({ first: [], later: [] }));
  const load0 = loadavg()[0];
  let secondLoad0 = load0;
  try {
    if (wholeProcess) {
      // one untimed round so that the file cache holds the model, WordNet and the modules
      for (const [, args] of cases) run(args(-1), env);
      for (let rep = 0; rep < REPS; rep++) {
        cases.forEach(([, args], k) => results[k].wall.push(run(args(rep), env).wall));
      }
      // CPU per process: /usr/bin/time is the portable way to get a child's own CPU time
      if (existsSync("/usr/bin/time")) {
        cases.forEach(([, args], k) => {
          for (let rep = 0; rep < REPS; rep++) {
            const [cmd, ...rest] = commandLine(args(100 + rep));
            const r = spawnSync("/usr/bin/time", ["-f", "%U %S", cmd, ...rest], { env, encoding: "utf8" });
            const [u, s] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
            results[k].cpu.push((u + s) * 1000);
          }
        });
      }
    }
    secondLoad0 = loadavg()[0];
    secondQueryRound(input, tablesHome, query); // untimed: writes the WordNet tables
    for (let rep = 0; rep < REPS; rep++) {
      variants.forEach((v, k) => {
        const calls = secondQueryRound(input, v.home(rep), query, v.dist);
        second[k].first.push(calls[0]);
        second[k].later.push(...calls.slice(1));
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (wholeProcess) logWholeProcess(log, query, results, cases, load0);
  logSecondQuery(log, variants, second, secondLoad0);
}

/** A fresh home holding a copy of `from`'s WordNet tables. */
function withTables(home, from) {
  mkdirSync(home, { recursive: true });
  if (existsSync(join(from, "wordnet"))) cpSync(join(from, "wordnet"), join(home, "wordnet"), { recursive: true });
  return home;
}

function logWholeProcess(log, query, results, cases, load0) {
  log("## The offline default, whole process");
  log("");
  log(`\`gear-seg segment PHOTO "${query}"\` (the program, as the bin runs: \`sh dist/cli/main.js\`) on cars.jpg resized to 1500×1000 (1.5 megapixels), the whole process from spawn to exit`);
  log(`(start-up, decode, segment, detect, describe, caption, reason, overlay.png, candidates.png, mask.png, result.json), ${pin.length ? `pinned to one core (\`taskset -c ${availableParallelism() - 1}\`)` : "not pinned (no taskset)"},`);
  log(`--no-cache, ${REPS} alternating rounds after one untimed round (file cache warm); wall time medians, then CPU time (user + system, all threads,`);
  log(`from /usr/bin/time) medians of ${REPS} more runs each. Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (2 cores, shared):`);
  log("on a busy machine a pinned process waits for its core, so the CPU column is what an idle core would take.");
  log("");
  log("| process | wall | CPU |");
  log("|---|---:|---:|");
  cases.forEach(([name], k) => {
    const r = results[k];
    log(`| ${name} | ${(median(r.wall) / 1000).toFixed(2)} s | ${r.cpu.length ? (median(r.cpu) / 1000).toFixed(2) + " s" : "–"} |`);
  });
  log("");
}

function logSecondQuery(log, variants, second, load0) {
  const ms = (xs, k) => `${median(xs.map((x) => x[k])).toFixed(1)} ms`;
  log("### A second query on a described image");
  log("");
  log(`The library's \`agent.segment(PHOTO, QUERY)\` (the stack \`createConfiguredStack\` builds: the offline default, the stage`);
  log(`cache in a fresh GEAR_SEG_HOME) in one process ${pin.length ? "pinned to the same core" : "(not pinned)"}: the first query on the photo (nothing cached: decode,`);
  log(`segment, detect, describe, caption, reason) and then ${SECOND_QUERIES.length} other queries on it (${SECOND_QUERIES.map((q) => `"${q}"`).join(", ")}), each`);
  log(`served from the cache without decoding the photo. ${REPS} processes per row, the rows alternating; medians of ${REPS} first queries and of`);
  log(`${REPS * SECOND_QUERIES.length} second ones; CPU is the process's (user + system, all threads) during the call. Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.`);
  log("");
  log("| code | first query (nothing cached): wall | CPU | second query: wall | CPU | slowest second query: wall | CPU |");
  log("|---|---:|---:|---:|---:|---:|---:|");
  variants.forEach((v, k) => {
    const { first, later } = second[k];
    log(`| ${v.name} | ${ms(first, "wall")} | ${ms(first, "cpu")} | ${ms(later, "wall")} | ${ms(later, "cpu")} | ${Math.max(...later.map((c) => c.wall)).toFixed(1)} ms | ${Math.max(...later.map((c) => c.cpu)).toFixed(1)} ms |`);
  });
  log("");
  // Calls are stored round by round, the queries in order within each.
  variants.forEach((v, k) => {
    const perQuery = SECOND_QUERIES.map((q, j) => `"${q}" ${median(second[k].later.filter((_, i) => i % SECOND_QUERIES.length === j).map((c) => c.cpu)).toFixed(1)} ms`);
    log(`CPU medians by query, ${v.name}: ${perQuery.join(", ")}.`);
  });
  log("");
}
