/**
 * `startServer`: the API and the web page on one port, over an agent built like the CLI's (same backends, same
 * stage cache). Closing it refuses new connections, cancels the work in flight (queued jobs are dropped,
 * running ones aborted: their requests answer at once) and waits for the connections to end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import type { GearSeg } from "../pipeline/agent.js";
import { DEFAULT_MAX_PIXELS } from "../image/decode.js";
import { createApp } from "./app.js";
import { DatasetRoutes } from "./datasets.js";
import { WorkQueue, type QueueLimits } from "./queue.js";
import { checkBinding } from "./security.js";
import { StageEvents } from "./stage-events.js";
import { defaultAppDir, StaticFiles } from "./static-files.js";
import { Workspace } from "./workspace.js";

export interface ServerOptions {
  /** The agent that prepares and answers. Build it with `onStage: stageEvents.onStage` for per-image progress. */
  agent: GearSeg;
  /** Routes the agent's stage reports to the image being prepared (see `StageEvents`). */
  stageEvents?: StageEvents;
  /** Default 127.0.0.1. Anything but loopback needs `token`. */
  host?: string;
  /** Default 7860; 0 takes a free port. */
  port?: number;
  /** Required on every /api request as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** A folder of datasets to review. */
  dataDir?: string;
  /** Origins allowed to call the API from other pages (default: none, no CORS headers). */
  corsOrigins?: string[];
  /** Largest upload in bytes (default 50 MB). */
  maxUploadBytes?: number;
  /** Largest image in pixels (default: the agent's limit, or 50 megapixels). */
  maxPixels?: number;
  /** Preparation: default as many at a time as the agent prepares at once (`agent.parallelism`), 16 waiting. */
  prepareQueue?: Partial<QueueLimits>;
  /** Queries and prompts: default 4 at a time, 256 waiting. */
  askQueue?: Partial<QueueLimits>;
  /** Images known at once (default 64), held decoded (default 4), answers kept per image (default 50). */
  maxImages?: number;
  maxDecoded?: number;
  maxAnswers?: number;
  /** The built web page (default: dist/app of this package). */
  appDir?: string;
  version?: string;
}

export interface RunningServer {
  /** `http://HOST:PORT` */
  url: string;
  host: string;
  port: number;
  /** Cancels the work in flight and stops; resolves when every connection is closed. */
  close(): Promise<void>;
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? "127.0.0.1";
  checkBinding(host, o.token);
  // As many preparations at once as the agent has preparation workers (one in process).
  const prepare = new WorkQueue("preparation", { concurrency: o.agent.parallelism, maxQueued: 16, ...o.prepareQueue });
  const ask = new WorkQueue("ask", { concurrency: 4, maxQueued: 256, ...o.askQueue });
  const workDir = await mkdtemp(join(tmpdir(), "gear-seg-serve-"));
  const datasets = o.dataDir ? await DatasetRoutes.create(o.dataDir, { queue: prepare }) : undefined;
  const workspace = new Workspace({
    agent: o.agent,
    stageEvents: o.stageEvents ?? new StageEvents(),
    prepareQueue: prepare,
    askQueue: ask,
    uploadsDir: workDir,
    maxImages: o.maxImages ?? 64,
    maxDecoded: o.maxDecoded ?? 4,
    maxAnswers: o.maxAnswers ?? 50,
  });
  let closing: Promise<void> | undefined;
  const app = createApp({
    closing: () => closing !== undefined,
    workspace,
    queues: { prepare, ask },
    token: o.token,
    corsOrigins: o.corsOrigins,
    maxUploadBytes: o.maxUploadBytes ?? 50_000_000,
    maxPixels: o.maxPixels ?? o.agent.maxPixels ?? DEFAULT_MAX_PIXELS,
    version: o.version ?? "0",
    staticFiles: await StaticFiles.load(o.appDir ?? defaultAppDir()),
    datasets,
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 7860, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    host,
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        const reason = new DOMException("the server is shutting down", "AbortError");
        await Promise.all([prepare.close(reason), ask.close(reason), workspace.close()]);
        // Event streams end when their image settles; idle keep-alive sockets go now, the rest after a moment.
        (server as import("node:http").Server).closeIdleConnections?.();
        const force = setTimeout(() => (server as import("node:http").Server).closeAllConnections?.(), 2000);
        await stopped;
        clearTimeout(force);
        await datasets?.close();
        await rm(workDir, { recursive: true, force: true });
      })()),
  };
}
