// Bundles the command line (dist/cli/main.js and every module it loads, the commands' own chunks split off so
// that a command still loads only what it uses) into dist/cli: main.js is replaced by the bundle's entry and
// its chunks are written beside it as bundle-*.js. Node resolves, reads and links each ES module of its own on
// every start; a `segment` run loaded about 115 of them, and 30 ms of its 1.46 s went to that (pinned, idle,
// alternating runs). Packages stay outside (node_modules), and so does the vendored zod (dist/vendor/zod.cjs),
// which the library's modules load too: a process holds one zod. The library (dist/index.js and the other
// subpath exports) is not bundled. Paths taken from a module's own place (worker scripts, package.json, the
// web app's files) go through modules two folders below the package root (src/util/dist-files.ts,
// src/server/static-files.ts, src/config/zod.ts), which the chunks in dist/cli are too. Run by `npm run build`.
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "cli");
const entry = join(cli, "main.js");

const source = await readFile(entry, "utf8");
if (!source.startsWith("#!/bin/sh\n//bin/true;")) throw new Error("scripts/bundle-cli.mjs: dist/cli/main.js does not start with its launcher lines; is it built by tsc?");
// The two launcher lines (src/cli/main.ts): a shell script to sh, a hashbang and a comment to Node.
const launcher = source.split("\n", 2).join("\n");

const result = await build({
  entryPoints: [entry],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: cli,
  entryNames: "[name]",
  chunkNames: "bundle-[name]-[hash]",
  packages: "external",
  write: false,
  logLevel: "warning",
  plugins: [
    {
      name: "vendored-zod-outside",
      setup(b) {
        // `from "../vendor/zod.cjs"` (rewritten by scripts/vendor-zod.mjs): the same file from dist/cli
        b.onResolve({ filter: /\/vendor\/zod\.cjs$/ }, () => ({ path: "../vendor/zod.cjs", external: true }));
      },
    },
  ],
});

// Chunks of an earlier build go; then the new ones, and the entry last (with its launcher lines).
for (const name of await readdir(cli)) if (name.startsWith("bundle-") && name.endsWith(".js")) await rm(join(cli, name));
let main;
for (const file of result.outputFiles) {
  if (dirname(file.path) !== cli) throw new Error(`scripts/bundle-cli.mjs: ${file.path} is not in dist/cli`);
  if (basename(file.path) === "main.js") main = file;
  else await writeFile(file.path, file.contents);
}
if (!main) throw new Error("scripts/bundle-cli.mjs: esbuild made no main.js");
await writeFile(entry, `${launcher}\n${main.text.replace(/^#!.*\n/, "")}`, { mode: 0o755 });
