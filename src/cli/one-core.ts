/**
 * V8's compiler settings for a process that has a single core (`taskset -c 1`, a one-CPU container). V8 optimises
 * hot functions on a background thread while the main thread goes on in slower code; with one core that thread
 * only runs when the main thread is descheduled, so the optimised code arrives late and the slow code runs the
 * longer (the classic segmenter's loops, the pictures' passes: each runs once per command). Compiling on the
 * main thread instead gets the optimised code at once: measured on a one-core run of `segment`, about a tenth
 * less CPU. With more cores the background compiles are left as they are.
 */
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";

/** The V8 flags set for a process that may use `cores` cores (none unless one). */
export function oneCoreV8Flags(cores: number): string[] {
  return cores === 1 ? ["--no-concurrent-recompilation", "--no-concurrent-osr"] : [];
}

/** Sets `oneCoreV8Flags` for the cores this process may use (its CPU affinity); call before any work. */
export function tuneCompilerForCores(cores = availableParallelism()): void {
  for (const flag of oneCoreV8Flags(cores)) setFlagsFromString(flag);
}
