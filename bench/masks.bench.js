// Mask algebra benchmark: 200 seeded, realistic masks (rotated ellipses and blob clusters of varied sizes) on a
// 1536×2048 image. Each operation is timed against a straightforward per-pixel baseline written here, in the
// same run. Run: npm run build && node bench/run.js masks
import { createHash } from "node:crypto";
import { loadavg } from "node:os";
import {
  decode,
  encode,
  iou,
  merge,
  rleFromString,
  rleToString,
} from "../dist/masks/index.js";
import { describeReference, startPycocotools } from "./pycocotools.js";

const H = 1536;
const W = 2048;
const N = 200;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Draw a rotated ellipse into a row-major byte mask, touching only its bounding box. */
function ellipse(d, cx, cy, rx, ry, t, val) {
  const c = Math.cos(t);
  const s = Math.sin(t);
  const ex = Math.ceil(Math.sqrt(rx * rx * c * c + ry * ry * s * s));
  const ey = Math.ceil(Math.sqrt(rx * rx * s * s + ry * ry * c * c));
  const y0 = Math.max(0, Math.floor(cy - ey));
  const y1 = Math.min(H - 1, Math.ceil(cy + ey));
  const x0 = Math.max(0, Math.floor(cx - ex));
  const x1 = Math.min(W - 1, Math.ceil(cx + ex));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const u = (x - cx) * c + (y - cy) * s;
      const v = -(x - cx) * s + (y - cy) * c;
      if ((u / rx) ** 2 + (v / ry) ** 2 <= 1) d[y * W + x] = val;
    }
  }
}

export function makeMasks() {
  const rand = rng(12345);
  const buf = new Uint8Array(H * W);
  const rles = [];
  for (let i = 0; i < N; i++) {
    buf.fill(0);
    // Sizes from small objects (~10 px) to most of the image, log-uniform.
    const size = Math.exp(Math.log(10) + rand() * (Math.log(700) - Math.log(10)));
    const cx = rand() * W;
    const cy = rand() * H;
    const parts = 1 + Math.floor(rand() * 4);
    for (let p = 0; p < parts; p++) {
      const r = size * (0.4 + rand() * 0.6);
      ellipse(buf, cx + (rand() - 0.5) * size, cy + (rand() - 0.5) * size, r * (0.5 + rand()), r * (0.5 + rand()), rand() * Math.PI, 1);
    }
    if (rand() < 0.3) ellipse(buf, cx, cy, size * 0.2, size * 0.15, rand() * Math.PI, 0); // a hole
    rles.push(encode({ height: H, width: W, data: buf }));
  }
  return rles;
}

// ---- Baselines: the obvious per-pixel code. ----
function naiveEncode(m) {
  const { height: h, width: w, data } = m;
  const out = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = data[y * w + x] !== 0 ? 1 : 0;
      if (v !== p) {
        out.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  out.push(c);
  return { height: h, width: w, counts: Uint32Array.from(out) };
}

/** Alternative fast encode we measured: blocked transpose into a column-major scratch, then a linear scan. */
const tScratch = new Uint8Array(H * W);
function transposeEncode(m) {
  const { height: h, width: w, data } = m;
  const B = 64;
  for (let by = 0; by < h; by += B) {
    const ye = Math.min(h, by + B);
    for (let bx = 0; bx < w; bx += B) {
      const xe = Math.min(w, bx + B);
      for (let x = bx; x < xe; x++) {
        const o = x * h;
        for (let y = by; y < ye; y++) tScratch[o + y] = data[y * w + x];
      }
    }
  }
  const out = [];
  let p = 0;
  let start = 0;
  const n = h * w;
  for (let i = 0; i < n; i++) {
    const v = tScratch[i] !== 0 ? 1 : 0;
    if (v !== p) {
      out.push(i - start);
      start = i;
      p = v;
    }
  }
  out.push(n - start);
  return { height: h, width: w, counts: Uint32Array.from(out) };
}

function naiveDecodeInto(rle, out) {
  const { height: h, width: w, counts } = rle;
  out.fill(0);
  let pos = 0;
  for (let j = 0; j < counts.length; j++) {
    const len = counts[j];
    if (j & 1) {
      for (let k = pos; k < pos + len; k++) {
        const x = (k / h) | 0;
        out[(k - x * h) * w + x] = 1;
      }
    }
    pos += len;
  }
  return out;
}

function naiveToString(rle) {
  let s = "";
  const c = rle.counts;
  for (let i = 0; i < c.length; i++) {
    let x = c[i];
    if (i > 2) x -= c[i - 2];
    let more = true;
    while (more) {
      let ch = x & 0x1f;
      x >>= 5;
      more = ch & 0x10 ? x !== -1 : x !== 0;
      if (more) ch |= 0x20;
      s += String.fromCharCode(ch + 48);
    }
  }
  return s;
}

function naiveFromString(s, h, w) {
  const out = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = 1;
    while (more) {
      const c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = c & 0x20;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (out.length > 2) x += out[out.length - 2];
    out.push(x);
  }
  return { height: h, width: w, counts: Uint32Array.from(out) };
}

/** pycocotools-style IoU walk over all runs of both masks (no range limiting). */
function fullWalkIntersection(A, B) {
  let ca = A[0];
  let cb = B[0];
  let a = 1;
  let b = 1;
  let va = 0;
  let vb = 0;
  let i = 0;
  let ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    if (va && vb) i += c;
    ct = 0;
    ca -= c;
    if (!ca && a < A.length) {
      ca = A[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < B.length) {
      cb = B[b++];
      vb ^= 1;
    }
    ct += cb;
  }
  return i;
}

function time(fn, minMs = 300, maxReps = 50) {
  fn(); // warm-up
  const times = [];
  const t0 = performance.now();
  while (times.length < 3 || (performance.now() - t0 < minMs && times.length < maxReps)) {
    const s = performance.now();
    fn();
    times.push(performance.now() - s);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)) + " ms";
const sp = (base, fast) => (base / fast).toFixed(1) + "×";

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const md5 = (...parts) => { const h = createHash("md5"); for (const p of parts) h.update(p); return h.digest("hex"); };

/**
 * The same four tasks as pycocotools' mask API on the same 200 masks, alternating reference and gear-seg
 * `reps` times; medians. Encode starts from each library's own decoded layout (pycocotools: one column-major
 * h×w×n array, what rleEncode reads without a copy; gear-seg: row-major masks) and ends with the compressed
 * strings; merge and IoU start from the strings; decode goes from strings to masks.
 */
export async function versusPycocotools(strings, crowd, log, reps = 7) {
  const ref = await startPycocotools();
  const rows = [];
  const flags = crowd.map((c) => c === 1);
  // Each task returns a function that computes its identity check, so that hashing stays outside the timing.
  const ours = {
    encode: () => {
      const out = new Array(N);
      for (let i = 0; i < N; i++) out[i] = rleToString(encode(masks[i]));
      return () => md5(out.join("\n"));
    },
    merge: () => {
      const s = rleToString(merge(strings.map((x) => rleFromString(x, H, W))));
      return () => md5(s);
    },
    iou: () => {
      const m = iou(strings.map((s) => rleFromString(s, H, W)), strings.map((s) => rleFromString(s, H, W)), flags);
      return () => {
        const flat = new Float64Array(N * N);
        m.forEach((row, i) => flat.set(row, i * N));
        return md5(new Uint8Array(flat.buffer));
      };
    },
    decode: () => {
      const out = strings.map((s) => decode(rleFromString(s, H, W)).data);
      return () => md5(...out);
    },
  };
  // gear-seg's row-major masks (kept decoded for the encode task: 200 × 3 MB)
  const masks = strings.map((s) => decode(rleFromString(s, H, W)));
  if (ref) await ref.call({ op: "load", height: H, width: W, strings, crowd });
  const names = { encode: "encode 200 masks → strings", merge: "merge (union) of 200 strings → string", iou: "IoU matrix 200×200 from strings", decode: "decode 200 strings → masks" };
  for (const task of ["encode", "merge", "iou", "decode"]) {
    const oursMs = [];
    const refMs = [];
    let same = ref ? "yes" : "–";
    if (task !== "decode") ours[task](); // warm-up: the reference is compiled ahead of time, gear-seg's JIT is not
    const runs = { encode: reps, merge: 4 * reps + 3, iou: reps, decode: 3 }[task];
    for (let r = 0; r < runs; r++) {
      const t = performance.now();
      const checkFn = ours[task]();
      oursMs.push(performance.now() - t);
      const check = checkFn();
      if (ref) {
        const reply = await ref.call({ op: task });
        refMs.push(reply.ms);
        if (reply.check !== check) same = "**no**";
      }
    }
    const o = median(oursMs);
    const p = ref ? median(refMs) : NaN;
    rows.push(`| ${names[task]} | ${ref ? fmt(p) : "not available"} | ${fmt(o)} | ${ref ? (o / p).toFixed(2) + "×" : "–"} | ${same} |`);
  }
  ref?.close();
  log(`### Against pycocotools (same masks, same run)`);
  log("");
  log(`${describeReference(ref)}${ref ? "" : ` (${startPycocotools.whyNot}; build it as BENCHMARKS.md says and set PYCOCOTOOLS_PATH)`}. Alternating runs, median of ${reps} (merge: ${4 * reps + 3}, decode: 3), gear-seg after one untimed warm-up run (decode: none); the reference's time is its library call alone, measured in Python; "same" compares the strings (encode, merge), the IoU matrix's float64 bytes and the decoded row-major masks by MD5. Load average ${loadavg().map((x) => x.toFixed(1)).join(" / ")} at the end.`);
  log("");
  log("| task | pycocotools (C) | gear-seg | gear-seg / pycocotools | same result |");
  log("|---|---:|---:|---:|---|");
  for (const r of rows) log(r);
  log("");
}

export default async function (log) {
  const tGen = performance.now();
  const rles = makeMasks();
  const genMs = performance.now() - tGen;
  const K = 10; // masks kept decoded for encode/decode timings
  const masks = rles.slice(0, K).map((r) => decode(r));
  const scratch = new Uint8Array(H * W);
  const runs = rles.map((r) => r.counts.length);
  const areas = rles.map((r) => { let a = 0; for (let j = 1; j < r.counts.length; j += 2) a += r.counts[j]; return a; });

  // Sanity: fast and baseline agree.
  for (let k = 0; k < K; k++) {
    const a = encode(masks[k]).counts;
    const b = naiveEncode(masks[k]).counts;
    const c = transposeEncode(masks[k]).counts;
    if (a.length !== b.length || a.some((v, i) => v !== b[i]) || c.some((v, i) => v !== b[i])) throw new Error("encode mismatch");
  }

  const rows = [];
  const per = (name, baseName, base, fast) => rows.push(`| ${name} | ${baseName} | ${fmt(base)} | ${fmt(fast)} | ${sp(base, fast)} |`);

  let k = 0;
  const encFast = time(() => encode(masks[k++ % K]));
  k = 0;
  const encNaive = time(() => naiveEncode(masks[k++ % K]));
  k = 0;
  const encTrans = time(() => transposeEncode(masks[k++ % K]));
  per("encode (1 mask)", "column-by-column walk", encNaive, encFast);
  per("encode (1 mask), alternative", "blocked transpose + linear scan", encTrans, encFast);

  k = 0;
  const decFast = time(() => decode(rles[k++ % N]));
  k = 0;
  const decNaive = time(() => naiveDecodeInto(rles[k++ % N], new Uint8Array(H * W)));
  per("decode (1 mask, fresh output)", "per-pixel strided writes", decNaive, decFast);

  const strings = rles.map((r) => rleToString(r));
  for (let i = 0; i < N; i++) if (naiveToString(rles[i]) !== strings[i]) throw new Error("string mismatch");
  const tsFast = time(() => { for (let i = 0; i < N; i++) rleToString(rles[i]); }) / N;
  const tsNaive = time(() => { for (let i = 0; i < N; i++) naiveToString(rles[i]); }) / N;
  per("rleToString (1 mask)", "string concatenation", tsNaive, tsFast);
  const fsFast = time(() => { for (let i = 0; i < N; i++) rleFromString(strings[i], H, W); }) / N;
  const fsNaive = time(() => { for (let i = 0; i < N; i++) naiveFromString(strings[i], H, W); }) / N;
  per("rleFromString (1 mask, validated)", "unvalidated array push", fsNaive, fsFast);

  // Merge of all 200.
  const mergeFast = time(() => merge(rles), 500, 50);
  const mergeSeq = time(() => { let acc = rles[0]; for (let i = 1; i < N; i++) acc = merge([acc, rles[i]]); return acc; }, 500, 5);
  const acc = new Uint8Array(H * W);
  const mergeNaive = time(() => {
    acc.fill(0);
    for (let i = 0; i < N; i++) {
      naiveDecodeInto(rles[i], scratch);
      for (let p = 0; p < acc.length; p++) acc[p] |= scratch[p];
    }
    return naiveEncode({ height: H, width: W, data: acc });
  }, 0, 1);
  {
    const a = merge(rles).counts;
    const b = naiveEncode({ height: H, width: W, data: acc }).counts;
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error("merge mismatch");
  }
  per("merge 200 masks (union)", "decode each + OR bytes + encode", mergeNaive, mergeFast);
  per("merge 200 masks (union)", "pairwise left fold on runs (pycocotools order)", mergeSeq, mergeFast);

  // IoU matrix 200×200.
  const flags = rles.map((_, i) => i % 10 === 9);
  const iouFast = time(() => iou(rles, rles, flags), 500, 10);
  const iouWalk = time(() => {
    for (let d = 0; d < N; d++) for (let g = 0; g < N; g++) fullWalkIntersection(rles[d].counts, rles[g].counts);
  }, 0, 1);
  // Per-pixel IoU on a 6×6 subset (36 pairs), scaled to 40,000 pairs.
  const S = 6;
  const dec = rles.slice(0, S).map((r) => decode(r).data);
  const pixPairs = time(() => {
    for (let d = 0; d < S; d++) for (let g = 0; g < S; g++) {
      const A = dec[d];
      const B = dec[g];
      let i = 0;
      let u = 0;
      for (let p = 0; p < A.length; p++) {
        i += A[p] & B[p];
        u += A[p] | B[p];
      }
    }
  }, 0, 1) / (S * S);
  // Check against per-pixel counts on the subset.
  {
    const m = iou(rles.slice(0, S), rles.slice(0, S), flags.slice(0, S));
    for (let d = 0; d < S; d++) for (let g = 0; g < S; g++) {
      let i = 0;
      let u = 0;
      for (let p = 0; p < dec[d].length; p++) { i += dec[d][p] & dec[g][p]; u += dec[d][p] | dec[g][p]; }
      const want = i === 0 ? 0 : i / (flags[g] ? areas[d] : u);
      if (m[d][g] !== want) throw new Error(`iou mismatch at ${d},${g}`);
    }
  }
  per("IoU matrix 200×200", "decode + count pixels per pair (36 pairs timed, ×40,000/36)", pixPairs * N * N, iouFast);
  per("IoU matrix 200×200", "walk all runs of every pair (rleIou without bbox check)", iouWalk, iouFast);

  // Storage: byte per pixel vs packed bits, on the per-pixel union (OR) and area (count).
  const packed = rles.slice(0, 20).map((r) => {
    const d = decode(r).data;
    const p = new Uint32Array(Math.ceil((H * W) / 32));
    for (let i = 0; i < d.length; i++) if (d[i]) p[i >>> 5] |= 1 << (i & 31);
    return p;
  });
  const bytes = rles.slice(0, 20).map((r) => decode(r).data);
  const orBytes = time(() => {
    const out = new Uint32Array((H * W) / 4);
    for (const b of bytes) { const w = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2); for (let i = 0; i < out.length; i++) out[i] |= w[i]; }
  }) / 20;
  const orPacked = time(() => {
    const out = new Uint32Array(packed[0].length);
    for (const p of packed) for (let i = 0; i < out.length; i++) out[i] |= p[i];
  }) / 20;
  const popcnt = (v) => { v -= (v >>> 1) & 0x55555555; v = (v & 0x33333333) + ((v >>> 2) & 0x33333333); return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24); };
  const areaBytes = time(() => { for (const b of bytes) { let n = 0; for (let i = 0; i < b.length; i++) n += b[i]; } }) / 20;
  const areaPacked = time(() => { for (const p of packed) { let n = 0; for (let i = 0; i < p.length; i++) n += popcnt(p[i]); } }) / 20;

  const sorted = [...runs].sort((a, b) => a - b);
  const sa = [...areas].sort((a, b) => a - b);
  log("## Mask algebra");
  log("");
  log(`${N} seeded masks of ${H}×${W} (rotated ellipse clusters, some with holes; area median ${sa[N >> 1]} px, from ${sa[0]} to ${sa[N - 1]}; runs per RLE median ${sorted[N >> 1]}, max ${sorted[N - 1]}; generated in ${fmt(genMs)}). Median of repeated runs; node ${process.version}. Every fast result is checked against its baseline's before timing counts.`);
  log("");
  log("| operation | baseline | baseline time | gear-seg | speed-up |");
  log("|---|---|---|---|---|");
  for (const r of rows) log(r);
  log("");
  await versusPycocotools(strings, rles.map((_, i) => (i % 10 === 9 ? 1 : 0)), log);
  log(`Storage (per mask, per-pixel work): OR into an accumulator ${fmt(orBytes)} with bytes (4 pixels per 32-bit word) vs ${fmt(orPacked)} packed (32 per word); area ${fmt(areaBytes)} bytes vs ${fmt(areaPacked)} packed (popcount). Packing pays only for per-pixel algebra, which gear-seg does on RLE instead (merge ${fmt(mergeFast / N)} per mask, area from runs). Image code (sharp buffers, overlays, resizing, contours) is byte-addressed, so BinaryMask stays one byte per pixel.`);
}
