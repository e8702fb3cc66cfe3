// Describing 60 regions through the DAM describer against a local server that speaks dam_server.py's protocol,
// takes 0.5 s per request (a DAM-3B call on a GPU takes about that) and serves N requests at a time (N
// replicas, or one server with N workers). Baselines: the reference's way, one mask at a time (30 s), and, run
// alternately with gear-seg in this same run, the previous client (a full RGBA copy per region encoded by sharp
// at zlib level 1, on the main thread's sharp calls), kept below. The server parses every body and reads each
// PNG's header (RGBA), in its own thread, so the client's and the server's work both count.
import { createRequire } from "node:module";
import sharp from "sharp";
import { Worker } from "node:worker_threads";
import { loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadImage } from "../dist/image/index.js";
import { area, encode, toBbox } from "../dist/masks/index.js";
import { createBackend } from "../dist/stack/registry.js";
import { HttpClient } from "../dist/net/http.js";
import { mapLimit } from "../dist/util/concurrency.js";

const here = dirname(fileURLToPath(import.meta.url));
const REGIONS = 60;
const SERVICE_MS = 500;

// The server runs in its own thread, as a real server runs in its own process: its JSON parsing and PNG
// checks do not steal the client's event loop.
const SERVER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createServer } = require("node:http");
const sharp = require(workerData.sharpPath);
const { slots, serviceMs } = workerData;
let active = 0, peak = 0;
const queue = [];
const acquire = () => (active < slots ? (active++, Promise.resolve()) : new Promise((r) => queue.push(r)));
const release = () => (queue.length ? queue.shift()() : active--);
let bytes = 0, requests = 0;
const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  bytes += raw.length;
  requests++;
  const body = JSON.parse(raw.toString("utf8"));
  await acquire();
  peak = Math.max(peak, active);
  try {
    const url = body.messages[0].content.find((p) => p.type === "image_url").image_url.url;
    const png = Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
    const meta = await sharp(png).metadata();
    if (meta.channels !== 4) throw new Error("Image mode is RGB, but it should be RGBA");
    await new Promise((r) => setTimeout(r, serviceMs));
    const out = JSON.stringify({ id: "x", object: "chat.completion", created: Date.now() / 1000, model: body.model, choices: [{ message: { role: "assistant", content: "A described region." } }] });
    res.writeHead(200, { "content-type": "application/json" }).end(out);
  } catch (err) {
    res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: err.message }));
  } finally {
    release();
  }
});
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => { if (m === "peak") { parentPort.postMessage({ peak, bytes, requests }); peak = 0; bytes = 0; requests = 0; } });
`;

async function startDam(slots) {
  const sharpPath = createRequire(import.meta.url).resolve("sharp");
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { slots, serviceMs: SERVICE_MS, sharpPath } });
  const next = () => new Promise((resolve) => worker.once("message", resolve));
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${port}`,
    /** Peak requests served at once, bytes and requests received since the last call. */
    stats: async () => {
      worker.postMessage("peak");
      return next();
    },
    stop: () => worker.terminate(),
  };
}

/** 60 regions: a 10 × 6 grid of ellipses over the image. */
function gridRegions(width, height) {
  const regions = [];
  const cols = 10;
  const rows = 6;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const data = new Uint8Array(width * height);
      const cx = ((c + 0.5) * width) / cols;
      const cy = ((r + 0.5) * height) / rows;
      const rx = (0.4 * width) / cols;
      const ry = (0.4 * height) / rows;
      for (let y = Math.floor(cy - ry); y <= Math.ceil(cy + ry); y++) {
        for (let x = Math.floor(cx - rx); x <= Math.ceil(cx + rx); x++) {
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) data[y * width + x] = 1;
        }
      }
      const rle = encode({ width, height, data });
      regions.push({ id: regions.length, rle, bbox: toBbox(rle), area: area(rle) });
    }
  }
  return regions;
}

/** The previous client, for the same-run baseline: a full RGBA copy per region, PNG by sharp (zlib level 1). */
async function previousClient(url, n, image, regions) {
  const client = new HttpClient("baseline", [url], { concurrency: n });
  const W = image.width, H = image.height;
  const base = new Uint8Array(W * H * 4);
  for (let i = 0, j = 0; i < W * H; i++, j += 4) { base[j] = image.data[3 * i]; base[j + 1] = image.data[3 * i + 1]; base[j + 2] = image.data[3 * i + 2]; }
  const head = JSON.stringify({ model: "describe_anything_model", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "@@" } }, { type: "text", text: "Describe the masked region in detail." }] }], max_tokens: 512, temperature: 0.2, top_p: 0.9, stream: false });
  const at = head.indexOf('"@@"');
  return mapLimit(regions, 2 * n, async (region) => {
    const rgba = base.slice();
    let pos = 0, on = false;
    for (const c of region.rle.counts) {
      if (on) for (let k = pos; k < pos + c; k++) rgba[((k % H) * W + Math.floor(k / H)) * 4 + 3] = 255;
      pos += c;
      on = !on;
    }
    const png = await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png({ compressionLevel: 1 }).toBuffer();
    const body = `${head.slice(0, at)}"data:image/png;base64,${png.toString("base64")}"${head.slice(at + 4)}`;
    const res = await client.request("POST", "/chat/completions", body);
    return res.json.choices[0].message.content;
  });
}

export default async function (log) {
  const imagePath = join(here, "../../shared/data/photos/truck.jpg");
  const image = await loadImage(imagePath);
  const regions = gridRegions(image.width, image.height);
  const rows = [];
  const runOnce = async (n, which) => {
    const dam = await startDam(n);
    try {
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      let texts;
      if (which === "gear-seg") {
        const describer = await createBackend("describer", `dam:${dam.url}`, { concurrency: n });
        texts = await describer.describe(image, regions);
      } else texts = await previousClient(dam.url, n, image, regions);
      const wall = (performance.now() - t) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (texts.length !== REGIONS || texts.some((d) => d !== "A described region.")) throw new Error("wrong descriptions");
      const stats = await dam.stats();
      return { wall, cpuPerRegion: (cpu.user + cpu.system) / 1000 / REGIONS, bytes: stats.bytes / stats.requests, peak: stats.peak, load: loadavg()[0] };
    } finally {
      await dam.stop();
    }
  };
  for (const n of [1, 4, 8]) {
    // alternate, so that the shared machine's load hits both alike
    const ours = await runOnce(n, "gear-seg");
    const base = await runOnce(n, "previous");
    rows.push({ n, ours, base, ideal: (REGIONS * SERVICE_MS) / 1000 / n });
  }
  const reference = (REGIONS * SERVICE_MS) / 1000;
  log("## Describers over HTTP");
  log("");
  log(`60 regions of a ${image.width}×${image.height} photo (\`truck.jpg\`, a 10 × 6 grid of ellipses) through the \`dam\` describer against a`);
  log(`local server speaking \`dam_server.py\`'s protocol that parses each body, reads the PNG header (RGBA), takes ${SERVICE_MS} ms per`);
  log("request and serves N at a time (its own thread); the describer runs with `concurrency: N`. gear-seg: region PNGs on the worker pool");
  log("(one thread per core; shared row blocks compressed once per image, a region recompresses the 16-row blocks it spans; filter Sub,");
  log("zlib level 1), bodies built in the workers, twice N regions in preparation. Previous client (same run, alternating): a full");
  log(`RGBA copy per region, sharp PNG at zlib level 1. Reference: one mask at a time, ${REGIONS} × ${SERVICE_MS / 1000} s = ${reference} s.`);
  log("CPU per region is this process's (client and server threads) over the run, divided by 60.");
  log("");
  log("| N in flight | gear-seg wall | previous client wall | ideal 60 × 0.5 s / N | gear-seg over ideal | speed-up vs reference (30 s) | CPU per region: gear-seg / previous | bytes per request: gear-seg / previous | peak served at once | load average |");
  log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
    log(`| ${r.n} | ${r.ours.wall.toFixed(2)} s | ${r.base.wall.toFixed(2)} s | ${r.ideal.toFixed(2)} s | ${(((r.ours.wall - r.ideal) / r.ideal) * 100).toFixed(1)} % | ${(reference / r.ours.wall).toFixed(2)}× | ${r.ours.cpuPerRegion.toFixed(0)} / ${r.base.cpuPerRegion.toFixed(0)} ms | ${mb(r.ours.bytes)} / ${mb(r.base.bytes)} | ${r.ours.peak} | ${r.ours.load.toFixed(1)} |`);
  }
  log("");
}
