/** Options of the `openai` reasoner: the shared HTTP options and how the answer is asked for. */
import type { z } from "zod";
import { flag, integer, number, oneOf, optionsSchema } from "../../config/schema.js";
import { chatOptions } from "../../net/options.js";

export const openAiReasonerOptions = optionsSchema(() =>
  chatOptions.schema.extend({
    /** How JSON is asked for: "auto" (json_schema, then json_object, then the prompt alone), or one of them. */
    responseFormat: oneOf(["auto", "json_schema", "json_object", "none"]).optional(),
    temperature: number(0, 2).optional(),
    maxTokens: integer(1).optional(),
    /** Extra attempts when the answer is empty or not readable (default 2). */
    answerRetries: integer(0, 10).optional(),
    /** Give the model each region's box and area besides its description. */
    geometry: flag().optional(),
  }),
);

export type OpenAiReasonerOptions = z.input<typeof openAiReasonerOptions.schema>;
