// Compiles every WebAssembly text file under src/ (*.wat) into dist/ at the same place (*.wasm), with wabt's
// assembler (a development dependency: the package ships the .wasm). Run by `npm run build`.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import initWabt from "wabt";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

async function* watFiles(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* watFiles(path);
    else if (entry.name.endsWith(".wat")) yield path;
  }
}

const wabt = await initWabt();
for await (const path of watFiles(src)) {
  const name = relative(root, path);
  const module = wabt.parseWat(name, await readFile(path, "utf8"), { simd: true });
  try {
    module.validate();
    const out = join(root, "dist", relative(src, path)).replace(/\.wat$/, ".wasm");
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
