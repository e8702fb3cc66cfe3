/**
 * Worker thread of the region PNG pool (png-pool.ts): compresses a share of an image's shared blocks, and
 * encodes regions into complete request bodies (the JSON text around the PNG's base64), so that the main
 * thread only sends them.
 */
import { parentPort } from "node:worker_threads";
import { prepareBlocks, type RegionPngBase } from "./region-png.js";
import type { WorkerReply, WorkerRequest } from "./png-pool.js";
import { regionRequestBody } from "./region-body.js";

/** The shared part of each image's PNGs and its base64, by key. */
const images = new Map<number, { base: RegionPngBase; base64: Uint8Array[] }>();

parentPort!.on("message", (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case "blocks": {
        const filtered = new Uint8Array(msg.filtered);
        const { chunks, starts, adler } = prepareBlocks(new Uint8Array(msg.rgb), msg.width, msg.height, msg.level, msg.from, msg.to, msg.blockRows, filtered);
        const reply: WorkerReply = { type: "blocks", id: msg.id, chunks, starts, adler };
        parentPort!.postMessage(reply, [chunks.buffer, starts.buffer, adler.buffer]);
        return;
      }
      case "base":
        images.set(msg.key, { base: msg.base, base64: msg.base64 });
        return;
      case "encode": {
        const image = images.get(msg.key);
        if (!image) throw new Error(`image ${msg.key} was not prepared`);
        const body = regionRequestBody(image.base, { height: msg.height, width: msg.width, counts: msg.counts }, msg.head, msg.tail, image.base64);
        const reply: WorkerReply = { type: "body", id: msg.id, body };
        parentPort!.postMessage(reply, [body.buffer as ArrayBuffer]);
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
