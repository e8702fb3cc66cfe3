// Describing 60 regions through the DAM describer against a local server that speaks dam_server.py's protocol,
// takes 0.5 s per request (a DAM-3B call on a GPU takes about that) and serves N requests at a time (N
// replicas, or one server with N workers). The baseline is the reference's way: one mask at a time, 30 s.
// The server decodes every PNG and checks that it is RGBA, as the real one does, so the client's PNG work
// and the server's decoding both count.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadImage } from "../dist/image/index.js";
import { area, encode, toBbox } from "../dist/masks/index.js";
import { createBackend } from "../dist/stack/registry.js";

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
const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
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
parentPort.on("message", (m) => { if (m === "peak") parentPort.postMessage({ peak }); });
`;

async function startDam(slots) {
  const sharpPath = createRequire(import.meta.url).resolve("sharp");
  const worker = new Worker(SERVER_SOURCE, { eval: true, workerData: { slots, serviceMs: SERVICE_MS, sharpPath } });
  const next = () => new Promise((resolve) => worker.once("message", resolve));
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${port}`,
    peak: async () => {
      worker.postMessage("peak");
      return (await next()).peak;
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

export default async function (log) {
  const imagePath = join(here, "../../shared/data/photos/truck.jpg");
  const image = await loadImage(imagePath);
  const regions = gridRegions(image.width, image.height);
  const rows = [];
  for (const n of [1, 4, 8]) {
    const dam = await startDam(n);
    const describer = await createBackend("describer", `dam:${dam.url}`, { concurrency: n });
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    const texts = await describer.describe(image, regions);
    const wall = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuPerRegion = (cpu.user + cpu.system) / 1000 / REGIONS;
    if (texts.length !== REGIONS || texts.some((d) => d !== "A described region.")) throw new Error("wrong descriptions");
    const ideal = (REGIONS * SERVICE_MS) / 1000 / n;
    rows.push({ n, wall, ideal, cpuPerRegion, load: loadavg()[0], peak: await dam.peak() });
    await dam.stop();
  }
  const reference = (REGIONS * SERVICE_MS) / 1000;
  log("## Describers over HTTP");
  log("");
  log(`60 regions of a ${image.width}×${image.height} photo (\`truck.jpg\`) through the \`dam\` describer (RGBA PNG with the`);
  log("mask in alpha, zlib level 1, base64 in the JSON body) against a local server speaking `dam_server.py`'s protocol that decodes");
  log(`each PNG, takes ${SERVICE_MS} ms per request and serves N at a time; the describer runs with \`concurrency: N\`.`);
  log(`Baseline: the reference describes one mask at a time, ${REGIONS} × ${SERVICE_MS / 1000} s = ${reference} s.`);
  log("");
  log("| N in flight | wall time | ideal 60 × 0.5 s / N | overhead vs ideal | speed-up vs reference (30 s) | peak served at once | CPU per region (client + server) | load average |");
  log("|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    log(`| ${r.n} | ${r.wall.toFixed(2)} s | ${r.ideal.toFixed(2)} s | ${(((r.wall - r.ideal) / r.ideal) * 100).toFixed(1)} % | ${(reference / r.wall).toFixed(2)}× | ${r.peak} | ${r.cpuPerRegion.toFixed(0)} ms | ${r.load.toFixed(1)} |`);
  }
  log("");
}
