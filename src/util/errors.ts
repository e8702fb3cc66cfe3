/**
 * Errors users see. `message` is one line that names the thing (file, backend, key) and the reason.
 * `exitCode` follows the CLI convention: 2 for a usage error, 1 for any other failure.
 */
export class GearSegError extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GearSegError";
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A mistake in how the command or API was called (bad flag, bad spec string, empty query). */
export class UsageError extends GearSegError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = "UsageError";
  }
}

/** One line describing any thrown value, without stack traces. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? String(err);
  return String(err);
}
