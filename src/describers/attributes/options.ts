/** Options of the `attributes` describer and captioner. */
import { z } from "zod";
import { integer } from "../../config/schema.js";

export const attributesOptions = z.strictObject({
  /** Most colours named per region (default 3). */
  maxColours: integer(1, 5).optional(),
});

export type AttributesOptions = z.input<typeof attributesOptions>;
