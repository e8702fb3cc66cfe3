/**
 * `recorded:<file>`: the answer read from a GEAR-Seg reference answer file (`answer_mask_id` as strings or
 * numbers, `explanation`, `text`), so that a recorded run replays exactly. It does not reason: it says so in a
 * warning when the file was written for another query.
 */
import { createHash } from "node:crypto";
import type { BackendFactory, ReasonAnswer, Reasoner, ReasonRequest, StageContext } from "../../pipeline/types.js";
import { GearSegError, UsageError } from "../../util/errors.js";
import { isRecord, readJsonFile } from "../../util/json.js";

export const createRecordedReasoner: BackendFactory<Reasoner, Record<string, never>> = async (arg, _options, { spec, label, resolvePath }) => {
  if (!arg) throw new UsageError(`${label}: give the file, as recorded:<answer.json>`);
  const path = resolvePath(arg);
  const json = await readJsonFile(path, "answer file");
  if (!isRecord(json) || !Array.isArray(json.answer_mask_id)) {
    throw new GearSegError(`answer file "${path}": expected an object with an "answer_mask_id" list`);
  }
  const ids = json.answer_mask_id.map((v, i) => {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n)) throw new GearSegError(`answer file "${path}": answer_mask_id[${i}] is not an integer id`);
    return n;
  });
  const explanation = typeof json.explanation === "string" ? json.explanation : "";
  const texts = Array.isArray(json.text) ? json.text.filter((t): t is string => typeof t === "string") : [];
  const digest = createHash("sha256").update(JSON.stringify(json)).digest("hex");
  return new RecordedReasoner(path, ids, explanation, texts, spec, `${spec}#${digest}`);
};

export class RecordedReasoner implements Reasoner {
  constructor(
    readonly path: string,
    private readonly ids: readonly number[],
    private readonly explanation: string,
    private readonly texts: readonly string[],
    readonly spec: string,
    /** Keys on the file's contents: another answer in the same file is another configuration. */
    readonly fingerprint: string = spec,
  ) {}

  async reason(request: ReasonRequest, ctx?: StageContext): Promise<ReasonAnswer> {
    ctx?.signal?.throwIfAborted();
    const warnings: string[] = [];
    if (this.texts.length && !this.texts.some((t) => t.trim() === request.query)) {
      warnings.push(`recorded answer "${this.path}" was written for another query: "${this.texts[0]}"`);
    }
    return { maskIds: [...this.ids], explanation: this.explanation, warnings };
  }
}
