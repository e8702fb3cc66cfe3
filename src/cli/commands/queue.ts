import type { Command } from "commander";
import { parseQueueUrl } from "../../engine/queue/connection.js";
import { drainQueues, queueStatus, retryFailedJobs } from "../../engine/queue/status.js";
import { startWorker } from "../../engine/queue/worker.js";
import { runConfigurationFingerprint } from "../../eval/run.js";

import { action, addStackOptions, addWorkersOption, integerFlag, makeIo, stackFromFlags, type GlobalFlags, type Io, type StackFlags } from "../app.js";
import { Progress } from "../progress.js";
import { llmFromFlags, preparerFromFlags, type EngineRunFlags } from "../engine-flags.js";

export function registerWorker(program: Command): void {
  const cmd = program
    .command("worker")
    .description("take jobs from the queue (engine generate/label/eval run --queue) and run them with this machine's backends; Ctrl-C finishes the jobs in flight")
    .requiredOption("--queue <redis-url>", "redis://host:port[/db]")
    .option("--llm <spec>", "the LLM for dataset jobs, as openai:<model>@<base-url> (without it this worker takes evaluation jobs only)")
    .option("--llm-key-env <name>", "environment variable holding the LLM's API key")
    .option("--concurrency <n>", "jobs in flight per queue", "2")
    .option("--stall-timeout <ms>", "a job whose worker is silent this long goes to another worker", "30000")
    .option("--name <name>", "this worker's name in queue status (default host:pid)");
  addWorkersOption(addStackOptions(cmd)).action(
    action(async (flags: EngineRunFlags & { stallTimeout: string; name?: string }, command: Command) => {
      const io = makeIo(command.optsWithGlobals<GlobalFlags>());
      const address = parseQueueUrl(flags.queue!);
      const llm = flags.llm ? llmFromFlags(flags) : undefined;
      const preparer = await preparerFromFlags(flags, io);
      const quietIo: Io = { ...io, progress: new Progress(process.stderr, false) };
      const worker = await startWorker({
        address,
        concurrency: integerFlag(flags.concurrency, "--concurrency"),
        stallTimeoutMs: integerFlag(flags.stallTimeout, "--stall-timeout"),
        name: flags.name,
        backends: {
          prepare: preparer.prepare,
          llm,
          detector: preparer.detector ?? undefined,
          segmenter: preparer.segmenter,
          describer: preparer.describer,
          agent: async () => {
            const { agent } = await stackFromFlags(flags as StackFlags, quietIo, {}, undefined, { many: true });
            return { agent, fingerprint: runConfigurationFingerprint(agent).fingerprint };
          },
        },
        onEvent: (line) => {
          if (!io.quiet && /^(failed|queue|worker)/.test(line)) io.err(line);
        },
      });
      io.err(`worker ${worker.name} on ${address.shown}: ${llm ? "dataset and evaluation" : "evaluation"} jobs (Ctrl-C to stop after the jobs in flight)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          io.err(`worker ${worker.name}: finishing the jobs in flight (Ctrl-C again to quit now)`);
          process.once("SIGINT", () => process.exit(130));
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await worker.close();
      await preparer.close();
      io.err(`worker ${worker.name}: ${worker.counts.completed} jobs done, ${worker.counts.failed} failed`);
    }),
  );
}

export function registerQueue(program: Command): void {
  const queue = program.command("queue").description("look after the job queues of distributed runs");
  queue
    .command("status")
    .description("depth, rate, workers, and failures with their reasons")
    .argument("<redis-url>")
    .option("--json", "print JSON")
    .action(
      action(async (url: string, flags: { json?: boolean }, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        const address = parseQueueUrl(url);
        const all = await queueStatus(address, { onError: (m) => io.err(m) });
        if (flags.json) return io.out(JSON.stringify(all, null, 2));
        for (const s of all) {
          const c = s.counts;
          io.out(`${s.queue}: ${c.waiting} waiting, ${c.active} running, ${c.delayed} delayed, ${c.failed} failed, ${c.completed} finished and not yet collected; ${s.perMinute.toFixed(1)} jobs/min; ${s.workers.length} worker connection(s)`);
          for (const w of s.workers) io.out(`  worker ${w.name || "(unnamed)"} ${w.address} idle ${w.idleSeconds}s`);
          for (const f of s.failures) io.out(`  failed ${f.image || f.job}: ${f.stage}: ${f.error}`);
        }
      }),
    );
  queue
    .command("retry-failed")
    .description("move every failed job back to the queue")
    .argument("<redis-url>")
    .action(
      action(async (url: string, _flags: unknown, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        io.out(`${await retryFailedJobs(parseQueueUrl(url))} failed job(s) queued again`);
      }),
    );
  queue
    .command("drain")
    .description("remove every waiting job (running jobs finish; collectors re-add what they still need when rerun)")
    .argument("<redis-url>")
    .action(
      action(async (url: string, _flags: unknown, command: Command) => {
        const io = makeIo(command.optsWithGlobals<GlobalFlags>());
        io.out(`${await drainQueues(parseQueueUrl(url))} waiting job(s) removed`);
      }),
    );
}


