// `gear-seg serve`: the HTTP API and the web page (src/server) over the backends the flags and config choose.
import type { Command } from "commander";
import { packageVersion } from "../../util/dist-files.js";
import { checkBinding } from "../../server/security.js";
import { UsageError } from "../../util/errors.js";
import { action, addStackOptions, addWorkersOption, integerFlag, makeIo, stackFromFlags, type GlobalFlags, type StackFlags } from "../app.js";

interface ServeFlags extends StackFlags {
  host: string;
  port: string;
  data?: string;
  tokenEnv?: string;
  cors?: string[];
  maxUploadMb?: string;
  queue?: string;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command("serve")
    .description("serve the HTTP API and the web page: upload, ask, correct, review datasets")
    .option("--host <address>", "address to listen on (anything but loopback needs a token)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", "7860")
    .option("--data <dir>", "a folder of gear-seg datasets to review")
    .option("--token-env <name>", "environment variable holding the API token (default GEAR_SEG_TOKEN)")
    .option("--cors <origin>", "allow this origin to call the API (repeat for several; default none)", (v: string, prev: string[]) => [...prev, v], [])
    .option("--max-upload-mb <n>", "largest upload in megabytes (default 50)")
    .option("--queue <n>", "images that may wait for preparation; more are refused with 429 (default 16)");
  addWorkersOption(addStackOptions(cmd)).action(
    action(async (flags: ServeFlags, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const port = integerFlag(flags.port, "--port", { min: 0 })!;
      if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
      const tokenVar = flags.tokenEnv ?? "GEAR_SEG_TOKEN";
      const token = process.env[tokenVar] || undefined;
      if (flags.tokenEnv && !token) throw new UsageError(`--token-env ${flags.tokenEnv}: the variable is not set or empty`);
      // Before the models load: a refused binding should not wait for them.
      checkBinding(flags.host, token);
      const maxUploadMb = integerFlag(flags.maxUploadMb, "--max-upload-mb");
      const maxQueued = integerFlag(flags.queue, "--queue", { min: 0 });

      const { StageEvents, startServer } = await import("../../server/index.js");
      const events = new StageEvents();
      const stack = await stackFromFlags(flags, io, {}, events.onStage, { many: true });
      const { agent } = stack;
      let server;
      try {
        server = await startServer({
          agent,
          stageEvents: events,
          host: flags.host,
          port,
          token,
          dataDir: flags.data,
          corsOrigins: flags.cors,
          maxUploadBytes: maxUploadMb === undefined ? undefined : maxUploadMb * 1_000_000,
          prepareQueue: maxQueued === undefined ? undefined : { maxQueued },
          version: packageVersion(),
        });
      } catch (err) {
        await stack.close();
        if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") throw new UsageError(`port ${port} on ${flags.host} is in use (choose another with --port, or --port 0)`);
        throw err;
      }
      io.out(`listening on ${server.url}`);
      if (!io.quiet) io.err(`web page: ${server.url}/   API: ${server.url}/openapi.json${token ? "   (token required)" : ""}`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await server.close();
      await stack.close();
    }),
  );
}
