// The reference implementation, pycocotools, as a child process the benchmarks talk to (bench/pycocotools_ref.py).
// pycocotools is not a dependency of gear-seg: build it from source in a folder outside the repository and point
// PYCOCOTOOLS_PATH at its PythonAPI folder (BENCHMARKS.md says how). Without it, every comparison prints
// "not available".
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const here = dirname(fileURLToPath(import.meta.url));
export const refScript = join(here, "pycocotools_ref.py");

/** The Python that has numpy (Debian's by default: the build recipe in BENCHMARKS.md uses its numpy and cython3). */
export function pythonExecutable() {
  if (process.env.PYTHON) return process.env.PYTHON;
  return existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

export function pythonEnv() {
  const extra = process.env.PYCOCOTOOLS_PATH;
  if (!extra) return process.env;
  const pp = process.env.PYTHONPATH;
  return { ...process.env, PYTHONPATH: pp ? `${extra}:${pp}` : extra };
}

/**
 * Start the reference; resolves to `null` (with the reason in `whyNot`) when Python or pycocotools is missing.
 * The returned object sends one command at a time and resolves with its JSON reply.
 */
export async function startPycocotools() {
  const py = spawn(pythonExecutable(), ["-u", refScript], { env: pythonEnv(), stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  py.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: py.stdout });
  const queue = [];
  let waiting = null;
  let exited = false;
  lines.on("line", (l) => (waiting ? (waiting.resolve(l), (waiting = null)) : queue.push(l)));
  py.once("exit", () => {
    exited = true;
    waiting?.reject(new Error(`pycocotools helper exited: ${stderr.trim().split("\n").pop() ?? ""}`));
  });
  const nextLine = () =>
    new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      if (exited) return reject(new Error(`pycocotools helper exited: ${stderr.trim().split("\n").pop() ?? ""}`));
      waiting = { resolve, reject };
    });
  let hello;
  try {
    hello = JSON.parse(await Promise.race([nextLine(), new Promise((_, rej) => py.once("error", rej))]));
  } catch (err) {
    startPycocotools.whyNot = err.message;
    return null;
  }
  if (!hello.ready) {
    startPycocotools.whyNot = hello.error;
    py.stdin.end();
    return null;
  }
  return {
    info: hello,
    async call(cmd) {
      py.stdin.write(JSON.stringify(cmd) + "\n");
      const reply = JSON.parse(await nextLine());
      if (reply.error) throw new Error(`pycocotools ${cmd.op}: ${reply.error}`);
      return reply;
    },
    close() {
      py.stdin.end();
    },
  };
}

/** A short description of the reference for the report ("pycocotools 2.0 (numpy 1.24.2) from …"). */
export function describeReference(ref) {
  return ref ? `pycocotools ${ref.info.version} (numpy ${ref.info.numpy}, C core built from cocodataset/cocoapi)` : "pycocotools: not available";
}

/** Runs a whole Python script file with the reference importable; returns wall ms (for whole-process timings). */
export function runPythonScript(args) {
  const t = performance.now();
  const r = spawnSync(pythonExecutable(), args, { env: pythonEnv(), encoding: "utf8" });
  const ms = performance.now() - t;
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr };
}
