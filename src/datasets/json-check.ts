/**
 * Small validators for dataset JSON: every failure names the file and the JSON path of the bad entry, e.g.
 * `bad annotation "data/x.json" at shapes[2].points[5]: expected [x, y] numbers`.
 */
import { readFile } from "node:fs/promises";
import { GearSegError } from "../util/errors.js";

export function jsonError(file: string, path: string, reason: string): GearSegError {
  return new GearSegError(`bad dataset file "${file}"${path ? ` at ${path}` : ""}: ${reason}`);
}

/** Reads a JSON file. Falls back to Latin-1 when the bytes are not UTF-8 (LISA retries with cp1252). */
export async function readDatasetJson(file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a folder" : (err as Error).message;
    throw new GearSegError(`cannot read dataset file "${file}": ${reason}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = bytes.toString("latin1");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new GearSegError(`dataset file "${file}" is not valid JSON: ${(err as Error).message}`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function expectObject(v: unknown, file: string, path: string): Record<string, unknown> {
  if (!isObject(v)) throw jsonError(file, path || "top level", "expected an object");
  return v;
}

export function expectArray(v: unknown, file: string, path: string): unknown[] {
  if (!Array.isArray(v)) throw jsonError(file, path || "top level", "expected a list");
  return v;
}

export function expectString(v: unknown, file: string, path: string): string {
  if (typeof v !== "string") throw jsonError(file, path, "expected a string");
  return v;
}

export function expectNumber(v: unknown, file: string, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw jsonError(file, path, "expected a finite number");
  return v;
}

export function expectInteger(v: unknown, file: string, path: string, min = 0): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw jsonError(file, path, `expected an integer ≥ ${min}`);
  return v;
}

/** A JSON path segment for a key: `.name` when it is an identifier, `["key"]` otherwise. */
export function keyPath(base: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base ? base + "." : ""}${key}` : `${base}[${JSON.stringify(key)}]`;
}
