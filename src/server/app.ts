/**
 * The HTTP API on hono: routes, body parsing against the zod schemas, errors as `{"error"}`, the token and
 * Host checks, CORS only when configured, and the web page's files at `/`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { streamSSE } from "hono/streaming";
import { imageHeader } from "../image/decode.js";
import { preparedToJson, regionToJson } from "../pipeline/result.js";
import { answerJson, cocoJson, labelMeJson, maskPng, overlayPng } from "./answer-files.js";
import { errorReply, HttpError } from "./http-error.js";
import { buildOpenApi } from "./openapi.js";
import { readJson, reply } from "./validate.js";
import type { WorkQueue } from "./queue.js";
import * as S from "./schemas.js";
import { checkHost, checkToken } from "./security.js";
import type { StaticFiles } from "./static-files.js";
import type { ImageStatus, Workspace } from "./workspace.js";
import type { DatasetRoutes } from "./datasets.js";

export interface AppOptions {
  workspace: Workspace;
  queues: { prepare: WorkQueue; ask: WorkQueue };
  token?: string;
  corsOrigins?: string[];
  maxUploadBytes: number;
  maxPixels: number;
  version: string;
  staticFiles: StaticFiles;
  datasets?: DatasetRoutes;
  /** True once the server is shutting down: work it cancels answers 503, not 500. */
  closing?: () => boolean;
}

/** Raster formats accepted for upload (sharp's names). SVG and PDF are refused: not photos, and parsed by
 * larger libraries than a photo needs. */
const UPLOAD_FORMATS = new Set(["jpeg", "png", "webp", "tiff", "gif", "heif", "avif"]);
const JSON_LIMIT = 1 << 20;

/** A file reply; the name (the user's own, any script) goes as RFC 6266's filename* with an ASCII fallback. */
const download = (c: Context, body: string | Uint8Array, type: string, filename: string, inline = false) => {
  c.header("Content-Type", type);
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  c.header("Content-Disposition", `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`);
  return typeof body === "string" ? c.body(body) : c.body(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength));
};

const stem = (name: string) => name.replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80) || "image";

export function createApp(o: AppOptions): Hono {
  const { workspace } = o;
  const app = new Hono();

  const shuttingDown = () => new HttpError(503, "the server is shutting down", { Connection: "close" });
  app.onError((err, c) => {
    const r = errorReply(o.closing?.() && !c.req.raw.signal.aborted ? shuttingDown() : err, c.req.raw.signal);
    for (const [k, v] of Object.entries(r.headers)) c.header(k, v);
    return c.json(r.body, r.status as 400);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));

  app.use("*", async (c, next) => {
    if (o.closing?.()) throw shuttingDown();
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
  });
  if (o.corsOrigins?.length) app.use("/api/*", cors({ origin: o.corsOrigins, allowHeaders: ["Authorization", "Content-Type"], maxAge: 600 }));
  app.use("/api/*", async (c, next) => {
    if (o.token !== undefined) checkToken(c.req.header("Authorization"), o.token);
    else checkHost(c.req.header("Host"));
    await next();
  });

  // A body refused unread: the connection closes after the answer, so no client sends its next request on it.
  const tooLarge = (message: string) => () => {
    throw new HttpError(413, message, { Connection: "close" });
  };
  const jsonLimit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(`request body over ${JSON_LIMIT} bytes`) });
  const uploadLimit = bodyLimit({ maxSize: o.maxUploadBytes, onError: tooLarge(`upload over the server's limit of ${(o.maxUploadBytes / 1e6).toFixed(1)} MB`) });

  app.get("/openapi.json", (c) => c.json(buildOpenApi(o.version, o.datasets !== undefined)));

  app.get("/api/health", (c) => {
    const agent = workspace.agent;
    return reply(c, S.Health, {
      status: "ok",
      version: o.version,
      backends: { segmenter: agent.segmenter.spec, describer: agent.describer?.spec ?? null, reasoner: agent.reasoner?.spec ?? null },
      prompts: typeof (agent.segmenter as { segmentPrompt?: unknown }).segmentPrompt === "function",
      datasets: o.datasets !== undefined,
      images: workspace.size,
      queues: { prepare: o.queues.prepare.stats(), ask: o.queues.ask.stats() },
    });
  });

  app.post("/api/images", uploadLimit, async (c) => {
    const type = (c.req.header("Content-Type") ?? "").toLowerCase();
    let bytes: Uint8Array;
    let name = c.req.query("name");
    if (type.startsWith("multipart/form-data")) {
      const form = await c.req.parseBody();
      const file = Object.values(form).find((v): v is File => v instanceof File);
      if (!file) throw new HttpError(400, "the multipart upload holds no file");
      bytes = new Uint8Array(await file.arrayBuffer());
      name ??= file.name;
    } else if (type.startsWith("image/") || type.startsWith("application/octet-stream")) {
      bytes = new Uint8Array(await c.req.arrayBuffer());
    } else {
      throw new HttpError(415, `upload an image: send its bytes (Content-Type image/*) or a multipart form, not "${type || "no content type"}"`);
    }
    if (bytes.byteLength === 0) throw new HttpError(400, "the upload is empty (0 bytes)");
    if (bytes.byteLength > o.maxUploadBytes) throw new HttpError(413, `upload over the server's limit of ${(o.maxUploadBytes / 1e6).toFixed(1)} MB`);
    const header = await imageHeader(bytes);
    if (!header || !UPLOAD_FORMATS.has(header.format)) {
      throw new HttpError(415, `not an image this server accepts (JPEG, PNG, WebP, TIFF, GIF, AVIF/HEIF)${header ? `: ${header.format}` : ""}`);
    }
    const pixels = header.width * header.height;
    if (pixels > o.maxPixels) {
      throw new HttpError(413, `image is ${header.width}×${header.height} = ${(pixels / 1e6).toFixed(1)} megapixels, over the server's limit of ${(o.maxPixels / 1e6).toFixed(1)}`);
    }
    const { entry, created } = await workspace.add(bytes, name, header);
    c.header("Location", `/api/images/${entry.id}`);
    return reply(c, S.ImageStatus, workspace.status(entry), created ? 201 : 200);
  });

  app.get("/api/images", (c) => reply(c, S.ImageList, { images: workspace.list() }));

  app.get("/api/images/:id", (c) => reply(c, S.ImageStatus, workspace.status(workspace.require(c.req.param("id")))));

  app.delete("/api/images/:id", async (c) => {
    await workspace.remove(workspace.require(c.req.param("id")));
    return c.body(null, 204);
  });

  app.get("/api/images/:id/events", (c) => {
    const entry = workspace.require(c.req.param("id"));
    return streamSSE(c, async (stream) => {
      let last = "";
      let wake: (() => void) | null = null;
      let latest: ImageStatus = workspace.status(entry);
      const unsubscribe = workspace.subscribe(entry, (s) => {
        latest = s;
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        for (;;) {
          const text = JSON.stringify(latest);
          if (text !== last) {
            last = text;
            await stream.writeSSE({ event: "status", data: text });
          }
          if (latest.state === "ready" || latest.state === "failed" || stream.aborted) break;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = null;
          // At most ~10 events a second: progress can move per region.
          await stream.sleep(100);
        }
      } finally {
        unsubscribe();
      }
    });
  });

  app.get("/api/images/:id/image", async (c) => {
    const entry = workspace.require(c.req.param("id"));
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(entry.file);
    const header = await imageHeader(bytes);
    c.header("Cache-Control", "private, max-age=86400, immutable");
    return download(c, bytes, `image/${header?.format ?? "octet-stream"}`, entry.name, true);
  });

  app.get("/api/images/:id/regions", (c) => {
    const entry = workspace.require(c.req.param("id"));
    const prepared = workspace.requireReady(entry);
    const json = preparedToJson(prepared);
    return reply(c, S.Regions, { ...json, image: entry.name, added_regions: entry.added.map((r) => regionToJson(r, "")) });
  });

  app.post("/api/images/:id/ask", jsonLimit, async (c) => {
    const entry = workspace.require(c.req.param("id"));
    const body = await readJson(c, S.AskRequest);
    workspace.requireReady(entry);
    const answer = await workspace.ask(entry, body.query, { mode: body.mode, maxMasks: body.max_masks }, c.req.raw.signal);
    c.header("Location", `/api/images/${entry.id}/answers/${answer.id}`);
    return reply(c, S.Answer, answerJson(answer, body.regions !== false));
  });

  app.post("/api/images/:id/answers", jsonLimit, async (c) => {
    const entry = workspace.require(c.req.param("id"));
    const body = await readJson(c, S.ComposeRequest);
    const answer = workspace.compose(entry, body.query, body.mask_ids, body.explanation ?? "", body.mode ?? "reasoning");
    c.header("Location", `/api/images/${entry.id}/answers/${answer.id}`);
    return reply(c, S.Answer, answerJson(answer, body.regions !== false), 201);
  });

  app.get("/api/images/:id/answers/:answer", (c) => {
    const entry = workspace.require(c.req.param("id"));
    return reply(c, S.Answer, answerJson(workspace.answer(entry, c.req.param("answer"))));
  });

  app.get("/api/images/:id/answers/:answer/:file", async (c) => {
    const entry = workspace.require(c.req.param("id"));
    const answer = workspace.answer(entry, c.req.param("answer"));
    const r = answer.result;
    const base = `${stem(entry.name)}-answer-${answer.id}`;
    switch (c.req.param("file")) {
      case "result.json": {
        const { answer_id: _id, corrected: _c, ...json } = answerJson(answer);
        return download(c, JSON.stringify(json, null, 2) + "\n", "application/json", `${base}-result.json`);
      }
      case "mask.png":
        return download(c, await maskPng(r), "image/png", `${base}-mask.png`);
      case "overlay.png":
        return download(c, await overlayPng(r, await workspace.pixels(entry)), "image/png", `${base}-overlay.png`);
      case "labelme.json":
        return download(c, JSON.stringify(labelMeJson(r, entry.name), null, 2) + "\n", "application/json", `${stem(entry.name)}.json`);
      case "coco.json":
        return download(c, JSON.stringify(cocoJson(r, entry.name)) + "\n", "application/json", `${base}-coco.json`);
      default:
        throw new HttpError(404, `no file "${c.req.param("file")}" (result.json, mask.png, overlay.png, labelme.json, coco.json)`);
    }
  });

  app.post("/api/images/:id/prompt", jsonLimit, async (c) => {
    const entry = workspace.require(c.req.param("id"));
    const body = await readJson(c, S.PromptRequest);
    const region = await workspace.prompt(entry, body, c.req.raw.signal);
    return reply(c, S.PromptReply, { region: regionToJson(region, "") }, 201);
  });

  o.datasets?.mount(app, { jsonLimit, workspace });

  app.get("/", (c) => o.staticFiles.serve(c, "index.html", o.token !== undefined));
  app.get("/assets/:file", (c) => o.staticFiles.serve(c, c.req.param("file")));

  return app;
}
