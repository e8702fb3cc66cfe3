import type { Command } from "commander";
import { approxSize, fileUrl, findModel, KNOWN_MODELS, DEFAULT_MODEL_BASE_URL } from "../../models/registry.js";
import { gearSegHome, modelDir, modelStatus, pullModel, requireModel } from "../../models/store.js";
import { checkNpmModelDir, findNpmModel, locateNpmModel, manualInstallHelp, npmModelDirs, NPM_MODELS, type NpmModel } from "../../models/npm-models.js";
import { pullNpmModel } from "../../models/npm-pull.js";
import { UsageError } from "../../util/errors.js";
import { action, makeIo, type GlobalFlags } from "../app.js";

/** Any known model id, or a usage error listing them all. */
function checkModelId(id: string): void {
  if (!findModel(id) && !findNpmModel(id)) {
    throw new UsageError(`unknown model "${id}" (known: ${[...KNOWN_MODELS, ...NPM_MODELS].map((m) => m.id).join(", ")})`);
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The state of an npm-packaged model: ready in some model folder, else what the pull folder holds. */
async function npmModelState(m: NpmModel): Promise<string> {
  if (await locateNpmModel(m.id).catch(() => null)) return "ready";
  const dirs = npmModelDirs(m.id);
  return (await checkNpmModelDir(m, dirs[dirs.length - 1]!)).state;
}

export function registerModels(program: Command): void {
  const models = program.command("models").description("model weights (SAM 2 ONNX exports, the NanoDet-g detector): list, pull (download into the cache), path");

  models
    .command("list")
    .description("known SAM 2 / 2.1 ONNX exports and npm-packaged models, and whether they are in the cache")
    .action(
      action(async (_flags: unknown, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const rows = [["id", "size", "state", "layout", "source"]];
        for (const m of KNOWN_MODELS) {
          const st = await modelStatus(m);
          const size = approxSize(m);
          rows.push([m.id, size ? `~${mb(size)}` : "?", st.state, m.layout, `https://huggingface.co/${m.repo}`]);
        }
        for (const m of NPM_MODELS) {
          const kept = m.files.reduce((n, f) => n + f.bytes, 0);
          rows.push([m.id, mb(kept), await npmModelState(m), "tfjs", `npm ${m.package}@${m.version} (${mb(m.tarballBytes)} tarball)`]);
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) io.out(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
        io.out(`cache: ${gearSegHome()}/models (set GEAR_SEG_HOME to move it)`);
      }),
    );

  models
    .command("pull")
    .description("download a model into the cache (resumes partial downloads; records the sha256 of each file)")
    .argument("<id>", "model id (see gear-seg models list)")
    .option("--base-url <url>", "download from this mirror instead of https://huggingface.co (npm-packaged models: from this npm registry)")
    .option("--timeout <seconds>", "give up when the server is silent this long", "15")
    .action(
      action(async (id: string, flags: { baseUrl?: string; timeout: string }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        checkModelId(id);
        const timeoutMs = Math.max(1, Number(flags.timeout) || 15) * 1000;
        if (findNpmModel(id)) {
          const got = await pullNpmModel(id, {
            registry: flags.baseUrl,
            timeoutMs,
            onProgress: (received, total) => io.progress.update(`${id} tarball`, Math.round(received / 1024), Math.round((total ?? received) / 1024)),
          });
          io.progress.clear();
          for (const f of got.model.files) io.out(`${f.name}  ${mb(f.bytes)}  sha256 ${f.sha256}`);
          io.out(`pulled ${id} (${got.model.package}@${got.model.version}) into ${got.dir}`);
          return;
        }
        requireModel(id);
        const { dir, manifest } = await pullModel(id, {
          baseUrl: flags.baseUrl,
          timeoutMs,
          onProgress: (file, received, total) => io.progress.update(file.split("/").pop() ?? file, Math.round(received / 1024), Math.round((total ?? received) / 1024)),
        });
        io.progress.clear();
        for (const [path, rec] of Object.entries(manifest.files)) io.out(`${path}  ${mb(rec.bytes)}  sha256 ${rec.sha256}`);
        io.out(`pulled ${id} into ${dir}`);
      }),
    );

  models
    .command("path")
    .description("print the cache folder of a model (use it as --segmenter sam2:<path>)")
    .argument("<id>", "model id")
    .action(
      action(async (id: string, _flags: unknown, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        checkModelId(id);
        const npm = findNpmModel(id);
        if (npm) {
          const found = await locateNpmModel(id);
          const dirs = npmModelDirs(id);
          io.out(found?.dir ?? dirs[dirs.length - 1]!);
          if (!found) io.err(`note: ${id} is not pulled yet; it is pulled on first use, or run gear-seg models pull ${id}, or ${manualInstallHelp(npm, dirs[dirs.length - 1]!)}`);
          return;
        }
        const m = requireModel(id);
        io.out(modelDir(m.id));
        const st = await modelStatus(m);
        if (st.state !== "ready") {
          io.err(`note: ${id} is ${st.state}; run gear-seg models pull ${id}, or put ${m.files.map((f) => fileUrl(m, f, DEFAULT_MODEL_BASE_URL)).join(", ")} there by hand`);
        }
      }),
    );
}
