/**
 * The model cache: `$GEAR_SEG_HOME/models/<id>/` (GEAR_SEG_HOME defaults to ~/.cache/gear-seg), resumable
 * downloads, and a `manifest.json` beside the files recording the URL, size and sha256 of what was
 * downloaded. Later loads verify the files against it.
 */
import { createHash } from "node:crypto";
import { open, readFile, rename, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { GearSegError, UsageError } from "../util/errors.js";
import { hashFileInto, makeDir, sha256File, writeJsonAtomic } from "../util/fs.js";
import { DEFAULT_MODEL_BASE_URL, KNOWN_MODELS, fileUrl, findModel, type KnownModel } from "./registry.js";

export const MANIFEST = "manifest.json";

export function gearSegHome(env: NodeJS.ProcessEnv = process.env): string {
  // Same rule as src/cache/sqlite-cache.ts (not imported: it loads SQLite).
  const home = env.GEAR_SEG_HOME?.trim();
  return home ? resolve(home) : join(homedir(), ".cache", "gear-seg");
}

export function modelDir(id: string, home = gearSegHome()): string {
  return join(home, "models", id);
}

export function requireModel(id: string): KnownModel {
  const m = findModel(id);
  if (!m) throw new UsageError(`unknown model "${id}" (known: ${KNOWN_MODELS.map((k) => k.id).join(", ")})`);
  return m;
}

export interface ManifestFile {
  url: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  id: string;
  repo: string;
  revision: string;
  layout: string;
  encoder: string;
  decoder: string;
  files: Record<string, ManifestFile>;
  /** False while a pull is under way or after one failed part-way (finished files are recorded as they land). */
  complete: boolean;
  downloadedAt: string;
}

export async function readManifest(dir: string): Promise<Manifest | null> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), "utf8");
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (!m || typeof m.files !== "object") throw new Error("no files");
    return m;
  } catch (err) {
    throw new GearSegError(`model manifest "${join(dir, MANIFEST)}" is not valid JSON: ${(err as Error).message}`);
  }
}

export { sha256File };

const verified = new Map<string, string>(); // path → "size:mtime:sha" checked in this process

/**
 * The sha256 of a file whose size is already known to be right, hashed once per process while its size and
 * modification time stay the same (model files are large: loads after the first skip the hash).
 */
export async function fileHasSha256(path: string, size: number, mtimeMs: number, sha256: string): Promise<boolean> {
  const key = `${size}:${mtimeMs}:${sha256}`;
  if (verified.get(path) === key) return true;
  if ((await sha256File(path)) !== sha256) return false;
  verified.set(path, key);
  return true;
}

/** Checks every file the manifest lists against its recorded size and sha256; returns the hashes. */
export async function verifyManifest(dir: string, manifest: Manifest): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [rel, rec] of Object.entries(manifest.files)) {
    const path = join(dir, rel);
    const info = await stat(path).catch(() => null);
    if (!info) throw new GearSegError(`model file "${path}" is missing (recorded in ${join(dir, MANIFEST)}); run gear-seg models pull ${manifest.id}`);
    if (info.size !== rec.bytes) {
      throw new GearSegError(`model file "${path}" has ${info.size} bytes, ${rec.bytes} were downloaded; run gear-seg models pull ${manifest.id} again`);
    }
    if (!(await fileHasSha256(path, info.size, info.mtimeMs, rec.sha256))) {
      throw new GearSegError(`model file "${path}" has sha256 ${await sha256File(path)}, ${rec.sha256} was recorded when it was downloaded; it changed or is corrupt`);
    }
    out[rel] = rec.sha256;
  }
  return out;
}

export interface PullOptions {
  home?: string;
  /** Replaces https://huggingface.co (default: env GEAR_SEG_MODEL_BASE_URL). */
  baseUrl?: string;
  /** Milliseconds to wait for a server's response headers, or between data chunks (default 15 s). */
  timeoutMs?: number;
  onProgress?: (file: string, received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

function offlineHelp(model: KnownModel, dir: string, baseUrl: string): string {
  return `put the files there by hand: ${model.files.map((f) => `${fileUrl(model, f, baseUrl)} → ${join(dir, f.path)}`).join("; ")}`;
}

/** Downloads one URL to `dest`, resuming from `dest.part`; returns size and sha256. */
async function downloadFile(
  url: string,
  dest: string,
  timeoutMs: number,
  onProgress: ((received: number, total: number | undefined) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<{ bytes: number; sha256: string }> {
  await makeDir(dirname(dest));
  const part = `${dest}.part`;
  const have = (await stat(part).catch(() => null))?.size ?? 0;
  const hash = createHash("sha256");
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort);
  let timer = setTimeout(() => controller.abort(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${timeoutMs} ms`)), timeoutMs);
  };
  try {
    const res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: controller.signal, redirect: "follow" });
    if (res.status === 416 && have > 0) {
      // The part file is already complete (or longer than the file): start over.
      await res.body?.cancel();
      const { rm } = await import("node:fs/promises");
      await rm(part, { force: true });
      clearTimeout(timer);
      return downloadFile(url, dest, timeoutMs, onProgress, signal);
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    const resumed = res.status === 206 && have > 0;
    let received = 0;
    if (resumed) {
      await hashFileInto(hash, part);
      received = have;
    }
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
    const fh = await open(part, resumed ? "a" : "w");
    try {
      onProgress?.(received, total);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rearm();
        hash.update(chunk);
        await fh.write(chunk);
        received += chunk.length;
        onProgress?.(received, total);
      }
    } finally {
      await fh.close();
    }
    if (total !== undefined && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes (run pull again to resume)`);
    await rename(part, dest);
    return { bytes: received, sha256: hash.digest("hex") };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Downloads a known model into the cache (resuming partial files) and records what was downloaded. */
export async function pullModel(id: string, options: PullOptions = {}): Promise<{ dir: string; manifest: Manifest }> {
  const model = requireModel(id);
  const dir = modelDir(id, options.home ?? gearSegHome());
  const baseUrl = options.baseUrl ?? process.env.GEAR_SEG_MODEL_BASE_URL ?? DEFAULT_MODEL_BASE_URL;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const existing = await readManifest(dir).catch(() => null);
  const files: Record<string, ManifestFile> = {};
  const record = (complete: boolean): Manifest => ({
    id: model.id,
    repo: model.repo,
    revision: model.revision,
    layout: model.layout,
    encoder: model.encoder,
    decoder: model.decoder,
    files: { ...files },
    complete,
    downloadedAt: new Date().toISOString(),
  });
  for (const f of model.files) {
    const url = fileUrl(model, f, baseUrl);
    const dest = join(dir, f.path);
    const prior = existing?.files[f.path];
    const info = await stat(dest).catch(() => null);
    if (prior && info && info.size === prior.bytes && prior.url === url) {
      const sha = await sha256File(dest);
      if (sha === prior.sha256) {
        files[f.path] = prior;
        options.onProgress?.(f.path, info.size, info.size);
        continue;
      }
    }
    try {
      const got = await downloadFile(url, dest, timeoutMs, (r, t) => options.onProgress?.(f.path, r, t), options.signal);
      files[f.path] = { url, ...got };
      await writeJsonAtomic(join(dir, MANIFEST), record(false));
    } catch (err) {
      const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      throw new GearSegError(`cannot download ${url}: ${reason.split("\n")[0]}. Without network, ${offlineHelp(model, dir, baseUrl)}`, { cause: err });
    }
  }
  const manifest = record(true);
  await writeJsonAtomic(join(dir, MANIFEST), manifest);
  return { dir, manifest };
}

export interface ModelStatus {
  model: KnownModel;
  dir: string;
  /** "ready" (manifest and all files present), "partial", or "absent". */
  state: "ready" | "partial" | "absent";
}

export async function modelStatus(model: KnownModel, home = gearSegHome()): Promise<ModelStatus> {
  const dir = modelDir(model.id, home);
  const manifest = await readManifest(dir).catch(() => null);
  let present = 0;
  for (const f of model.files) if (await stat(join(dir, f.path)).catch(() => null)) present++;
  const state = manifest?.complete && present === model.files.length ? "ready" : present > 0 || manifest ? "partial" : "absent";
  return { model, dir, state };
}

/** Encoder and decoder paths of a pulled model (verified against its manifest). */
export async function pulledModelFiles(id: string, home = gearSegHome()): Promise<{ encoder: string; decoder: string; hashes: Record<string, string> }> {
  const model = requireModel(id);
  const dir = modelDir(id, home);
  const manifest = await readManifest(dir);
  if (!manifest || !manifest.complete) {
    throw new GearSegError(`model "${id}" is ${manifest ? "only partly" : "not"} in ${dir}: run gear-seg models pull ${id} (${offlineHelp(model, dir, DEFAULT_MODEL_BASE_URL)})`);
  }
  const hashes = await verifyManifest(dir, manifest);
  return { encoder: join(dir, manifest.encoder), decoder: join(dir, manifest.decoder), hashes };
}
