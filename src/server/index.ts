/**
 * `gear-seg/server`: the HTTP API and web page of `gear-seg serve`, as a library.
 *
 *   const events = new StageEvents();
 *   const { agent } = await createConfiguredStack({ onStage: events.onStage });
 *   const server = await startServer({ agent, stageEvents: events, port: 0 });
 *   console.log(server.url); … await server.close(); await agent.close();
 */
export { startServer, type RunningServer, type ServerOptions } from "./server.js";
export { StageEvents, type StageListener } from "./stage-events.js";
export { WorkQueue, QueueFullError, type QueueLimits, type QueueStats } from "./queue.js";
export { buildOpenApi } from "./openapi.js";
