/** Options of the `dam` describer: the shared HTTP options and the generation parameters sent to the server. */
import type { z } from "zod";
import { integer, number, optionsSchema, text } from "../../config/schema.js";
import { chatOptions } from "../../net/options.js";

export const damOptions = optionsSchema(() =>
  chatOptions.schema.extend({
    /** The model name sent (default `describe_anything_model`, which skips the server's model check). */
    model: text().optional(),
    /** The instruction (default DAM's own "Describe the masked region in detail."). */
    prompt: text().optional(),
    maxTokens: integer(1).optional(),
    temperature: number(0, 2).optional(),
    topP: number(0, 1).optional(),
    /**
     * How each region's own rows in the PNG sent are compressed. 1 (default): as literals under the image's own
     * Huffman codes, from bits encoded once per image (about 1 ms per region, no zlib run); 0 or 2–9: zlib at
     * that level (2 and up: fewer bytes for about 10 ms or more of CPU per region). The rows every region shares
     * are compressed once per image at zlib level 4, or this one if higher.
     */
    pngCompression: integer(0, 9).optional(),
  }),
);

export type DamOptions = z.input<typeof damOptions.schema>;
