/** Options of the `attributes` describer and captioner. */
import type { z } from "zod";
import { integer, optionsSchema } from "../../config/schema.js";
import { zod } from "../../config/zod.js";

export const attributesOptions = optionsSchema(() =>
  zod().strictObject({
    /** Most colours named per region (default 3). */
    maxColours: integer(1, 5).optional(),
  }),
);

export type AttributesOptions = z.input<typeof attributesOptions.schema>;
