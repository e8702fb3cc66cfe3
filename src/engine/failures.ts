/** A failure in a named stage of one image ("prepare", "llm", ...): what a failure note records. */
import { describeError } from "../util/errors.js";

export class StageFailure extends Error {
  constructor(
    readonly stage: string,
    override readonly cause: unknown,
  ) {
    super(`${stage}: ${describeError(cause)}`);
    this.name = "StageFailure";
  }
}

/** Runs `fn` and tags what it throws with the stage name. */
export async function stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StageFailure) throw err;
    throw new StageFailure(name, err);
  }
}

/** The stage and the one-line reason of anything thrown while handling an image. */
export function failureOf(err: unknown, fallbackStage = "process"): { stage: string; error: string } {
  return err instanceof StageFailure ? { stage: err.stage, error: describeError(err.cause) } : { stage: fallbackStage, error: describeError(err) };
}
