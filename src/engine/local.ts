/** The executor that does every image in this process: `concurrency` images in flight, describer and LLM
 * calls overlapping across images. */
import type { PreparedImage } from "../pipeline/agent.js";
import type { Detector } from "../pipeline/types.js";
import { failureOf, stage } from "./failures.js";
import type { ImageEntry } from "./images.js";
import type { JsonChat } from "./llm.js";
import type { Executor } from "./pipeline.js";
import { runTask } from "./tasks.js";

/** Regions, descriptions and caption of one image (normally `agent.prepare`). */
export type Preparer = (entry: ImageEntry, signal: AbortSignal) => Promise<PreparedImage>;

export interface LocalExecutorOptions {
  prepare: Preparer;
  /** null: a task labelled by `detector` (label without an LLM). */
  llm: JsonChat | null;
  detector?: Detector;
  segmenter: string;
  describer: string | null;
  /** Images in flight at once (default 2). */
  concurrency?: number;
}

export function localExecutor(o: LocalExecutorOptions): Executor {
  const backends = { segmenter: o.segmenter, describer: o.describer, llm: o.llm?.spec ?? `none (detector ${o.detector?.fingerprint ?? o.detector?.spec ?? "none"})` };
  return {
    backends,
    async run(task, jobs, handlers, signal) {
      const iterator = jobs[Symbol.asyncIterator]();
      const worker = async () => {
        while (!signal.aborted) {
          const next = await iterator.next();
          if (next.done) return;
          const job = next.value;
          let record;
          try {
            const prepared = await stage("prepare", () => o.prepare(job.entry, signal));
            record = await runTask(task, prepared, o.llm, job.identity, backends, signal, o.detector);
          } catch (err) {
            if (signal.aborted) return; // cancelled, not the image's fault: it stays pending
            const f = failureOf(err);
            await handlers.failed(job, f.stage, f.error);
            continue;
          }
          // A record that completed is complete even if Ctrl-C came meanwhile: keep it.
          await handlers.finished(job, record);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 2) }, worker));
    },
  };
}
