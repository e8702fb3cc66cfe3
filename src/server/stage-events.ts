/**
 * Per-request progress from an agent built once for the whole server. The agent reports stages through one
 * `onStage` callback given at construction; the server prepares several images at once, so the callback looks
 * up the listener of the preparation it is called from (AsyncLocalStorage follows the call through every
 * await of the stage's backend).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AgentStage } from "../pipeline/agent.js";

export type StageListener = (stage: AgentStage, done: number, total: number) => void;

export class StageEvents {
  private readonly storage = new AsyncLocalStorage<StageListener>();

  /** Give this to the agent (`onStage`) when it is built. */
  readonly onStage: StageListener = (stage, done, total) => this.storage.getStore()?.(stage, done, total);

  /** Runs `fn` with `listener` receiving the stages the agent reports from inside it. */
  run<T>(listener: StageListener, fn: () => Promise<T>): Promise<T> {
    return this.storage.run(listener, fn);
  }
}
