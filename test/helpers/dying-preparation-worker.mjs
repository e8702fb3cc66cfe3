// A preparation worker that dies for real: it runs gear-seg's compiled worker (dist/stack/preparation-worker.js),
// but when asked to prepare a file whose name contains "dies-here", the thread ends at once with exit code 70,
// as a crash in a backend would end it. The pool's handling of that death is what the test checks.
import { parentPort } from "node:worker_threads";

parentPort.on("message", (msg) => {
  if (msg?.type === "prepare" && typeof msg.input === "string" && msg.input.includes("dies-here")) process.exit(70);
});
await import(new URL("../../dist/stack/preparation-worker.js", import.meta.url).href);
