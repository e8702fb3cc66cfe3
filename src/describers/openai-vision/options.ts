/** Options of the `openai-vision` describer and captioner: the shared HTTP options and the generation parameters. */
import type { z } from "zod";
import { integer, number, optionsSchema } from "../../config/schema.js";
import { chatOptions } from "../../net/options.js";

export const openAiVisionOptions = optionsSchema(() =>
  chatOptions.schema.extend({
    maxTokens: integer(1).optional(),
    temperature: number(0, 2).optional(),
    /** Longest side of the images sent (default 1024). */
    maxSide: integer(64).optional(),
  }),
);

export type OpenAiVisionOptions = z.input<typeof openAiVisionOptions.schema>;
