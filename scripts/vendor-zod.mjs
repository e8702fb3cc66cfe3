// Bundles zod into dist/vendor/zod.cjs and points the compiled modules' `from "zod"` and the validation core's
// `require("zod")` (src/config/zod.ts, which loads zod on first use) at it. zod is published as 95 ES modules:
// Node resolves, reads and compiles each on every start, which took about a quarter of a short command's
// start-up (`import("zod")` 140 ms of CPU over Node's own start at load 10, the bundle 70 ms). One CommonJS
// file, so that `require` (synchronous, for the lazy load) and the static imports of the server's schemas get
// the same module. The sources and the declaration files keep naming "zod" (types, and the tests, which run
// the sources); only the JavaScript in dist changes. Run by `npm run build` after tsc.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const bundle = join(dist, "vendor", "zod.cjs");
const lazyLoader = join(dist, "config", "zod.js");
const { version } = createRequire(import.meta.url)("zod/package.json");

await build({
  // The ES-module entry (a require() resolve would give the CommonJS one).
  entryPoints: [fileURLToPath(import.meta.resolve("zod"))],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  outfile: bundle,
  legalComments: "inline",
  banner: { js: `// zod ${version} (MIT, https://zod.dev), bundled from node_modules/zod by scripts/vendor-zod.mjs.` },
  plugins: [englishOnly()],
  logLevel: "warning",
});

/**
 * `z.locales` (and `z.core.locales`) with English alone. zod's error messages are English unless a program
 * calls `z.config(z.locales.xx())`, which gear-seg never does; the other 48 locales were half the bundle, and
 * V8 read all of them on every load: 55 → 38 ms to load zod, on every command given an option to check.
 */
function englishOnly() {
  return {
    name: "zod-english-only",
    setup(build) {
      build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => ({ path: "locales", namespace: "zod-english-only", pluginData: args.resolveDir }));
      build.onLoad({ filter: /.*/, namespace: "zod-english-only" }, (args) => ({
        contents: 'export { default as en } from "../locales/en.js";',
        resolveDir: args.pluginData,
      }));
    },
  };
}

/** Every compiled module under `dir`, but the vendored ones, the web page's bundle and the command line's
 * chunks (dist/cli/bundle-*.js, made anew from these modules by scripts/bundle-cli.mjs). */
async function* modules(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== join(dist, "vendor") && path !== join(dist, "app")) yield* modules(path);
    } else if (entry.name.endsWith(".js") && !(dir === join(dist, "cli") && entry.name.startsWith("bundle-"))) yield path;
  }
}

// tsc writes every static import as `from "zod"`; a dynamic import("zod") or a `zod/…` subpath would load the
// package beside the bundle, so they are refused here rather than left to load both. The lazy loader's
// `require("zod")` is the one require of it.
const STATIC = /(\bfrom\s*)"zod"/g;
const REQUIRE = /(createRequire\(import\.meta\.url\)\()"zod"(\))/;
let rewritten = 0;
for await (const path of modules(dist)) {
  const text = await readFile(path, "utf8");
  if (/(import\(\s*|from\s*|require\(\s*)["']zod\//.test(text) || /import\(\s*["']zod["']/.test(text) || (path !== lazyLoader && /\(\s*["']zod["']\s*\)/.test(text))) {
    throw new Error(`${relative(root, path)}: imports zod other than \`from "zod"\`; scripts/vendor-zod.mjs rewrites only that`);
  }
  let spec = relative(dirname(path), bundle).split(sep).join("/");
  if (!spec.startsWith(".")) spec = `./${spec}`;
  let out = text.replace(STATIC, `$1"${spec}"`);
  if (path === lazyLoader) {
    if (!REQUIRE.test(out)) throw new Error(`${relative(root, path)}: no createRequire(import.meta.url)("zod") to point at the bundle`);
    out = out.replace(REQUIRE, `$1"${spec}"$2`);
  }
  if (out === text) continue;
  await writeFile(path, out);
  rewritten++;
}
if (rewritten === 0) throw new Error('scripts/vendor-zod.mjs: no compiled module imports "zod"; is dist built?');
