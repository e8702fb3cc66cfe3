/** Request and response bodies of the dataset review API (see ./schemas.ts for the conventions). */
import * as z from "zod";
import { REASONING_TYPES } from "../datasets/gear-seg.js";
import { CocoRle } from "./schemas.js";

const Split = z.enum(["train", "val", "test"]);
export const ReviewStatusSchema = z.enum(["unreviewed", "accepted", "rejected"]);

export const ReviewCounts = z.object({ unreviewed: z.number().int(), accepted: z.number().int(), rejected: z.number().int() });

export const DatasetSummary = z.object({
  name: z.string().meta({ description: "the dataset's folder, relative to the server's data folder, with / separators" }),
  kind: z.enum(["reasoning", "instances"]),
  reviewable: z.boolean().meta({ description: "reasoning datasets can be reviewed here" }),
  created: z.string(),
  updated: z.string(),
  generation: z.object({ segmenter: z.string(), describer: z.string().nullable(), llm: z.string() }),
  images: z.number().int(),
  items: z.number().int(),
  splits: z.record(z.string(), z.number().int()),
  types: z.record(z.string(), z.number().int()),
  review: ReviewCounts,
});

export const DatasetList = z.object({ datasets: z.array(DatasetSummary) });

export const Item = z.object({
  id: z.string(),
  image_id: z.string(),
  image: z.string().meta({ description: "path under the dataset's images folder" }),
  image_url: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  split: Split,
  reasoning_type: z.string(),
  questions: z.array(z.string()),
  explanation: z.string().meta({ description: "the logic chain" }),
  answer_labels: z.array(z.string()),
  region_ids: z.array(z.number().int()),
  confidence: z.number().meta({ description: "0 to 10, as the generating LLM gave it" }),
  mask: CocoRle,
  area: z.number().int(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  review: z.object({ status: z.enum(["accepted", "rejected"]), at: z.string(), region_ids_before: z.array(z.number().int()).optional() }).nullable(),
});

export const ItemPage = z.object({
  dataset: z.string(),
  total: z.number().int().meta({ description: "items that pass the filters" }),
  offset: z.number().int(),
  limit: z.number().int(),
  items: z.array(Item),
  review: ReviewCounts.meta({ description: "over the whole dataset" }),
});

export const ItemQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(24),
  split: Split.optional(),
  type: z.string().max(40).optional(),
  status: ReviewStatusSchema.optional(),
  min_confidence: z.coerce.number().min(0).max(10).optional().meta({ description: "the generator's confidence, 0 to 10" }),
  max_confidence: z.coerce.number().min(0).max(10).optional(),
});

export const ReviewRequest = z
  .strictObject({
    status: ReviewStatusSchema.optional(),
    region_ids: z.array(z.number().int()).min(1).max(1000).optional(),
  })
  .refine((r) => r.status !== undefined || r.region_ids !== undefined, { message: "give a status, region_ids, or both" });

export const ReviewReply = z.object({ item: Item, review: ReviewCounts });

export const SaveAnswerRequest = z.strictObject({
  image_id: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: "the uploaded image (POST /api/images)" }),
  answer_id: z.string().max(20).meta({ description: "one of its answers, asked or corrected" }),
  reasoning_type: z.enum(REASONING_TYPES).meta({ description: "the item's reasoning category" }),
  create: z.boolean().optional().meta({ description: "start the dataset (a new folder in the data folder) when there is none of this name" }),
});

export const SaveAnswerReply = z.object({
  dataset: z.string(),
  created: z.boolean().meta({ description: "true when this save started the dataset" }),
  item: Item,
  review: ReviewCounts,
});

export const ImageRegions = z.object({
  image_id: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  regions: z.array(z.object({ id: z.number().int(), bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]), area: z.number().int(), segmentation: CocoRle })),
});

export type DatasetSummaryJson = z.infer<typeof DatasetSummary>;
export type ItemJson = z.infer<typeof Item>;
export type ItemPageJson = z.infer<typeof ItemPage>;
export type ReviewCountsJson = z.infer<typeof ReviewCounts>;
export type SaveAnswerRequestJson = z.input<typeof SaveAnswerRequest>;
export type SaveAnswerReplyJson = z.infer<typeof SaveAnswerReply>;
