/**
 * Worker thread of the region PNG pool (png-pool.ts): filters, compresses and base64s a share of an image's
 * shared blocks, and makes regions' own pieces of their request bodies (their rows recompressed, the PNG's
 * end, as text), so that the main thread only sends.
 */
import { parentPort } from "node:worker_threads";
import type { RegionRows } from "./region-png.js";
import type { WorkerReply, WorkerRequest } from "./png-pool.js";
import { regionText, textShare, type TextShare } from "./region-body.js";

/** What each image's regions need, by key. */
const images = new Map<number, RegionRows>();

/** Takes shares of the shared text (filtering their rows first) until there are none left. */
function takeShares(msg: Extract<WorkerRequest, { type: "blocks" }>): TextShare[] {
  const image = { width: msg.width, height: msg.height, blockRows: msg.blockRows, filtered: new Uint8Array(msg.filtered), rgb: new Uint8Array(msg.rgb) };
  const done: TextShare[] = [];
  Atomics.add(msg.counters, 1, 1); // begun: the main thread stops taking shares
  for (let i = Atomics.add(msg.counters, 0, 1); i < msg.shares; i = Atomics.add(msg.counters, 0, 1)) done.push(textShare(i, msg.shares, image, msg.level));
  return done;
}

parentPort!.on("message", (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case "blocks": {
        const done = takeShares(msg);
        const reply: WorkerReply = { type: "blocks", id: msg.id, done };
        parentPort!.postMessage(reply, done.flatMap((d) => [d.text.buffer, d.starts.buffer, ...(d.adler ? [d.adler.buffer] : [])]) as ArrayBuffer[]);
        return;
      }
      case "base":
        images.set(msg.key, msg.rows);
        return;
      case "encode": {
        const rows = images.get(msg.key);
        if (!rows) throw new Error(`image ${msg.key} was not prepared`);
        const own = regionText(rows, { height: msg.height, width: msg.width, counts: msg.counts });
        const reply: WorkerReply = { type: "region", id: msg.id, ...own };
        parentPort!.postMessage(reply, [own.region.buffer as ArrayBuffer, own.end.buffer as ArrayBuffer]);
        return;
      }
      case "release":
        images.delete(msg.key);
        return;
    }
  } catch (err) {
    const reply: WorkerReply = { type: "error", id: "id" in msg ? msg.id : -1, message: err instanceof Error ? err.message : String(err) };
    parentPort!.postMessage(reply);
  }
});
