/**
 * Reading a mask selection out of what an LLM actually writes: thinking blocks, markdown fences, prose around
 * the JSON, ids as numbers or strings ("3", "Mask 3"), a reply cut off after the id list.
 */
import { jsonCandidates, stripThinking } from "../../net/chat.js";

export interface ParsedAnswer {
  /** The ids as written, in order (integers only; see `rejected`). */
  ids: number[];
  /** Entries that are not an id (e.g. "the sail"), as text. */
  rejected: string[];
  explanation: string;
  confidence?: number;
  /** Set when the JSON was cut off and only the id list was recovered. */
  truncated?: boolean;
}

export class AnswerParseError extends Error {}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const ID_KEYS = ["mask_ids", "maskIds", "mask_id", "ids", "answer_mask_id", "masks"];

export function parseAnswer(content: string): ParsedAnswer {
  const text = stripThinking(content);
  if (!text) throw new AnswerParseError("the answer is empty");
  for (const candidate of jsonCandidates(text)) {
    const value = tryJson(candidate);
    if (value === undefined) continue;
    const parsed = fromValue(value);
    if (parsed) return parsed;
  }
  // Cut off mid-explanation: the id list may still be whole.
  const m = /"(?:mask_ids|maskIds|ids)"\s*:\s*\[([^\]]*)\]/.exec(text);
  if (m) {
    const { ids, rejected } = readIds(tryJson(`[${m[1]}]`) ?? m[1]!.split(","));
    const expl = /"explanation"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(text);
    return { ids, rejected, explanation: expl ? unescape(expl[1]!) : "", truncated: true };
  }
  throw new AnswerParseError(`no JSON answer with "mask_ids" found in: ${JSON.stringify(text.slice(0, 160))}`);
}


function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function fromValue(value: unknown): ParsedAnswer | undefined {
  if (Array.isArray(value)) return { ...readIds(value), explanation: "" };
  if (!isObject(value)) return undefined;
  const key = ID_KEYS.find((k) => k in value);
  if (key === undefined) return undefined;
  const raw = value[key];
  const list = Array.isArray(raw) ? raw : raw === null || raw === undefined || raw === "" ? [] : [raw];
  const explanation = typeof value.explanation === "string" ? value.explanation : typeof value.reason === "string" ? value.reason : "";
  const c = value.confidence;
  const confidence = typeof c === "number" && c >= 0 && c <= 1 ? c : undefined;
  return { ...readIds(list), explanation, ...(confidence !== undefined && { confidence }) };
}

function readIds(list: unknown): { ids: number[]; rejected: string[] } {
  const ids: number[] = [];
  const rejected: string[] = [];
  for (const item of Array.isArray(list) ? list : []) {
    if (typeof item === "number" && Number.isInteger(item) && item >= 0) ids.push(item);
    else if (typeof item === "string") {
      const m = /^\s*\[?\s*(?:mask\s*#?\s*)?(\d+)\s*\]?\s*$/i.exec(item);
      if (m) ids.push(Number(m[1]));
      else rejected.push(item);
    } else rejected.push(JSON.stringify(item));
  }
  return { ids, rejected };
}

function unescape(s: string): string {
  return tryJson(`"${s}"`) as string | undefined ?? s;
}
