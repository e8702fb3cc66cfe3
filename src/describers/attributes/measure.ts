/**
 * Measurements of regions, read from their RLE runs (column-major, as COCO) without decoding the masks:
 * colour-name histogram, mean lightness and chroma, centroid and second moments, and luminance gradient
 * energy inside the mask. `measureRegions` measures many regions at once in one pass over the image: the
 * pixels are grouped into atoms (the sets of pixels that lie in exactly the same regions; nested proposals
 * make a few hundred of them where each pixel lies in 10–20 regions), every pixel is added to its atom's sums,
 * and each region adds up the sums of its atoms. Its cost follows the image size and the number of runs, not
 * the sum of the regions' areas. Its reference, a plain walk over one region's pixels, is the tests' oracle.
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

/** Colour-name histogram, lightness and chroma of a whole image. */
export type ImageMeasures = Pick<RegionMeasures, "colourCounts" | "meanLightness" | "meanChroma" | "area">;

/** Pixels per band of columns: the band's atom labels and event heads (8 bytes a pixel) stay in the cache. */
const BAND_PIXELS = 1 << 15;
/** Means this close to a word's threshold are recomputed pixel by pixel, in the reference's order. */
const NEAR = 1e-3;
const LIGHTNESS_THRESHOLDS = [35, 75];
const CHROMA_THRESHOLDS = [12, 25, 55];

const K = COLOUR_NAMES.length;
/** Per atom: area and the geometric sums Σx, Σy, Σx², Σy², Σxy. */
const MOMENTS = 6;
/** Per atom: the sums of L*, chroma and gradient (the difference to the pixel above, 0 in row 0, plus the one
 * to the pixel on the right, 0 in the image's last column). */
const SUMS = 3;

/**
 * Measure many regions of one image in one pass over it, band of columns by band of columns. In each band,
 * the regions' column segments (from their runs; each region keeps a cursor that only moves forward) become
 * events "region r starts / stops at row y of column x"; a walk down each column applies them to the set of
 * regions present and labels the pixels with that set's atom. The band's pixels are then read row by row (the
 * image is row-major) and added to their atom's colour counts and sums; moments are added per labelled column
 * span in closed form. Last, each region adds up its atoms. What depends on a region's own spans rather than on
 * its pixels is counted on the spans: the gradient's pairs (a span's first pixel has no neighbour above inside
 * it, so the atom sums' difference to the pixel above is taken off there) and their number.
 *
 * The result equals a plain walk over each region's pixels in run order (the tests' oracle): area, colour
 * counts, moments and gradient are integer sums (exact in doubles); L* sums are exact too, as every L* of the
 * bin table is a float32 ≥ 1 (a multiple of 2^-23) and the sums stay below 2^30 for images up to 10
 * megapixels. Chroma sums (and L* sums beyond that size) differ from the sequential sum only by rounding,
 * ~1e-12; a mean within NEAR of a word's threshold is recomputed in run order (`sequentialMeans`), so the
 * words are always the plain walk's. `bandPixels` (tests) sets the band size.
 */
export function measureRegions(image: RgbImage, rles: readonly Rle[], bandPixels = BAND_PIXELS): RegionMeasures[] {
  return measureAll(image, rles, bandPixels).regions;
}

export interface AllMeasures {
  regions: RegionMeasures[];
  image: ImageMeasures;
  /** The pixels regions i and j share, at i · n + j (n regions), summed over the atoms that lie in both;
   * undefined beyond SHARED_MAX regions. */
  shared: Uint32Array | undefined;
}

/** Most regions for which `measureAll` counts the shared pixels of every pair (a 4 MB table at most). */
const SHARED_MAX = 1024;

/**
 * `measureRegions`, the whole image's colour counts and means from the same pass (its L* mean exact as
 * above, its chroma mean within rounding of `measureImage`'s), and the pixels each pair of regions shares.
 */
export function measureAll(image: RgbImage, rles: readonly Rle[], bandPixels = BAND_PIXELS): AllMeasures {
  const W = image.width;
  const H = image.height;
  const n = rles.length;
  const cols = Math.max(1, Math.min(W, Math.floor(bandPixels / Math.max(1, H))));
  const atoms = new Atoms(n);
  const band = newBand(cols, H, bandSpans(rles, H, cols, Math.ceil(W / cols)));
  const spans = newSpanSums(n);
  for (let c0 = 0; c0 < W; c0 += cols) {
    const c1 = Math.min(W, c0 + cols);
    bandEvents(W, band, spans, rles, c0, c1);
    labelColumns(band, atoms, c0, c1);
    readPixels(image, band, atoms, c0, c1);
    correctGradients(band, spans);
  }
  return finish(image, rles, atoms, spans);
}

/** Every region's spans in columns [c0, c1) (see regionSpans). */
function bandEvents(W: number, band: Band, spans: SpanSums, rles: readonly Rle[], c0: number, c1: number): void {
  band.events = band.starts = 0;
  for (let r = 0; r < rles.length; r++) regionSpans(W, band, spans, rles[r]!.counts, r, c0, c1);
}

/** The atoms count each pixel's difference to the pixel above; a span's first pixel has none inside it. */
function correctGradients(band: Band, spans: SpanSums): void {
  const { startAt, startRegion, up } = band;
  for (let e = 0; e < band.starts; e++) spans.grad[startRegion[e]!] -= up[startAt[e]!]!;
}

/** Atoms: the distinct sets of regions that the pixels lie in, with the sums of their pixels. */
class Atoms {
  count = 0;
  /** Room for this many atoms before the arrays grow (nested proposals of a photo make a few hundred). */
  capacity = 1024;
  moments = new Float64Array(this.capacity * MOMENTS);
  sums = new Float64Array(this.capacity * SUMS);
  colours = new Uint32Array(this.capacity * K);
  /** Members of atom a: members[memberStart[a] .. memberStart[a + 1]). */
  memberStart = new Int32Array(this.capacity + 1);
  members = new Int32Array(16 * 1024);
  /** Next atom with the same hash, or -1. */
  chain = new Int32Array(this.capacity);
  /** First atom of each hash of a set (the XOR of its regions' keys). */
  byHash = new Map<number, number>();
  /** A random 30-bit key per region (a fixed seed: the atoms' numbering never shows in the results anyway). */
  keys: Int32Array;
  /** The set being walked: a bit per region, how many bits are set, and its hash. */
  active: Int32Array;
  activeCount = 0;
  hash = 0;

  constructor(n: number) {
    this.keys = new Int32Array(n);
    let s = 0x2545f491;
    for (let r = 0; r < n; r++) this.keys[r] = (s = (Math.imul(s, 1664525) + 1013904223) | 0) >>> 2;
    this.active = new Int32Array((n + 31) >> 5);
    this.add(); // atom 0: no region
  }

  /** Region r enters or leaves the active set. */
  toggle(r: number): void {
    const bit = 1 << (r & 31);
    const word = (this.active[r >> 5]! ^= bit);
    this.activeCount += word & bit ? 1 : -1;
    this.hash ^= this.keys[r]!;
  }

  /** The atom of the active set, made when new. */
  current(): number {
    let a = this.byHash.get(this.hash);
    const first = a ?? -1;
    while (a !== undefined && a >= 0) {
      if (this.isActive(a)) return a;
      a = this.chain[a]!;
      if (a < 0) break;
    }
    a = this.add();
    this.chain[a] = first;
    this.byHash.set(this.hash, a);
    return a;
  }

  private isActive(a: number): boolean {
    const s = this.memberStart[a]!, e = this.memberStart[a + 1]!;
    if (e - s !== this.activeCount) return false;
    const { members, active } = this;
    for (let i = s; i < e; i++) {
      const r = members[i]!;
      if ((active[r >> 5]! & (1 << (r & 31))) === 0) return false;
    }
    return true;
  }

  /** A new atom for the active set. */
  private add(): number {
    const a = this.count++;
    if (a === this.capacity) this.grow();
    let m = this.memberStart[a]!;
    if (m + this.activeCount > this.members.length) this.members = grown(this.members, m + this.activeCount);
    const { active, members } = this;
    for (let w = 0; w < active.length; w++) {
      let bits = active[w]!;
      while (bits !== 0) {
        const low = bits & -bits;
        members[m++] = (w << 5) | (31 - Math.clz32(low));
        bits ^= low;
      }
    }
    this.memberStart[a + 1] = m;
    return a;
  }

  private grow(): void {
    const c = (this.capacity *= 2);
    this.moments = grown(this.moments, c * MOMENTS);
    this.sums = grown(this.sums, c * SUMS);
    this.colours = grown(this.colours, c * K);
    this.memberStart = grown(this.memberStart, c + 1);
    this.chain = grown(this.chain, c);
  }
}

/** A copy of `a` at least `size` long (doubling), zero-filled beyond a's end. */
function grown<T extends Int32Array | Uint32Array | Float64Array>(a: T, size: number): T {
  let length = a.length;
  while (length < size) length *= 2;
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/** Per region: a cursor into its runs (index of the current run, its first pixel, how much of it is done), and
 * what is counted on its spans: the gradient's correction and its number of neighbour pairs. */
interface SpanSums {
  runIndex: Uint32Array; runStart: Float64Array; runDone: Float64Array;
  grad: Float64Array; gradN: Float64Array;
}

function newSpanSums(n: number): SpanSums {
  return { runIndex: new Uint32Array(n), runStart: new Float64Array(n), runDone: new Float64Array(n), grad: new Float64Array(n), gradN: new Float64Array(n) };
}

/** A band's scratch: events by column and row, the atom of each pixel, the luminance of the row above. */
interface Band {
  H: number;
  /** First event of row y of column x (band-local) at x · (H + 1) + y, or -1; chained through `next`. */
  heads: Int32Array;
  next: Int32Array; region: Int32Array; events: number;
  /** The spans' first pixels below row 0 (at x · H + y) and their regions. */
  startAt: Int32Array; startRegion: Int32Array; starts: number;
  /** Atom per pixel at x · H + y (band-local x). */
  labels: Int32Array;
  /** Absolute luminance difference to the pixel above per pixel (0 in row 0), at x · H + y. */
  up: Uint8Array;
  lumAbove: Int32Array;
}

/** The most column spans of all regions in one band of `cols` columns (from the runs alone). */
function bandSpans(rles: readonly Rle[], H: number, cols: number, bands: number): number {
  const spans = new Float64Array(bands);
  const bandSize = cols * H;
  for (const rle of rles) {
    const runs = rle.counts;
    let pos = 0;
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k]!;
      if (k & 1 && run > 0) {
        // One span per column the run touches, counted in the band of that column.
        const x0 = Math.floor(pos / H), x1 = Math.floor((pos + run - 1) / H);
        for (let b = Math.floor(x0 / cols); b <= Math.floor(x1 / cols); b++) spans[b] += Math.min(x1, (b + 1) * cols - 1) - Math.max(x0, b * cols) + 1;
      }
      pos += run;
    }
  }
  let most = 0;
  for (let b = 0; b < bands; b++) most = Math.max(most, spans[b]!);
  return most;
}

/** A band's scratch, sized for `spans` column spans (so that it never grows: a typed array field replaced in
 * the middle of the walk would send the optimised code back to the interpreter). */
function newBand(cols: number, H: number, spans: number): Band {
  return {
    H, heads: new Int32Array(cols * (H + 1)).fill(-1), next: new Int32Array(2 * spans + 1), region: new Int32Array(2 * spans + 1), events: 0,
    startAt: new Int32Array(spans + 1), startRegion: new Int32Array(spans + 1), starts: 0,
    labels: new Int32Array(cols * H), up: new Uint8Array(cols * H), lumAbove: new Int32Array(cols),
  };
}

function addEvent(band: Band, at: number, r: number): void {
  const e = band.events++;
  band.region[e] = r;
  band.next[e] = band.heads[at]!;
  band.heads[at] = e;
}

function addStart(band: Band, at: number, r: number): void {
  const e = band.starts++;
  band.startAt[e] = at;
  band.startRegion[e] = r;
}

/** Luminance 0..255 of an sRGB colour (fixed-point Rec. 601 weights), the quantity of the gradient measure. */
const luma = (r: number, g: number, b: number) => (r * 77 + g * 150 + b * 29) >> 8;
/** Luminance and colour bin of the pixel at byte offset p of an interleaved RGB buffer. */
const luminance = (data: Uint8Array, p: number) => luma(data[p]!, data[p + 1]!, data[p + 2]!);
const pixelBin = (data: Uint8Array, p: number) => binOf(data[p]!, data[p + 1]!, data[p + 2]!);

/** Region r's column segments in columns [c0, c1): an event where each starts and one where it stops, where
 * the gradient's sum has to be corrected, and the gradient's number of pairs. Moves the region's run cursor
 * forward. */
function regionSpans(W: number, band: Band, spans: SpanSums, runs: Uint32Array, r: number, c0: number, c1: number): void {
  const { H } = band;
  const bandEnd = c1 * H;
  let k = spans.runIndex[r]!;
  let start = spans.runStart[r]!;
  let done = spans.runDone[r]!;
  let gradN = 0;
  while (k < runs.length) {
    const run = runs[k]!;
    if ((k & 1) === 0 || run === 0) {
      // Background (or an empty run): skip it whole.
      start += run;
      k++;
      continue;
    }
    let s = start + done;
    if (s >= bandEnd) break;
    const e = Math.min(start + run, bandEnd);
    while (s < e) {
      const x = Math.floor(s / H);
      const y0 = s - x * H;
      const len = Math.min(e - s, H - y0);
      const at = (x - c0) * (H + 1) + y0;
      addEvent(band, at, r);
      if (y0 + len < H) addEvent(band, at + len, r);
      gradN += len - 1 + (x + 1 < W ? len : 0);
      if (y0 > 0) addStart(band, (x - c0) * H + y0, r);
      s += len;
    }
    if (start + run <= bandEnd) {
      start += run;
      done = 0;
      k++;
    } else {
      done = bandEnd - start;
      break;
    }
  }
  spans.runIndex[r] = k;
  spans.runStart[r] = start;
  spans.runDone[r] = done;
  spans.gradN[r] += gradN;
}

/** Walk down each column of the band applying its events, label its pixels with their atoms and add each
 * labelled span's moments to its atom (in closed form: all integers, exact in doubles). */
function labelColumns(band: Band, atoms: Atoms, c0: number, c1: number): void {
  const { H, heads, next, region, labels } = band;
  for (let x = c0; x < c1; x++) {
    const xl = x - c0;
    const base = xl * (H + 1);
    let atom = 0, from = 0;
    for (let y = 0; y < H; y++) {
      let e = heads[base + y]!;
      if (e < 0) continue;
      heads[base + y] = -1; // ready for the next band
      do {
        atoms.toggle(region[e]!);
        e = next[e]!;
      } while (e >= 0);
      const a = atoms.current();
      if (a !== atom) {
        paintSpan(atoms, labels, x, xl * H, from, y, atom);
        atom = a;
        from = y;
      }
    }
    paintSpan(atoms, labels, x, xl * H, from, H, atom);
    // Spans that reach the last row leave no stop event: the next column starts from the empty set.
    if (atom !== 0) {
      const { active } = atoms;
      active.fill(0);
      atoms.activeCount = 0;
      atoms.hash = 0;
    }
  }
}

/** Rows [y0, y1) of column x belong to atom a. */
function paintSpan(atoms: Atoms, labels: Int32Array, x: number, col: number, y0: number, y1: number, a: number): void {
  const len = y1 - y0;
  if (len <= 0) return;
  labels.fill(a, col + y0, col + y1);
  const last = y1 - 1;
  const sy = ((y0 + last) * len) / 2;
  const syy = (last * (last + 1) * (2 * last + 1) - (y0 - 1) * y0 * (2 * y0 - 1)) / 6;
  const m = atoms.moments, q = a * MOMENTS;
  m[q] += len;
  m[q + 1] += x * len;
  m[q + 2] += sy;
  m[q + 3] += x * x * len;
  m[q + 4] += syy;
  m[q + 5] += x * sy;
}

/** Add the band's pixels, read row by row, to their atoms' colour counts and sums. */
function readPixels(image: RgbImage, band: Band, atoms: Atoms, c0: number, c1: number): void {
  const { H, labels, up, lumAbove } = band;
  const W = image.width, data = image.data;
  const { name, lightness, chroma } = binTables();
  const { sums, colours } = atoms;
  const width = c1 - c0;
  const lastCol = W - 1 - c0; // band-local index of the image's last column (maybe beyond the band)
  for (let y = 0; y < H; y++) {
    let p = (y * W + c0) * 3;
    let lum = luminance(data, p);
    // Neighbouring pixels of a row mostly share their atom: its sums gather here until the atom changes.
    let atom = labels[y]!, sumL = 0, sumC = 0, grad = 0;
    for (let xl = 0, i = y; xl < width; xl++, p += 3, i += H) {
      const a = labels[i]!;
      if (a !== atom) {
        const q = atom * SUMS;
        sums[q] += sumL;
        sums[q + 1] += sumC;
        sums[q + 2] += grad;
        atom = a;
        sumL = sumC = grad = 0;
      }
      const bin = pixelBin(data, p);
      colours[a * K + name[bin]!]!++;
      const vertical = y > 0 ? Math.abs(lum - lumAbove[xl]!) : 0;
      up[i] = vertical;
      lumAbove[xl] = lum;
      grad += vertical;
      if (xl < lastCol) {
        const right = luminance(data, p + 3);
        grad += Math.abs(lum - right);
        lum = right;
      }
      sumL += lightness[bin]!;
      sumC += chroma[bin]!;
    }
    const q = atom * SUMS;
    sums[q] += sumL;
    sums[q + 1] += sumC;
    sums[q + 2] += grad;
  }
}

/** Each region's measures from its atoms, and the whole image's from all of them. */
function finish(image: RgbImage, rles: readonly Rle[], atoms: Atoms, spans: SpanSums): AllMeasures {
  const n = rles.length;
  const M = MOMENTS + SUMS;
  const acc = new Float64Array((n + 1) * M); // row n: the whole image
  const counts = new Float64Array((n + 1) * K);
  const { moments, sums, colours, memberStart, members } = atoms;
  const add = (a: number, r: number) => {
    const q = r * M;
    for (let j = 0; j < MOMENTS; j++) acc[q + j] += moments[a * MOMENTS + j]!;
    for (let j = 0; j < SUMS; j++) acc[q + MOMENTS + j] += sums[a * SUMS + j]!;
    for (let c = 0; c < K; c++) counts[r * K + c] += colours[a * K + c]!;
  };
  for (let a = 0; a < atoms.count; a++) {
    add(a, n);
    for (let i = memberStart[a]!; i < memberStart[a + 1]!; i++) add(a, members[i]!);
  }
  const regions: RegionMeasures[] = [];
  for (let r = 0; r < n; r++) {
    const q = r * M;
    const a = acc[q]!;
    const m = Math.max(1, a);
    const cx = acc[q + 1]! / m, cy = acc[q + 2]! / m;
    let meanLightness = acc[q + 6]! / m;
    let meanChroma = acc[q + 7]! / m;
    if (a > 0 && (near(meanLightness, LIGHTNESS_THRESHOLDS) || near(meanChroma, CHROMA_THRESHOLDS))) {
      ({ meanLightness, meanChroma } = sequentialMeans(image, rles[r]!));
    }
    const gradN = spans.gradN[r]!;
    regions.push({
      area: a,
      colourCounts: counts.slice(r * K, (r + 1) * K),
      meanLightness,
      meanChroma,
      cx,
      cy,
      varX: acc[q + 3]! / m - cx * cx,
      varY: acc[q + 4]! / m - cy * cy,
      covXY: acc[q + 5]! / m - cx * cy,
      gradient: gradN ? (acc[q + 8]! + spans.grad[r]!) / gradN : 0,
    });
  }
  const all = n * M;
  const area = image.width * image.height;
  const whole: ImageMeasures = {
    area,
    colourCounts: counts.slice(n * K),
    meanLightness: acc[all + 6]! / Math.max(1, area),
    meanChroma: acc[all + 7]! / Math.max(1, area),
  };
  return { regions, image: whole, shared: n <= SHARED_MAX ? sharedPixels(atoms, n) : undefined };
}

/** Pixels shared by each pair of regions: every atom adds its area to each pair of its regions. */
function sharedPixels(atoms: Atoms, n: number): Uint32Array {
  const shared = new Uint32Array(n * n);
  const { moments, memberStart, members } = atoms;
  for (let a = 1; a < atoms.count; a++) {
    const area = moments[a * MOMENTS]!;
    if (area === 0) continue;
    const s = memberStart[a]!, e = memberStart[a + 1]!;
    for (let i = s; i < e; i++) {
      const row = members[i]! * n;
      for (let j = s; j < e; j++) shared[row + members[j]!] += area;
    }
  }
  return shared;
}

const near = (v: number, thresholds: readonly number[]) => thresholds.some((t) => Math.abs(v - t) < NEAR);

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
