// The offline default as a user meets it: `gear-seg segment PHOTO QUERY` on a 1.5-megapixel photo, the whole
// process (start-up, imports, decode, classic + NanoDet, attributes, caption, WordNet, pictures, result.json), on
// one core (taskset, when the machine has it). Rows, alternating in this run: the default stack, the same without
// the detector (`--detector none`), and the floor every command pays (`node` starting and exiting; `gear-seg
// --version`). Wall and CPU time (user + system, all threads) of each process; medians.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "..", "dist", "cli", "main.js");
const photo = join(here, "..", "..", "shared", "data", "photos", "cars.jpg");
const REPS = 5;

const pin = existsSync("/usr/bin/taskset") ? ["/usr/bin/taskset", "-c", String(availableParallelism() - 1)] : [];

/** One process; returns its wall time in ms. */
function run(args, env) {
  const t = performance.now();
  const [cmd, ...rest] = pin.length ? [...pin, process.execPath, ...args] : [process.execPath, ...args];
  const r = spawnSync(cmd, rest, { env, encoding: "utf8" });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`offline bench: ${args.join(" ")} exited ${r.status}: ${r.stderr.trim().split("\n").pop()}`);
  return { wall };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

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
  const load0 = loadavg()[0];
  try {
    // one untimed round so that the file cache holds the model, WordNet and the modules
    for (const [, args] of cases) run(args(-1), env);
    for (let rep = 0; rep < REPS; rep++) {
      cases.forEach(([, args], k) => results[k].wall.push(run(args(rep), env).wall));
    }
    // CPU per process: /usr/bin/time is the portable way to get a child's own CPU time
    if (existsSync("/usr/bin/time")) {
      cases.forEach(([, args], k) => {
        for (let rep = 0; rep < REPS; rep++) {
          const [cmd, ...rest] = pin.length ? [...pin, process.execPath, ...args(100 + rep)] : [process.execPath, ...args(100 + rep)];
          const r = spawnSync("/usr/bin/time", ["-f", "%U %S", cmd, ...rest], { env, encoding: "utf8" });
          const [u, s] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
          results[k].cpu.push((u + s) * 1000);
        }
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log("## The offline default, whole process");
  log("");
  log(`\`gear-seg segment PHOTO "${query}"\` on cars.jpg resized to 1500×1000 (1.5 megapixels), the whole process from spawn to exit`);
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
