// Describing 60 regions through the DAM describer against a local server that speaks dam_server.py's protocol,
// takes 0.5 s per request (a DAM-3B call on a GPU takes about that) and serves N requests at a time (N
// replicas, or one server with N workers). Baselines: the reference's way, one mask at a time (30 s), and, run
// alternately with gear-seg in this same run, the previous client (a full RGBA copy per region encoded by sharp
// at zlib level 1, on the main thread's sharp calls), kept below. The server (bench/dam-stand-in.js) is a
// process of its own, as a real one is; its 0.5 s per request start when it has the whole body, and its own
// work on the body (parse, base64, PNG header) is inside them and reported apart. It has served a few requests
// before each timed run (warmUp), as a long-running server has.
import sharp from "sharp";
import { fork } from "node:child_process";
import { request } from "node:http";
import { loadavg } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadImage } from "../dist/image/index.js";
import { area, encode, toBbox } from "../dist/masks/index.js";
import { createBackend } from "../dist/stack/registry.js";
import { HttpClient } from "../dist/net/http.js";
import { RegionBodyEncoder } from "../dist/describers/dam/body-encoder.js";
import { DAM_MODEL, DAM_PROMPT } from "../dist/describers/dam/index.js";
import { mapLimit } from "../dist/util/concurrency.js";

const here = dirname(fileURLToPath(import.meta.url));
const REGIONS = 60;
const SERVICE_MS = 500;
// While iterating: DESCRIBE_N=8 (or "4,8") runs only those N; DESCRIBE_VISION=0 skips openai-vision;
// DESCRIBE_PREVIOUS=0 skips the previous client (its columns then show "—").
const NS = (process.env.DESCRIBE_N ?? "1,4,8").split(",").map(Number);
const VISION = process.env.DESCRIBE_VISION !== "0";
const PREVIOUS = process.env.DESCRIBE_PREVIOUS !== "0";

async function startDam(slots) {
  const child = fork(join(here, "dam-stand-in.js"), [JSON.stringify({ slots, serviceMs: SERVICE_MS })], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = () => new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the DAM stand-in exited with code ${code}`)));
  });
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${port}`,
    /** Peak requests served at once, bytes, the per-request log and the stand-in's CPU time. */
    stats: async () => {
      child.send("stats");
      return next();
    },
    stop: () => new Promise((resolve) => {
      child.once("exit", resolve);
      child.disconnect();
    }),
  };
}

/**
 * A model server is up before its clients come and has served requests before; the stand-in is forked for each
 * run, and its first bodies cost it 50–70 ms each instead of 20–35 (V8 compiling its parsing, its heap growing),
 * which its one event loop passes on to every body behind them. So each run's stand-in first serves 2 × `slots`
 * requests sent by node:http (not by the code measured), `slots` at a time; its stats are reset after them.
 * DESCRIBE_COLD_SERVER=1 measures against the stand-in as started, as this benchmark did before.
 */
async function warmUp(dam, slots, body) {
  if (process.env.DESCRIBE_COLD_SERVER === "1") return;
  const post = () => new Promise((resolve, reject) => {
    const req = request(`${dam.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`the stand-in's warm-up request failed: HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
  await mapLimit(Array.from({ length: 2 * slots }), slots, post);
  await dam.stats();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
};

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
  const base = rgbaOf(image);
  return mapLimit(regions, 2 * n, async (region) => {
    const res = await client.request("POST", "/chat/completions", await previousBody(base, W, H, region));
    return res.json.choices[0].message.content;
  });
}

/** The DAM request's JSON (dam_server.py's protocol, as the describer writes it) before and after the PNG's base64. */
const [BEFORE_PNG, AFTER_PNG] = (() => {
  const head = JSON.stringify({ model: DAM_MODEL, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "@@" } }, { type: "text", text: DAM_PROMPT }] }], max_tokens: 512, temperature: 0.2, top_p: 0.9, stream: false });
  const at = head.indexOf('"@@"');
  return [`${head.slice(0, at)}"data:image/png;base64,`, `"${head.slice(at + 4)}`];
})();

/**
 * Every region's gear-seg body, made before the clock starts: what any client could at best have ready. Sent as
 * the describer sends them (the first round one body at a time, then one as each reply comes back), so the wall
 * time is this server's own floor at N in flight.
 */
async function readyBodies(image, regions) {
  const encoder = await RegionBodyEncoder.open(image, 1);
  return regions.map((r) => Buffer.concat(encoder.body(encoder.encode(r.rle), BEFORE_PNG, AFTER_PNG)));
}

async function sendReady(url, n, bodies) {
  const client = new HttpClient("ready", [url], { concurrency: n });
  let turn = Promise.resolve();
  return mapLimit(bodies, n, async (body, i) => {
    let pass = () => {};
    if (i < n) {
      const mine = turn;
      turn = new Promise((resolve) => (pass = resolve));
      await mine;
    }
    try {
      const res = await client.request("POST", "/chat/completions", [body], undefined, { onSent: pass, onNotSent: pass });
      return res.json.choices[0].message.content;
    } finally {
      pass();
    }
  });
}

/** The image's RGB with alpha 0. */
function rgbaOf(image) {
  const W = image.width, H = image.height;
  const base = new Uint8Array(W * H * 4);
  for (let i = 0, j = 0; i < W * H; i++, j += 4) { base[j] = image.data[3 * i]; base[j + 1] = image.data[3 * i + 1]; base[j + 2] = image.data[3 * i + 2]; }
  return base;
}


/** The previous client's body for one region: a copy of the RGBA `base` with the region at alpha 255, PNG by sharp. */
async function previousBody(base, W, H, region) {
  const rgba = base.slice();
  let pos = 0, on = false;
  for (const c of region.rle.counts) {
    if (on) for (let k = pos; k < pos + c; k++) rgba[((k % H) * W + Math.floor(k / H)) * 4 + 3] = 255;
    pos += c;
    on = !on;
  }
  const png = await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png({ compressionLevel: 1 }).toBuffer();
  return `${BEFORE_PNG}${png.toString("base64")}${AFTER_PNG}`;
}

export default async function (log) {
  const imagePath = join(here, "../../shared/data/photos/truck.jpg");
  const image = await loadImage(imagePath);
  const regions = gridRegions(image.width, image.height);
  const areas = new Set(regions.map((r) => r.area));
  const rgbSum = image.data.reduce((a, b) => a + b, 0);
  const rows = [];
  // the stand-in's warm-up requests (made once, outside the timed runs)
  const warmBody = Buffer.from(await previousBody(rgbaOf(image), image.width, image.height, regions[0]));
  const ready = await readyBodies(image, regions);
  const runOnce = async (n, which) => {
    const dam = await startDam(n);
    try {
      await warmUp(dam, n, warmBody);
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      let texts;
      if (which === "gear-seg") {
        const describer = await createBackend("describer", `dam:${dam.url}`, { concurrency: n });
        texts = await describer.describe(image, regions);
      } else if (which === "previous") texts = await previousClient(dam.url, n, image, regions);
      else if (which === "ready") texts = await sendReady(dam.url, n, ready);
      else {
        // openai-vision: the full view at full size (maxSide 2048: no resize per call, so both ways send the same bytes)
        const describer = await createBackend("describer", `openai-vision:llava@${dam.url}`, { concurrency: n, maxSide: 2048 });
        texts =
          which === "vision"
            ? await describer.describe(image, regions)
            : // one call per region: its images are made in its request's turn, as the previous client did
              (await mapLimit(regions, n, (r) => describer.describe(image, [r]))).flat();
      }
      const wall = (performance.now() - t) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (texts.length !== REGIONS || texts.some((d) => d !== "A described region.")) throw new Error("wrong descriptions");
      const stats = await dam.stats();
      // The first and the last PNG the stand-in got (DAM clients): the photo's RGB, a region's pixels at alpha 255, no other alpha.
      for (const c of stats.checked) {
        if (c.rgb !== rgbSum || c.otherAlpha !== 0 || !areas.has(c.inside)) throw new Error(`${which}: a PNG's pixels are wrong (${JSON.stringify(c)})`);
      }
      // At N = 1 the server is idle between a reply and the next whole body: the client's share of each request.
      const log = [...stats.log].sort((a, b) => a.received - b.received);
      const gaps = log.slice(1).map((e, i) => e.received - log[i].replied);
      const idle = n === 1 ? median(gaps) : NaN;
      const idleTotal = n === 1 ? gaps.reduce((a, b) => a + b, 0) / 1000 : NaN;
      // from the describe call (describer creation included) to the first whole body at the server
      const firstBody = (stats.origin + log[0].received - (performance.timeOrigin + t)) / 1000;
      return {
        wall,
        cpuPerRegion: (cpu.user + cpu.system) / 1000 / REGIONS,
        serverCpuPerRegion: stats.cpuMs / REGIONS,
        parseMs: median(stats.log.map((e) => e.parseMs)),
        idle,
        idleTotal,
        firstBody,
        bytes: stats.bytes / stats.requests,
        peak: stats.peak,
        load: loadavg()[0],
      };
    } finally {
      await dam.stop();
    }
  };
  const skipped = { wall: NaN, cpuPerRegion: NaN, idle: NaN, idleTotal: NaN, firstBody: NaN, bytes: NaN };
  for (const n of NS) {
    // alternate, so that the shared machine's load hits both alike
    const ours = await runOnce(n, "gear-seg");
    const base = PREVIOUS ? await runOnce(n, "previous") : skipped;
    const floor = await runOnce(n, "ready");
    rows.push({ n, ours, base, floor, ideal: (REGIONS * SERVICE_MS) / 1000 / n });
  }
  const visionRows = [];
  for (const n of VISION ? NS : []) {
    const ours = await runOnce(n, "vision");
    const base = await runOnce(n, "vision-per-call");
    visionRows.push({ n, ours, base, ideal: (REGIONS * SERVICE_MS) / 1000 / n });
  }
  const reference = (REGIONS * SERVICE_MS) / 1000;
  log("## Describers over HTTP");
  log("");
  log(`60 regions of a ${image.width}×${image.height} photo (\`truck.jpg\`, a 10 × 6 grid of ellipses) through the \`dam\` describer against a`);
  log(`stand-in speaking \`dam_server.py\`'s protocol in a process of its own (\`bench/dam-stand-in.js\`) that serves N requests at a time and`);
  log(`takes ${SERVICE_MS} ms per request from the moment it has the whole body; its own work on the body (JSON parse, base64 decode, PNG header:`);
  log("RGBA) runs inside those 500 ms and is reported apart. A stand-in is started for each run and has served 2 × N requests (node:http,");
  log("not the code measured) before it, as a model server has before its clients come (DESCRIBE_COLD_SERVER=1: without them).");
  log("The describer runs with `concurrency: N`. gear-seg: HTTP over node:http with");
  log("kept-alive connections; region PNGs on the main thread (the image's rows filtered with Paeth in WebAssembly, 4 pixels at a time, in a memory an earlier image used; the alpha-0 row blocks compressed once per image at zlib level 4");
  log("on libuv's threads; a region rewrites the rows of the 16-row blocks it spans and the one below as literals under each 16 rows' own");
  log("Huffman code, copying the bits of every row encoded once per image and encoding anew only the bytes around its alpha; every chunk a");
  log("multiple of 3 bytes, so the shared chunks' base64 is made once per image and a body is sent as views of it around the region's own");
  log("text); a region's body made when it is to be sent, the one N places later made when a body has been sent. Previous client (same run, alternating): a full RGBA copy per");
  log(`region, sharp PNG at zlib level 1. Reference: one mask at a time, ${REGIONS} × ${SERVICE_MS / 1000} s = ${reference} s. Server idle per request (N = 1):`);
  log("time between the stand-in's reply and the whole next body, the client's share of each request (median, and the sum over the run).");
  log("First body: from creating the describer to the first whole body at the stand-in (module loading, worker start, the image's shared");
  log("blocks, the first region). CPU per region: the client's process over the run, divided by 60; the stand-in's is apart. Bodies ready:");
  log("every gear-seg body made before the clock starts and sent as the describer sends them, the floor of any client against this server");
  log("(60 requests on N slots take ⌈60 / N⌉ rounds on the busiest).");
  log("");
  log("| N in flight | gear-seg wall | previous client wall | bodies ready (floor) | ideal 60 × 0.5 s / N | gear-seg over ideal | first body: gear-seg / previous | server idle per request (sum): gear-seg / previous | client CPU per region: gear-seg / previous | stand-in CPU per region (its parse, median) | bytes per request: gear-seg / previous | peak served at once | load average |");
  log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const idleText = (a, b) => (Number.isNaN(a.idle) ? "—" : `${a.idle.toFixed(1)} ms (${a.idleTotal.toFixed(2)} s) / ${b.idle.toFixed(1)} ms (${b.idleTotal.toFixed(2)} s)`);
  const firstText = (a, b) => `${a.firstBody.toFixed(2)} / ${b.firstBody.toFixed(2)} s`;
  for (const r of rows) {
    const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
    const idle = idleText(r.ours, r.base);
    log(`| ${r.n} | ${r.ours.wall.toFixed(2)} s | ${r.base.wall.toFixed(2)} s | ${r.floor.wall.toFixed(2)} s | ${r.ideal.toFixed(2)} s | ${(((r.ours.wall - r.ideal) / r.ideal) * 100).toFixed(1)} % | ${firstText(r.ours, r.base)} | ${idle} | ${r.ours.cpuPerRegion.toFixed(0)} / ${r.base.cpuPerRegion.toFixed(0)} ms | ${r.ours.serverCpuPerRegion.toFixed(0)} ms (${r.ours.parseMs.toFixed(0)} ms) | ${mb(r.ours.bytes)} / ${mb(r.base.bytes)} | ${r.ours.peak} | ${r.ours.load.toFixed(1)} |`);
  }
  log("");
  log("`openai-vision` against the same stand-in (two JPEGs per request: the full view with the region outlined, at full size here, and");
  log("DAM's focal crop): gear-seg makes the next N regions' images while requests are in flight (a new one when a request has been sent);");
  log("the baseline calls `describe` once per region, N at a time, so each region's images are made in its request's turn, as the previous");
  log("client did. Same bytes both ways.");
  log("");
  log("| N in flight | gear-seg wall | one call per region | ideal | gear-seg over ideal | server idle per request (sum): gear-seg / per call | client CPU per region: gear-seg / per call | bytes per request | load average |");
  log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of visionRows) {
    const idle = idleText(r.ours, r.base);
    log(`| ${r.n} | ${r.ours.wall.toFixed(2)} s | ${r.base.wall.toFixed(2)} s | ${r.floor.wall.toFixed(2)} s | ${r.ideal.toFixed(2)} s | ${(((r.ours.wall - r.ideal) / r.ideal) * 100).toFixed(1)} % | ${idle} | ${r.ours.cpuPerRegion.toFixed(0)} / ${r.base.cpuPerRegion.toFixed(0)} ms | ${(r.ours.bytes / 1e6).toFixed(2)} MB | ${r.ours.load.toFixed(1)} |`);
  }
  log("");
}
