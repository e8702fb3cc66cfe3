/**
 * Measurements of regions, read from their RLE runs (column-major, as COCO) without decoding the masks:
 * colour-name histogram, mean lightness and chroma, centroid and second moments, and luminance gradient
 * energy inside the mask. `measureRegions` measures many regions at once, from per-band tables when the regions
 * overlap a lot (nested proposals cover each pixel 10–20 times), so that its cost follows the image size and the
 * number of runs rather than the sum of the regions' areas. Its reference, a plain walk over one region's pixels,
 * is the tests' oracle.
 */
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { COLOUR_NAMES, binOf, binTables } from "../../vocabulary/colour-names.js";

export interface RegionMeasures {
  area: number;
  /** Pixels per colour name (index into COLOUR_NAMES). */
  colourCounts: Float64Array;
  meanLightness: number;
  meanChroma: number;
  /** Centroid in pixels. */
  cx: number;
  cy: number;
  /** Central second moments (variances and covariance) in pixels². */
  varX: number;
  varY: number;
  covXY: number;
  /** Mean absolute luminance (0..255) difference between neighbouring pixels inside the mask. */
  gradient: number;
}

/** Pixels per band of columns: the band's tables (about 26 bytes a pixel) stay in the cache. */
const BAND_PIXELS = 1 << 16;
/** Tables pay for themselves when the regions cover a band's pixels more than about this many times over
 * (reading a pixel into the tables costs about as much as visiting it in a region walk); thinner bands are
 * walked pixel by pixel. */
const TABLE_LOAD = 1.5;
/** Rows per colour-count block: a column segment adds whole blocks' counts and walks at most 2 × BLOCK - 2 pixels. */
const BLOCK = 16;
/** Means this close to a word's threshold are recomputed pixel by pixel, in the reference's order. */
const NEAR = 1e-3;
const LIGHTNESS_THRESHOLDS = [35, 75];
const CHROMA_THRESHOLDS = [12, 25, 55];

/**
 * Measure many regions of one image in one pass over the image, band of columns by band of columns. A band
 * that the regions cover more than TABLE_LOAD times over is read once into column-major tables (colour name
 * per pixel; per-column prefix sums of L*, chroma and gradient; per-column colour counts every BLOCK rows), and
 * every region's column segments inside it are summed from those tables in O(1) (O(BLOCK) for the colour
 * counts), whatever their length; the pixels of a thinner band are visited one by one, as the oracle does.
 * Each region keeps a cursor into its runs, which only moves forward, so its runs are walked once overall.
 *
 * The result equals a plain walk over each region's pixels in run order (the tests' oracle): area, colour
 * counts, moments and gradient are integer sums (exact in doubles); L* sums are exact too, as every L* of the
 * bin table is a float32 ≥ 1 (a multiple of 2^-23) and the sums stay below 2^30 for images up to 10
 * megapixels. Chroma sums (and L* sums beyond that size) differ from the sequential sum only by rounding,
 * ~1e-12; a mean within NEAR of a word's threshold is recomputed in run order (`sequentialMeans`), so the
 * words are always the plain walk's.
 * `bandPixels` and `tableLoad` (tests) set the band size and the coverage from which tables are built.
 */
export function measureRegions(image: RgbImage, rles: readonly Rle[], bandPixels = BAND_PIXELS, tableLoad = TABLE_LOAD): RegionMeasures[] {
  const W = image.width;
  const H = image.height;
  const n = rles.length;
  const acc = newAccumulators(n);
  const band = newBand(image, bandPixels);
  const loads = bandLoads(rles, H, band.cols, Math.ceil(W / band.cols));
  for (let c0 = 0, b = 0; c0 < W; c0 += band.cols, b++) {
    const c1 = Math.min(W, c0 + band.cols);
    const tables = loads[b]! > tableLoad * (c1 - c0) * H;
    if (tables) readBand(band, c0, c1);
    else (band.c0 = c0), (band.c1 = c1);
    for (let r = 0; r < n; r++) measureInBand(band, rles[r]!.counts, acc, r, tables);
  }
  const out: RegionMeasures[] = [];
  for (let r = 0; r < n; r++) out.push(finish(acc, r, image, rles[r]!));
  return out;
}

const K = COLOUR_NAMES.length;

/** Sums per region (index r), in typed arrays; `counts` holds K colour counts per region. */
interface Accumulators {
  area: Float64Array; sumX: Float64Array; sumY: Float64Array; sumXX: Float64Array; sumYY: Float64Array; sumXY: Float64Array;
  sumL: Float64Array; sumC: Float64Array; grad: Float64Array; gradN: Float64Array; counts: Float64Array;
  /** Cursor per region: index of the current run, its first pixel, and how much of it is measured. */
  runIndex: Uint32Array; runStart: Float64Array; runDone: Float64Array;
}

function newAccumulators(n: number): Accumulators {
  const f = () => new Float64Array(n);
  return {
    area: f(), sumX: f(), sumY: f(), sumXX: f(), sumYY: f(), sumXY: f(), sumL: f(), sumC: f(), grad: f(), gradN: f(),
    counts: new Float64Array(n * K), runIndex: new Uint32Array(n), runStart: f(), runDone: f(),
  };
}

/** Tables of a band of columns [c0, c1) of the image. The sums are stored row by row (entry (y, x) at
 * y · width + x - c0), so that reading the row-major image into them runs through memory in order; the
 * per-pixel bytes column by column, so that a column segment's pixels are adjacent. */
interface Band {
  W: number; H: number; cols: number; c0: number; c1: number;
  /** c1 - c0: the row stride of the tables. */
  width: number;
  data: Uint8Array;
  /** Colour-name index and the absolute luminance difference to the pixel above (0 in row 0) per pixel, at
   * (x - c0) · H + y. */
  name: Uint8Array; up: Uint8Array;
  /** H + 1 rows of per-column prefix sums (row y = sum over the column's rows < y) of L*, chroma, and gradient
   * (the difference to the pixel above plus the one to the pixel on the right, 0 in the image's last column),
   * interleaved: the three sums of (y, x) at 3 · (y · width + x - c0). */
  prefix: Float64Array;
  /** Per column, colour counts of rows < b·BLOCK, K each, at ((b · width) + x - c0) · K, b = 0 .. floor(H / BLOCK). */
  blocks: Uint32Array;
  /** Scratch: per column, colour counts of the rows read so far, and the luminance of the row above. */
  running: Uint32Array; lumAbove: Int32Array;
}

function newBand(image: RgbImage, bandPixels: number): Band {
  const { width: W, height: H } = image;
  const cols = Math.max(1, Math.min(W, Math.floor(bandPixels / Math.max(1, H))));
  return {
    W, H, cols, c0: 0, c1: 0, width: 0, data: image.data,
    name: new Uint8Array(cols * H), up: new Uint8Array(cols * H),
    prefix: new Float64Array(3 * cols * (H + 1)),
    blocks: new Uint32Array(cols * (Math.floor(H / BLOCK) + 1) * K),
    running: new Uint32Array(cols * K), lumAbove: new Int32Array(cols),
  };
}

/** Luminance 0..255 of an sRGB colour (fixed-point Rec. 601 weights), the quantity of the gradient measure. */
const luma = (r: number, g: number, b: number) => (r * 77 + g * 150 + b * 29) >> 8;
/** Luminance and colour bin of the pixel at byte offset p of an interleaved RGB buffer. */
const luminance = (data: Uint8Array, p: number) => luma(data[p]!, data[p + 1]!, data[p + 2]!);
const pixelBin = (data: Uint8Array, p: number) => binOf(data[p]!, data[p + 1]!, data[p + 2]!);

/** Fill the band's tables for columns [c0, c1), reading the image row by row. */
function readBand(band: Band, c0: number, c1: number): void {
  const { W, H, data, name: names, up, prefix, blocks, running, lumAbove } = band;
  const { name, lightness, chroma } = binTables();
  const width = c1 - c0;
  band.c0 = c0;
  band.c1 = c1;
  band.width = width;
  prefix.fill(0, 0, 3 * width);
  running.fill(0, 0, width * K);
  blocks.fill(0, 0, width * K);
  for (let y = 0; y < H; y++) {
    let q = 3 * y * width; // this row's sums; the next row's are 3 · width further
    const q3 = 3 * width;
    let p = (y * W + c0) * 3;
    let lum = luminance(data, p);
    for (let xl = 0, i = y; xl < width; xl++, p += 3, q += 3, i += H) {
      const bin = pixelBin(data, p);
      const nm = name[bin]!;
      names[i] = nm;
      running[xl * K + nm]!++;
      const vertical = y > 0 ? Math.abs(lum - lumAbove[xl]!) : 0;
      up[i] = vertical;
      lumAbove[xl] = lum;
      let g = vertical;
      if (c0 + xl + 1 < W) {
        const right = luminance(data, p + 3);
        g += Math.abs(lum - right);
        lum = right;
      }
      prefix[q + q3] = prefix[q]! + lightness[bin]!;
      prefix[q + q3 + 1] = prefix[q + 1]! + chroma[bin]!;
      prefix[q + q3 + 2] = prefix[q + 2]! + g;
    }
    if ((y + 1) % BLOCK === 0) blocks.set(running.subarray(0, width * K), ((y + 1) / BLOCK) * width * K);
  }
}

/** Add region r's column segments inside the band to its sums, moving its run cursor forward. */
function measureInBand(band: Band, runs: Uint32Array, acc: Accumulators, r: number, tables: boolean): void {
  const bandEnd = band.c1 * band.H;
  let k = acc.runIndex[r]!;
  let start = acc.runStart[r]!;
  let done = acc.runDone[r]!;
  while (k < runs.length) {
    const run = runs[k]!;
    if ((k & 1) === 0 || run === 0) {
      // Background (or an empty run): skip it whole.
      start += run;
      k++;
      continue;
    }
    const s = start + done;
    if (s >= bandEnd) break;
    const e = Math.min(start + run, bandEnd);
    measureRange(band, acc, r, s, e, tables);
    if (start + run <= bandEnd) {
      start += run;
      done = 0;
      k++;
    } else {
      done = bandEnd - start;
      break;
    }
  }
  acc.runIndex[r] = k;
  acc.runStart[r] = start;
  acc.runDone[r] = done;
}

/** Foreground pixels of all regions in each band of `cols` columns (from the runs alone). */
function bandLoads(rles: readonly Rle[], H: number, cols: number, bands: number): Float64Array {
  const loads = new Float64Array(bands);
  const bandSize = cols * H;
  for (const rle of rles) {
    const runs = rle.counts;
    let pos = 0;
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k]!;
      if (k & 1) {
        let s = pos;
        const e = pos + run;
        while (s < e) {
          const b = Math.floor(s / bandSize);
          if (b >= bands) break;
          const end = Math.min(e, (b + 1) * bandSize);
          loads[b] += end - s;
          s = end;
        }
      }
      pos += run;
    }
  }
  return loads;
}

/**
 * Add the geometric moments of the column span x, rows [y0, y0 + len) to region r, in closed form. All are
 * integers, exact in doubles, so the order of addition does not matter.
 */
function addSpanMoments(acc: Accumulators, r: number, x: number, y0: number, len: number): void {
  const y1 = y0 + len - 1;
  const sy = ((y0 + y1) * len) / 2;
  const syy = (y1 * (y1 + 1) * (2 * y1 + 1) - (y0 - 1) * y0 * (2 * y0 - 1)) / 6;
  acc.area[r] += len;
  acc.sumX[r] += x * len;
  acc.sumXX[r] += x * x * len;
  acc.sumY[r] += sy;
  acc.sumYY[r] += syy;
  acc.sumXY[r] += x * sy;
}

/**
 * Add the foreground pixels [s, e) (column-major indices inside the band) to region r's sums, one column span at
 * a time: from the band's tables when it has them, else by visiting each pixel (the oracle's walk).
 */
function measureRange(band: Band, acc: Accumulators, r: number, s: number, e: number, tables: boolean): void {
  const { W, H, data, c0, width, name: names, up, prefix, blocks } = band;
  const { name, lightness, chroma } = binTables();
  const counts = acc.counts;
  const out = r * K;
  let sumL = 0, sumC = 0, grad = 0, gradN = 0;
  while (s < e) {
    const x = Math.floor(s / H);
    const y0 = s - x * H;
    const len = Math.min(e - s, H - y0);
    const y1 = y0 + len - 1;
    addSpanMoments(acc, r, x, y0, len);
    const hasRight = x + 1 < W;
    gradN += len - 1 + (hasRight ? len : 0);
    if (tables) {
      const xl = x - c0;
      const top = 3 * (y0 * width + xl), bottom = 3 * ((y1 + 1) * width + xl);
      const col = xl * H;
      sumL += prefix[bottom]! - prefix[top]!;
      sumC += prefix[bottom + 1]! - prefix[top + 1]!;
      // The segment's first pixel has no neighbour above it inside the segment.
      grad += prefix[bottom + 2]! - prefix[top + 2]! - up[col + y0]!;
      const b0 = Math.ceil(y0 / BLOCK);
      const b1 = Math.floor((y1 + 1) / BLOCK);
      if (b1 > b0) {
        for (let y = y0; y < b0 * BLOCK; y++) counts[out + names[col + y]!]!++;
        const hi = (b1 * width + xl) * K, lo = (b0 * width + xl) * K;
        for (let c = 0; c < K; c++) counts[out + c] += blocks[hi + c]! - blocks[lo + c]!;
        for (let y = b1 * BLOCK; y <= y1; y++) counts[out + names[col + y]!]!++;
      } else {
        for (let y = y0; y <= y1; y++) counts[out + names[col + y]!]!++;
      }
    } else {
      let p = (y0 * W + x) * 3;
      let prevLum = -1;
      for (let y = y0; y <= y1; y++, p += W * 3) {
        const red = data[p]!, green = data[p + 1]!, blue = data[p + 2]!;
        const bin = binOf(red, green, blue);
        counts[out + name[bin]!]!++;
        sumL += lightness[bin]!;
        sumC += chroma[bin]!;
        const lum = luma(red, green, blue);
        if (prevLum >= 0) grad += Math.abs(lum - prevLum);
        prevLum = lum;
        if (hasRight) grad += Math.abs(lum - luminance(data, p + 3));
      }
    }
    s += len;
  }
  acc.sumL[r] += sumL;
  acc.sumC[r] += sumC;
  acc.grad[r] += grad;
  acc.gradN[r] += gradN;
}

const near = (v: number, thresholds: readonly number[]) => thresholds.some((t) => Math.abs(v - t) < NEAR);

function finish(acc: Accumulators, r: number, image: RgbImage, rle: Rle): RegionMeasures {
  const a = acc.area[r]!;
  const m = Math.max(1, a);
  const cx = acc.sumX[r]! / m, cy = acc.sumY[r]! / m;
  let meanLightness = acc.sumL[r]! / m;
  let meanChroma = acc.sumC[r]! / m;
  if (a > 0 && (near(meanLightness, LIGHTNESS_THRESHOLDS) || near(meanChroma, CHROMA_THRESHOLDS))) {
    ({ meanLightness, meanChroma } = sequentialMeans(image, rle));
  }
  const gradN = acc.gradN[r]!;
  return {
    area: a,
    colourCounts: acc.counts.slice(r * K, (r + 1) * K),
    meanLightness,
    meanChroma,
    cx,
    cy,
    varX: acc.sumXX[r]! / m - cx * cx,
    varY: acc.sumYY[r]! / m - cy * cy,
    covXY: acc.sumXY[r]! / m - cx * cy,
    gradient: gradN ? acc.grad[r]! / gradN : 0,
  };
}

/** Mean L* and chroma under `rle`, summed pixel by pixel in run order (the plain walk's order). */
export function sequentialMeans(image: RgbImage, rle: Rle): { meanLightness: number; meanChroma: number } {
  const { lightness, chroma } = binTables();
  const H = rle.height;
  const W = rle.width;
  const data = image.data;
  let area = 0, sumL = 0, sumC = 0, pos = 0;
  const runs = rle.counts;
  for (let k = 0; k < runs.length; k++) {
    const run = runs[k]!;
    if (k % 2 === 1) {
      for (let i = pos; i < pos + run; i++) {
        const x = Math.floor(i / H);
        const p = ((i - x * H) * W + x) * 3;
        const bin = pixelBin(data, p);
        sumL += lightness[bin]!;
        sumC += chroma[bin]!;
        area++;
      }
    }
    pos += run;
  }
  const m = Math.max(1, area);
  return { meanLightness: sumL / m, meanChroma: sumC / m };
}

/** Colour-name histogram, lightness and chroma of a whole image (every pixel). */
export function measureImage(image: RgbImage): Pick<RegionMeasures, "colourCounts" | "meanLightness" | "meanChroma" | "area"> {
  const { name, lightness, chroma } = binTables();
  const data = image.data;
  const colourCounts = new Float64Array(COLOUR_NAMES.length);
  let sumL = 0, sumC = 0;
  const n = image.width * image.height;
  for (let p = 0; p < n * 3; p += 3) {
    const bin = pixelBin(data, p);
    colourCounts[name[bin]!]!++;
    sumL += lightness[bin]!;
    sumC += chroma[bin]!;
  }
  return { area: n, colourCounts, meanLightness: sumL / Math.max(1, n), meanChroma: sumC / Math.max(1, n) };
}
