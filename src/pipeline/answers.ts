/**
 * Every query on one prepared image, written as one folder: with one query the folder holds its files; with
 * several, `candidates.png` once and one sub-folder per query (`01-<slug>`). A failing query is recorded and the
 * others go on; the folder is claimed only when the first finished file is written, so a run that answers
 * nothing leaves nothing behind.
 */
import { join } from "node:path";
import { renderCandidates } from "../image/index.js";
import { describeError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs.js";
import type { AskOptions, GearSeg, PreparedImage, SegmentationResult } from "./agent.js";
import { queryFolderName, writeSegmentationOutputs, type OutputOptions } from "./outputs.js";

export interface QueryOutcome {
  query: string;
  /** The folder with this query's files (when answered). */
  dir?: string;
  result?: SegmentationResult;
  /** What went wrong (when not answered): the thrown value and its one-line message. */
  error?: unknown;
  message?: string;
}

export interface AnswerQueriesOptions extends Omit<AskOptions, "signal">, OutputOptions {
  signal?: AbortSignal;
  /** The image's folder; called once, when the first finished file is about to be written. */
  folder: () => Promise<string>;
  /** After each query, answered or not. */
  onQuery?: (outcome: QueryOutcome, index: number) => void;
}

export async function answerQueries(
  agent: GearSeg,
  prepared: PreparedImage,
  queries: readonly string[],
  options: AnswerQueriesOptions,
): Promise<QueryOutcome[]> {
  const { folder, onQuery, mode, maxMasks, signal, ...outputOptions } = options;
  let claimed: Promise<string> | undefined;
  const claim = () => (claimed ??= folder());
  const many = queries.length > 1;
  const outcomes: QueryOutcome[] = [];
  for (const [i, query] of queries.entries()) {
    let outcome: QueryOutcome;
    try {
      const result = await agent.ask(prepared, query, { mode, maxMasks, signal });
      const image = await prepared.loadImage();
      const dir = many ? join(await claim(), queryFolderName(i, query)) : await claim();
      await writeSegmentationOutputs(dir, result, image, { ...outputOptions, candidates: !many });
      outcome = { query, dir, result };
    } catch (err) {
      signal?.throwIfAborted();
      outcome = { query, error: err, message: describeError(err) };
    }
    outcomes.push(outcome);
    onQuery?.(outcome, i);
  }
  if (many && outcomes.some((o) => o.result)) {
    const image = await prepared.loadImage();
    const format = outputOptions.imageFormat ?? "png";
    await writeFileAtomic(join(await claim(), `candidates.${format}`), await renderCandidates(image, prepared.regions, { format }));
  }
  return outcomes;
}
