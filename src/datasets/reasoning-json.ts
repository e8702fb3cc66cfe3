/**
 * Reasoning-segmentation datasets distributed as one JSON file:
 * - LLM-Seg40k (wangjunchi/LLMSeg): a dict keyed by image, each with `qa_pairs`: [{question, rle_seg}], the
 *   target as a COCO RLE ({size, counts}).
 * - MUSE (PixelLM) and MMR: a list of entries with the image (`image_path` / `file_name` / `image`), `height`,
 *   `width`, the question(s) (`questions` list or `question` / `text`), and `answers`: COCO annotations whose
 *   `segmentation` (polygons or RLE) are the targets; the target of a question is the union of its answers.
 * Every failure names the file and the JSON path of the bad entry.
 */
import { fromCocoRle, fromPolygons, merge, emptyRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import { expectArray, expectInteger, expectObject, expectString, jsonError, keyPath, readDatasetJson } from "./json-check.js";

export interface ReasoningSample {
  id: string;
  image: string;
  question: string;
  target: Rle;
}

function rleAt(v: unknown, file: string, path: string, height?: number, width?: number): Rle {
  try {
    if (Array.isArray(v)) {
      if (height === undefined || width === undefined) throw new Error("polygons need the entry's height and width");
      return fromPolygons(v as number[][], height, width);
    }
    return fromCocoRle(v, "segmentation");
  } catch (err) {
    throw jsonError(file, path, (err as Error).message);
  }
}

export function parseLlmSeg40k(json: unknown, file: string): ReasoningSample[] {
  const top = expectObject(json, file, "");
  const out: ReasoningSample[] = [];
  for (const [image, v] of Object.entries(top)) {
    const base = keyPath("", image);
    const entry = expectObject(v, file, base);
    expectArray(entry.qa_pairs, file, `${base}.qa_pairs`).forEach((qa, i) => {
      const path = `${base}.qa_pairs[${i}]`;
      const o = expectObject(qa, file, path);
      const question = expectString(o.question, file, `${path}.question`);
      out.push({ id: `${image}#${i}`, image, question, target: rleAt(o.rle_seg, file, `${path}.rle_seg`) });
    });
  }
  return out;
}

export function parseMuseLike(json: unknown, file: string): ReasoningSample[] {
  const list = expectArray(json, file, "");
  const out: ReasoningSample[] = [];
  list.forEach((v, i) => {
    const path = `[${i}]`;
    const e = expectObject(v, file, path);
    const imageKey = ["image_path", "file_name", "image"].find((k) => typeof e[k] === "string");
    if (!imageKey) throw jsonError(file, path, "no image_path, file_name or image");
    const image = e[imageKey] as string;
    const height = e.height === undefined ? undefined : expectInteger(e.height, file, `${path}.height`, 1);
    const width = e.width === undefined ? undefined : expectInteger(e.width, file, `${path}.width`, 1);
    const questions: string[] = Array.isArray(e.questions)
      ? e.questions.map((q, j) => expectString(q, file, `${path}.questions[${j}]`))
      : [expectString(e.question ?? e.text, file, `${path}.question`)];
    const answers = expectArray(e.answers, file, `${path}.answers`);
    // MUSE: answers[k] belongs to questions[k] when both are lists of the same length (one mask set per
    // question); otherwise every answer belongs to the single question.
    const perQuestion = questions.length > 1 && answers.length === questions.length && answers.every(Array.isArray);
    questions.forEach((question, qi) => {
      const anns = perQuestion ? (answers[qi] as unknown[]) : answers;
      const base = perQuestion ? `${path}.answers[${qi}]` : `${path}.answers`;
      const rles = anns.map((a, k) => {
        const ann = expectObject(a, file, `${base}[${k}]`);
        return rleAt(ann.segmentation, file, `${base}[${k}].segmentation`, height, width);
      });
      let target: Rle;
      if (rles.length > 0) target = merge(rles);
      else if (height !== undefined && width !== undefined) target = emptyRle(height, width);
      else throw jsonError(file, `${path}.answers`, "no answers and no height/width");
      out.push({ id: `${i}#${qi}`, image, question, target });
    });
  });
  return out;
}

export async function loadLlmSeg40k(file: string): Promise<ReasoningSample[]> {
  return parseLlmSeg40k(await readDatasetJson(file), file);
}

export async function loadMuse(file: string): Promise<ReasoningSample[]> {
  return parseMuseLike(await readDatasetJson(file), file);
}

/** MMR uses the same entry shape as MUSE here. */
export const loadMmr = loadMuse;
