/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the same zod schemas that parse requests
 * and check responses (z.toJSONSchema into components), so the document cannot drift from the code.
 */
import * as z from "zod";
import * as S from "./schemas.js";
import * as D from "./dataset-schemas.js";

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ "application/json": { schema: ref(name) } });
const error = (description: string) => ({ description, content: json("ErrorBody") });

const idParam = { name: "id", in: "path", required: true, schema: ref("ImageId") };
const answerParam = { name: "answer", in: "path", required: true, schema: { type: "string" } };
const datasetParam = { name: "dataset", in: "path", required: true, schema: { type: "string" }, description: "the dataset's folder, relative to the server's data folder" };
const itemParam = { name: "item", in: "path", required: true, schema: { type: "string" }, description: "item id, `<image-id>#<k>`, URL-encoded" };

const common = {
  "401": error("missing or wrong bearer token (when the server has one)"),
  "500": error("the server or a backend failed"),
};
const notFound = error("no such image, answer, dataset or item");

function op(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, ...extra, responses: { ...responses, ...common } };
}

function paths(withDatasets: boolean): Json {
  const p: Json = {
    "/api/health": { get: op("server status: backends, queues, whether prompts and datasets are available", { "200": { description: "ok", content: json("Health") } }) },
    "/api/images": {
      post: op(
        "upload an image; its preparation (segment, describe, caption) starts in the background",
        {
          "201": { description: "a new image", content: json("ImageStatus") },
          "200": { description: "these bytes were uploaded before: the same image, its work reused", content: json("ImageStatus") },
          "400": error("empty upload"),
          "413": error("over the upload size or pixel limit"),
          "415": error("not an image"),
          "429": { ...error("the preparation queue is full"), headers: { "Retry-After": { schema: { type: "integer" }, description: "seconds" } } },
        },
        {
          parameters: [{ name: "name", in: "query", required: false, schema: { type: "string" }, description: "the image's name (multipart: the file name)" }],
          requestBody: {
            required: true,
            content: {
              "image/*": { schema: { type: "string", format: "binary" } },
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
              "multipart/form-data": { schema: { type: "object", properties: { image: { type: "string", format: "binary" } } } },
            },
          },
        },
      ),
      get: op("the images the server holds", { "200": { description: "ok", content: json("ImageList") } }),
    },
    "/api/images/{id}": {
      get: op("state (queued, segmenting, describing, ready, failed), progress and error", { "200": { description: "ok", content: json("ImageStatus") }, "404": notFound }, { parameters: [idParam] }),
      delete: op("cancel the image's preparation and forget it", { "204": { description: "removed" }, "404": notFound }, { parameters: [idParam] }),
    },
    "/api/images/{id}/events": {
      get: op(
        "the image's status as server-sent events (`event: status`, data = ImageStatus) until it is ready or failed",
        { "200": { description: "an event stream", content: { "text/event-stream": { schema: { type: "string" } } } }, "404": notFound },
        { parameters: [idParam] },
      ),
    },
    "/api/images/{id}/image": { get: op("the uploaded image", { "200": { description: "the bytes as uploaded" }, "404": notFound }, { parameters: [idParam] }) },
    "/api/images/{id}/regions": {
      get: op(
        "the numbered regions with boxes, areas, scores, descriptions and RLE masks, and the scene caption (the `describe --json` shape)",
        { "200": { description: "ok", content: json("Regions") }, "404": notFound, "409": error("not ready yet, or failed") },
        { parameters: [idParam] },
      ),
    },
    "/api/images/{id}/ask": {
      post: op(
        "answer a query: the chosen regions, the explanation and their union (the result.json shape); a client that disconnects cancels it",
        { "200": { description: "the answer", content: json("Answer") }, "400": error("bad JSON or fields"), "404": notFound, "409": error("not ready yet, or failed"), "429": error("the ask queue is full") },
        { parameters: [idParam], requestBody: { required: true, content: json("AskRequest") } },
      ),
    },
    "/api/images/{id}/answers": {
      post: op(
        "a corrected answer: regions chosen by hand (prepared ones or ones added by prompts), union recomputed",
        { "201": { description: "the answer", content: json("Answer") }, "400": error("bad JSON, fields or region ids"), "404": notFound, "409": error("not ready yet") },
        { parameters: [idParam], requestBody: { required: true, content: json("ComposeRequest") } },
      ),
    },
    "/api/images/{id}/answers/{answer}": {
      get: op("an answer given before", { "200": { description: "ok", content: json("Answer") }, "404": notFound }, { parameters: [idParam, answerParam] }),
    },
    "/api/images/{id}/answers/{answer}/{file}": {
      get: op(
        "an answer's files: result.json, mask.png (0/255), overlay.png, labelme.json (LabelMe polygons), coco.json (COCO instances, RLE)",
        { "200": { description: "the file, as a download" }, "404": notFound },
        {
          parameters: [
            idParam,
            answerParam,
            { name: "file", in: "path", required: true, schema: { type: "string", enum: ["result.json", "mask.png", "overlay.png", "labelme.json", "coco.json"] } },
          ],
        },
      ),
    },
    "/api/images/{id}/prompt": {
      post: op(
        "SAM 2 only: one new region from positive/negative points and/or a box, decoded on the image's cached embedding; it joins the image's regions (added_regions) and can be chosen in a corrected answer",
        { "201": { description: "the new region", content: json("PromptReply") }, "400": error("bad prompt, or the segmenter cannot take prompts"), "404": notFound, "409": error("not ready yet"), "429": error("the queue is full") },
        { parameters: [idParam], requestBody: { required: true, content: json("PromptRequest") } },
      ),
    },
  };
  if (withDatasets) {
    p["/api/datasets"] = { get: op("the datasets in the server's data folder", { "200": { description: "ok", content: json("DatasetList") } }) };
    p["/api/datasets/{dataset}"] = { get: op("one dataset: manifest summary and review counts", { "200": { description: "ok", content: json("DatasetSummary") }, "403": error("outside the data folder"), "404": notFound }, { parameters: [datasetParam] }) };
    p["/api/datasets/{dataset}/items"] = {
      get: op(
        "a page of items, filtered",
        { "200": { description: "ok", content: json("ItemPage") }, "400": error("bad filter"), "403": error("outside the data folder"), "404": notFound },
        {
          parameters: [
            datasetParam,
            ...["offset", "limit"].map((name) => ({ name, in: "query", required: false, schema: { type: "integer", minimum: 0 } })),
            { name: "split", in: "query", required: false, schema: { type: "string", enum: ["train", "val", "test"] } },
            { name: "type", in: "query", required: false, schema: { type: "string" }, description: "reasoning type" },
            { name: "status", in: "query", required: false, schema: { type: "string", enum: ["unreviewed", "accepted", "rejected"] } },
            ...["min_confidence", "max_confidence"].map((name) => ({ name, in: "query", required: false, schema: { type: "number", minimum: 0, maximum: 10 } })),
          ],
        },
      ),
    };
    (p["/api/datasets/{dataset}/items"] as Json).post = op(
      "save an answer given here (asked or corrected) as a new item: the image is copied into the dataset's images folder, the item (the query as its question, the chosen region ids, their union, accepted) written atomically into the image's record and appended to the review log; with create, the dataset is started",
      {
        "201": { description: "the item as saved, and the dataset's review counts", content: json("SaveAnswerReply") },
        "400": error("bad JSON or fields, an answer without regions or with regions added by prompts, or a bad name for a new dataset"),
        "403": error("outside the data folder"),
        "404": error("no such image, answer or dataset (without create)"),
        "409": error("the image is not ready, the dataset is being written by another process, is not a reasoning dataset, or holds this image made with another segmenter"),
      },
      { parameters: [datasetParam], requestBody: { required: true, content: json("SaveAnswerRequest") } },
    );
    p["/api/datasets/{dataset}/items/{item}/review"] = {
      post: op(
        "accept or reject an item and/or change its mask ids (the union is recomputed from the image's regions); written atomically into the dataset and appended to its review log",
        { "200": { description: "the item as reviewed, and the new counts", content: json("ReviewReply") }, "400": error("bad JSON, fields or region ids"), "403": error("outside the data folder"), "404": notFound, "409": error("the image's regions cannot be recomputed as generated") },
        { parameters: [datasetParam, itemParam], requestBody: { required: true, content: json("ReviewRequest") } },
      ),
    };
    p["/api/datasets/{dataset}/images/{image}"] = {
      get: op("an item's image", { "200": { description: "the image file" }, "403": error("outside the data folder or the dataset's images folder"), "404": notFound }, { parameters: [datasetParam, { name: "image", in: "path", required: true, schema: { type: "string" }, description: "image id" }] }),
    };
  }
  return p;
}

let cached: Map<boolean, Json> | undefined;

export function buildOpenApi(version: string, withDatasets: boolean): Json {
  cached ??= new Map();
  const hit = cached.get(withDatasets);
  if (hit) return hit;
  const registry = z.registry<{ id: string }>();
  const named: Record<string, z.ZodType> = {
    ImageId: S.ImageId,
    ErrorBody: S.ErrorBody,
    Health: S.Health,
    ImageStatus: S.ImageStatus,
    ImageList: S.ImageList,
    CocoRle: S.CocoRle,
    RegionJson: S.RegionJson,
    Regions: S.Regions,
    AskRequest: S.AskRequest,
    ComposeRequest: S.ComposeRequest,
    Answer: S.Answer,
    PromptRequest: S.PromptRequest,
    PromptReply: S.PromptReply,
    ...(withDatasets && {
      DatasetList: D.DatasetList,
      DatasetSummary: D.DatasetSummary,
      Item: D.Item,
      ItemPage: D.ItemPage,
      ReviewRequest: D.ReviewRequest,
      ReviewReply: D.ReviewReply,
      SaveAnswerRequest: D.SaveAnswerRequest,
      SaveAnswerReply: D.SaveAnswerReply,
    }),
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: "any" }) as { schemas: Record<string, Json> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  const doc: Json = {
    openapi: "3.1.0",
    info: {
      title: "gear-seg",
      version,
      description:
        "Grounded, explainable reasoning segmentation over HTTP: upload an image, wait until it is ready, ask queries, correct answers, review datasets. Errors are JSON {\"error\"}. With a token, every /api request needs Authorization: Bearer <token>.",
    },
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }, {}],
    paths: paths(withDatasets),
  };
  cached.set(withDatasets, doc);
  return doc;
}
