import { readFile } from "node:fs/promises";
import { GearSegError } from "./errors.js";

/** Read and parse a JSON file; errors name the file and say whether it is missing or malformed. */
export async function readJsonFile(path: string, what = "file"): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "is a folder" : (err as Error).message;
    throw new GearSegError(`cannot read ${what} "${path}": ${reason}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new GearSegError(`${what} "${path}" is not valid JSON: ${(err as Error).message}`);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
