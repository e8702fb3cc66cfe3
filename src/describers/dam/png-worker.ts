/**
 * Worker thread of the region PNG pool (png-pool.ts): filters, compresses and base64s a share of an image's
 * shared blocks, and makes regions' own pieces of their request bodies (their rows recompressed, the PNG's
 * end, as text), so that the main thread only sends.
 */
import { parentPort } from "node:worker_threads";
import { compressBlocks, filterBlocks, sharedLevel, type RegionRows } from "./region-png.js";
import type { WorkerReply, WorkerRequest } from "./png-pool.js";
import { base64Ascii, regionText } from "./region-body.js";

/** What each image's regions need, by key. */
const images = new Map<number, RegionRows>();

parentPort!.on("message", (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case "blocks": {
        const filtered = new Uint8Array(msg.filtered);
        const adler = filterBlocks(new Uint8Array(msg.rgb), msg.width, msg.height, msg.from, msg.to, msg.blockRows, filtered);
        const { chunks, starts } = compressBlocks(filtered, msg.width, msg.height, sharedLevel(msg.level), msg.from, msg.to, msg.blockRows);
        // every chunk is a multiple of 3 bytes long: the share's text is its chunks' texts end to end
        const text = base64Ascii(chunks);
        const reply: WorkerReply = { type: "blocks", id: msg.id, text, starts, adler };
        parentPort!.postMessage(reply, [text.buffer as ArrayBuffer, starts.buffer as ArrayBuffer, adler.buffer as ArrayBuffer]);
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
