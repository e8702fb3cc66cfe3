/** Options of the `embedding` reasoner: the shared HTTP options and the selection rule. */
import type { z } from "zod";
import { integer, number, optionsSchema } from "../../config/schema.js";
import { httpOptions } from "../../net/options.js";

export const embeddingReasonerOptions = optionsSchema(() =>
  httpOptions.schema.extend({
    /** Keep regions scoring at least this share of the best score (default 0.9). */
    relativeThreshold: number(0, 1).optional(),
    /** Never keep a region below this cosine similarity (default 0). */
    minSimilarity: number(-1, 1).optional(),
    /** Texts per request (default 64). */
    batchSize: integer(1).optional(),
  }),
);

export type EmbeddingReasonerOptions = z.input<typeof embeddingReasonerOptions.schema>;
