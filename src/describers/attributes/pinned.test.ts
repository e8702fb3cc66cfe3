// Pins the describer's exact text on a busy synthetic scene (textured colour fields, 64 overlapping, nested,
// edge-touching, one-pixel and empty regions), so that speed work cannot change a word. The expected strings
// were produced by the describer before its measurement pass was rewritten (per-pixel walk, pairwise merges).
import { createBackend } from "../../stack/registry.js";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encode } from "../../masks/index.js";
import type { Region } from "../../pipeline/types.js";
import type { RgbImage } from "../../image/types.js";


/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function busyScene(W = 173, H = 131, count = 64, seed = 7): { image: RgbImage; regions: Region[] } {
  const rnd = lcg(seed);
  const data = new Uint8Array(W * H * 3);
  // Colour fields: a 5 x 4 grid of base colours with noise of varying strength, plus a smooth gradient band.
  const base: [number, number, number][] = [];
  for (let k = 0; k < 20; k++) base.push([Math.floor(rnd() * 256), Math.floor(rnd() * 256), Math.floor(rnd() * 256)]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const cell = Math.min(4, Math.floor((x / W) * 5)) + 5 * Math.min(3, Math.floor((y / H) * 4));
      const c = base[cell]!;
      const noise = (cell % 3) * 12;
      const p = (y * W + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = y > 100 && y < 110 ? (x * 255) / W : c[ch]! + (rnd() - 0.5) * noise;
        data[p + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  const masks: Uint8Array[] = [];
  const shape = (f: (x: number, y: number) => boolean) => {
    const m = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (f(x, y)) m[y * W + x] = 1;
    masks.push(m);
  };
  shape(() => true); // the whole image
  shape(() => false); // empty
  shape((x, y) => x === 17 && y === 23); // one pixel
  shape((x, y) => y >= 100 && y < 110); // the gradient band, spans the width
  shape((x) => x >= W - 4); // a thin strip at the right edge, spans the height
  while (masks.length < count) {
    const kind = Math.floor(rnd() * 5);
    const cx = rnd() * W, cy = rnd() * H, rx = 2 + rnd() * W * 0.35, ry = 2 + rnd() * H * 0.35;
    if (kind === 0) shape((x, y) => Math.abs(x - cx) <= rx && Math.abs(y - cy) <= ry);
    else if (kind === 1) shape((x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1);
    else if (kind === 2) {
      const r = Math.min(rx, ry);
      shape((x, y) => { const d = Math.hypot(x - cx, y - cy); return d <= r && d >= r * 0.6; });
    } else if (kind === 3) {
      // A part of an earlier region (nesting), or its union with a box.
      const parent = masks[Math.floor(rnd() * masks.length)]!;
      const half = rnd() < 0.5;
      shape((x, y) => parent[y * W + x] === 1 && (half ? x < cx : y > cy));
    } else {
      const a = rnd() * Math.PI, len = rx * 1.5, thick = 1 + rnd() * 3;
      shape((x, y) => { const dx = x - cx, dy = y - cy; const along = dx * Math.cos(a) + dy * Math.sin(a); const across = -dx * Math.sin(a) + dy * Math.cos(a); return Math.abs(along) <= len && Math.abs(across) <= thick; });
    }
  }
  const regions = masks.map((m, i): Region => {
    let x0 = W, y0 = H, x1 = -1, y1 = -1, area = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (m[y * W + x]) {
      area++; x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    // Ids are not indices: the describer must print ids.
    return { id: 100 + ((i * 37) % count), rle: encode({ height: H, width: W, data: m }), bbox: area ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : [0, 0, 0, 0], area };
  });
  return { image: { width: W, height: H, data }, regions };
}

const sha = (texts: string[]) => createHash("sha256").update(texts.join("\n")).digest("hex");

describe("attributes describer output is pinned", () => {
  it("describes a busy synthetic scene word for word as before", async () => {
    const { image, regions } = busyScene();
    const d = await createBackend("describer", "attributes", {});
    const text = await d.describe(image, regions);
    expect(text).toHaveLength(64);
    expect([0, 1, 2, 3, 4, 10, 20, 30, 40, 50, 60].map((i) => text[i])).toEqual([
      "A huge vivid green region, rectangular, in the centre of the image, spanning the width and height. Colours: green 31%, yellow 11%, maroon 10%. Slightly textured surface. The largest region. Contains regions 147, 120, 157, 103, 140 and 31 more.",
      "A tiny colourless region, at the top left of the image. Smooth surface.",
      "A tiny light vivid green region, rectangular, at the top left of the image. Colours: green 100%. Smooth surface. The smallest region. Inside region 119.",
      "A medium grey region, long and thin, horizontal, at the bottom centre of the image, spanning the width. Colours: grey 51%, black 20%, white 19%. Slightly textured surface. Inside region 100. Contains region 102.",
      "A small green region, long and thin, vertical, at the middle right of the image, spanning the height. Colours: green 25%, pink 25%, grey 25%. Slightly textured surface. The rightmost region. Inside region 100.",
      "A small vivid purple region, long and thin, irregular, horizontal, at the top left of the image. Colours: purple 55%, green 45%. Smooth surface. Inside region 155.",
      "A small green region, elongated, diagonal, at the bottom left of the image. Colours: green 55%, black 33%, maroon 12%. Slightly textured surface. Inside region 158.",
      "A tiny vivid orange region, irregular, at the top centre of the image. Colours: orange 88%, red 12%. Slightly textured surface. Inside region 107.",
      "A small dark brown region, elongated, diagonal, at the bottom right of the image. Colours: brown 95%. Smooth surface. Inside region 100.",
      "A large green region, round, at the bottom left of the image. Colours: green 47%, maroon 23%, yellow 17%. Slightly textured surface. Inside region 100. Contains regions 136, 129, 118, 111, 141.",
      "A small vivid purple region, long and thin, irregular, horizontal, at the top centre of the image. Colours: purple 29%, grey 29%, yellow 20%. Slightly textured surface. Inside region 100."
    ]);
    expect(sha(text)).toBe("0949adac9cd8a101aa696b1074ceca2164bdebc36f384b89f2ee8bf26477f76f");
    expect(await d.caption!(image, regions)).toBe("A moderately lit, colourful 173x131 image, mostly green (31%), yellow (11%), maroon (10%). 64 regions; the largest: a huge vivid green region in the centre spanning the width and height (region 100); a large vivid green region in the centre (region 146); a large vivid green region in the centre (region 163).");
  });

  it("keeps three more scenes (other sizes, region counts and maxColours) byte for byte", async () => {
    const expected: Record<number, string> = {
      11: "8aadc3d2978a02d6eff981bfc8bfefd85104582e3aced7816d6f2cee2144bf10",
      23: "d26762fa08f4593df02fb3860e943ea7df017b33a08103ff0e3237c938f1d4b0",
      5: "4f503898bc6bfe1cbcdfbc4f3813dade0c3c6026af699c57f21ff1f95f9e9823",
    };
    for (const [seed, count, maxColours] of [[11, 90, 3], [23, 40, 1], [5, 120, 5]] as const) {
      const s = busyScene(211 - seed, 97 + seed, count, seed);
      const d = await createBackend("describer", "attributes", { maxColours });
      expect(sha([...(await d.describe(s.image, s.regions)), await d.caption!(s.image, s.regions)]), `seed ${seed}`).toBe(expected[seed]);
    }
  });
});
