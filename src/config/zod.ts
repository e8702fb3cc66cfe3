/**
 * zod, loaded on first use. Loading it costs about 40 ms of CPU (V8 reads the bundle, which holds English
 * alone: scripts/vendor-zod.mjs, and zod builds its classes as it loads), and the option schemas built from
 * it more, in every command that validates anything; a run on the defaults validates nothing (an empty
 * options object needs no schema: see `LazySchema` in schema.ts), so the schemas on that path are built, and
 * zod loaded, only when something is there to check. Loaded synchronously
 * (the validation core is synchronous) through `require`: in the build, scripts/vendor-zod.mjs points this at
 * zod bundled as one CommonJS file; modules that import "zod" statically (the server's schemas) get that same
 * file, so a process holds one zod.
 */
import { createRequire } from "node:module";
import type { z as Zod } from "zod";

let loaded: typeof Zod | undefined;

export function zod(): typeof Zod {
  return (loaded ??= (createRequire(import.meta.url)("zod") as { z: typeof Zod }).z);
}
