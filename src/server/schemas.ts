/**
 * The API's request and response bodies as zod schemas: requests are parsed with them (unknown fields are
 * refused, so a misspelt field is an error, not a silent default), responses are checked against them, and
 * `/openapi.json` is generated from them (./openapi.ts). Field names are snake_case, as in result.json.
 */
import * as z from "zod";

export const ImageId = z.string().regex(/^[0-9a-f]{64}$/).meta({ description: "sha256 of the uploaded bytes" });

export const ErrorBody = z.object({ error: z.string().meta({ description: "one line: what and why" }) });

const Bbox = z.tuple([z.number(), z.number(), z.number(), z.number()]).meta({ description: "[x, y, width, height] in pixels (COCO)" });
const Xyxy = z.tuple([z.number(), z.number(), z.number(), z.number()]).meta({ description: "[x0, y0, x1, y1] corners in pixels" });

export const CocoRle = z.object({
  size: z.tuple([z.number().int(), z.number().int()]).meta({ description: "[height, width]" }),
  counts: z.string().meta({ description: "COCO compressed RLE string" }),
});

export const RegionJson = z.object({
  id: z.number().int(),
  bbox: Bbox,
  area: z.number().int(),
  predicted_iou: z.number().optional(),
  stability_score: z.number().optional(),
  point_coords: z.array(z.tuple([z.number(), z.number()])).optional(),
  crop_box: Bbox.optional(),
  description: z.string(),
  segmentation: CocoRle,
});

const QueueStats = z.object({
  concurrency: z.number().int(),
  maxQueued: z.number().int(),
  running: z.number().int(),
  queued: z.number().int(),
  finished: z.number().int(),
  refused: z.number().int(),
});

export const Health = z.object({
  status: z.literal("ok"),
  version: z.string(),
  backends: z.object({ segmenter: z.string(), describer: z.string().nullable(), reasoner: z.string().nullable() }),
  prompts: z.boolean().meta({ description: "true when the segmenter takes point/box prompts (SAM 2)" }),
  datasets: z.boolean().meta({ description: "true when the server has a data folder of datasets to review" }),
  images: z.number().int(),
  queues: z.object({ prepare: QueueStats, ask: QueueStats }),
});

export const ImageState = z.enum(["queued", "segmenting", "describing", "ready", "failed"]);

export const ImageStatus = z.object({
  id: ImageId,
  name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  state: ImageState,
  progress: z
    .object({ stage: z.enum(["segment", "describe", "caption", "reason"]), done: z.number(), total: z.number() })
    .nullable(),
  error: z.string().nullable(),
  regions: z.number().int().nullable(),
});

export const ImageList = z.object({ images: z.array(ImageStatus) });

export const Regions = z.object({
  schema: z.number().int(),
  image: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  scene: z.string(),
  regions: z.array(RegionJson),
  added_regions: z.array(RegionJson).meta({ description: "regions added by point/box prompts" }),
  duplicates_dropped: z.number().int(),
  cap_dropped: z.number().int(),
  backends: z.object({ segmenter: z.string(), describer: z.string().nullable() }),
  cache: z.object({ regions: z.enum(["hit", "miss", "off"]), descriptions: z.enum(["hit", "miss", "off"]), caption: z.enum(["hit", "miss", "off"]) }),
  timings: z.record(z.string(), z.number()),
});

const Mode = z.enum(["reasoning", "referring"]);

export const AskRequest = z.strictObject({
  query: z.string().min(1).max(4000),
  mode: Mode.optional().meta({ description: "reasoning (default): implicit questions; referring: explicit, every instance" }),
  max_masks: z.number().int().min(1).max(1000).optional(),
  regions: z.boolean().optional().meta({ description: "false: leave the regions out of the reply (default true)" }),
});

export const ComposeRequest = z.strictObject({
  query: z.string().min(1).max(4000),
  mask_ids: z.array(z.number().int()).max(10_000),
  explanation: z.string().max(20_000).optional(),
  mode: Mode.optional(),
  regions: z.boolean().optional(),
});

export const Answer = z.object({
  answer_id: z.string(),
  corrected: z.boolean(),
  schema: z.number().int(),
  image: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  query: z.string(),
  mode: Mode,
  mask_ids: z.array(z.number().int()),
  explanation: z.string(),
  confidence: z.number().optional(),
  mask: CocoRle,
  mask_area: z.number().int(),
  mask_bbox: Bbox,
  dropped_ids: z.array(z.number()),
  warnings: z.array(z.string()),
  scene: z.string(),
  regions: z.array(RegionJson).optional(),
  duplicates_dropped: z.number().int(),
  cap_dropped: z.number().int(),
  cache: z.object({ regions: z.string(), descriptions: z.string(), caption: z.string() }),
  backends: z.object({ segmenter: z.string(), describer: z.string().nullable(), reasoner: z.string(), model: z.string().optional() }),
  usage: z
    .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() })
    .optional(),
  timings: z.record(z.string(), z.number()),
});

export const PromptRequest = z
  .strictObject({
    points: z
      .array(z.strictObject({ x: z.number(), y: z.number(), label: z.union([z.literal(0), z.literal(1)]).meta({ description: "1: on the object, 0: not on it" }) }))
      .max(64)
      .optional(),
    box: Xyxy.optional(),
  })
  .refine((p) => (p.points?.length ?? 0) > 0 || p.box !== undefined, { message: "give points, a box, or both" });

export const PromptReply = z.object({ region: RegionJson });

export type HealthJson = z.infer<typeof Health>;
export type ImageStatusJson = z.infer<typeof ImageStatus>;
export type RegionsJson = z.infer<typeof Regions>;
export type RegionJsonType = z.infer<typeof RegionJson>;
export type AnswerJson = z.infer<typeof Answer>;
