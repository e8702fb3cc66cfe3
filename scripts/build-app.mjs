// Bundles the web page (src/server/app) with esbuild into dist/app: index.html, app.js, app.css. No CDN: the
// page needs nothing but its own server. Run by `npm run build`; tests call buildApp(dir) for a fresh bundle.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const INDEX = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gear-seg</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<div id="app"></div>
<noscript>This page needs JavaScript; the API is described at /openapi.json.</noscript>
</body>
</html>
`;

/** Builds the page into `outDir`; returns the bundle's sizes in bytes (raw and gzip). */
export async function buildApp(outDir = join(root, "dist/app")) {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(root, "src/server/app/main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: outDir,
    entryNames: "app",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  await writeFile(join(outDir, "index.html"), INDEX);
  const sizes = {};
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    const { readFile } = await import("node:fs/promises");
    sizes[file.split("/").pop()] = { bytes: info.bytes, gzip: gzipSync(await readFile(resolve(root, file).startsWith(outDir) ? resolve(root, file) : file)).length };
  }
  return sizes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await buildApp(process.argv[2] ? resolve(process.argv[2]) : undefined);
  const text = Object.entries(sizes).map(([f, s]) => `${f} ${(s.bytes / 1024).toFixed(1)} kB (${(s.gzip / 1024).toFixed(1)} kB gzip)`).join(", ");
  process.stdout.write(`web page: ${text}\n`);
}
