// The model server stand-in of describe.bench.js, in a process of its own as a real dam_server.py is (possibly on
// another machine): it speaks that server's protocol (POST /chat/completions, the image a data URL of an RGBA PNG;
// for openai-vision, JPEG data URLs),
// serves `slots` requests at a time and takes `serviceMs` per request, counted from the moment it has the whole
// body: its own work on the body (JSON parse, base64 decode, PNG header check: RGBA) is part of that time, as a
// model server's preprocessing is part of its time per request, and is reported on its own (`parseMs`). Started by
// the benchmark with fork(); talks over the IPC channel.
import { createServer } from "node:http";
import sharp from "sharp";

const { slots, serviceMs } = JSON.parse(process.argv[2]);
let active = 0;
let peak = 0;
const queue = [];
const acquire = () => (active < slots ? (active++, Promise.resolve()) : new Promise((r) => queue.push(r)));
const release = () => (queue.length ? queue.shift()() : active--);
/** Per request: when the whole body was in, when the reply was written, the server's own work on the body. */
let log = [];
let bytes = 0;
/** The first and the last PNG of a run, decoded when the stats are asked for (outside the timed run). */
let kept = [];
const now = () => performance.now();
let cpu0 = process.cpuUsage(); // since the last stats

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const received = now();
  await acquire();
  const started = now(); // the service starts when a slot is free and the body is in
  peak = Math.max(peak, active);
  const entry = { received, started, parseMs: 0, replied: 0 };
  try {
    const raw = Buffer.concat(chunks);
    bytes += raw.length;
    const body = JSON.parse(raw.toString("utf8"));
    // DAM: one PNG that must be RGBA; a vision model (openai-vision): JPEGs.
    for (const part of body.messages[0].content.filter((p) => p.type === "image_url")) {
      const url = part.image_url.url;
      const m = /^data:image\/(png|jpeg);base64,/.exec(url);
      if (!m) throw new Error("Invalid image url");
      const meta = await sharp(Buffer.from(url.slice(m[0].length), "base64")).metadata();
      if (m[1] === "png" && meta.channels !== 4) throw new Error(`Image mode is ${meta.channels === 3 ? "RGB" : meta.channels}, but it should be RGBA`);
      if (meta.format !== m[1]) throw new Error(`not a ${m[1]}`);
      if (m[1] === "png") kept[kept.length < 2 ? kept.length : 1] = url.slice(m[0].length);
    }
    entry.parseMs = now() - started;
    await new Promise((r) => setTimeout(r, Math.max(0, started + serviceMs - now())));
    const out = JSON.stringify({ id: "x", object: "chat.completion", created: Date.now() / 1000, model: body.model, choices: [{ message: { role: "assistant", content: "A described region." } }] });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) }).end(out);
  } catch (err) {
    res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: err.message }));
  } finally {
    entry.replied = now();
    log.push(entry);
    release();
  }
});
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
/** What the benchmark checks of a PNG's pixels: the pixels at alpha 255, any other alpha than 0 and 255, the RGB sum. */
async function pixels(base64) {
  const { data, info } = await sharp(Buffer.from(base64, "base64")).raw().toBuffer({ resolveWithObject: true });
  let inside = 0;
  let otherAlpha = 0;
  let rgb = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    rgb += data[i] + data[i + 1] + data[i + 2];
    if (data[i + 3] === 255) inside++;
    else if (data[i + 3] !== 0) otherAlpha++;
  }
  return { inside, otherAlpha, rgb };
}

process.on("message", async (m) => {
  if (m !== "stats") return;
  const cpu = process.cpuUsage(cpu0);
  const checked = await Promise.all(kept.map(pixels));
  process.send({ peak, bytes, requests: log.length, log, cpuMs: (cpu.user + cpu.system) / 1000, origin: performance.timeOrigin, checked });
  cpu0 = process.cpuUsage();
  peak = 0;
  bytes = 0;
  log = [];
  kept = [];
});
process.on("disconnect", () => process.exit(0));
