/**
 * Per-pixel histogram bins for the selective-search similarities (Uijlings et al., "Selective Search for
 * Object Recognition", IJCV 104(2), 2013, §3.2; OpenCV ximgproc selectivesearchsegmentation.cpp):
 * - colour: 25 bins per CIELAB channel (75 in all);
 * - texture: per channel, the gradient orientation in 8 sectors at 3 strengths plus one "flat" bin (25 per
 *   channel, 75 in all). Uijlings use Gaussian derivatives in 8 orientations with 10 bins each; this
 *   gradient-orientation histogram keeps the idea (distribution of oriented edges and their strength) at a
 *   third of the cost.
 * Every pixel votes once per channel in each, so each channel's histogram sums to the region's area.
 */
export const COLOUR_BINS = 25;
export const TEXTURE_BINS = 25;
export const HIST_DIMS = 3 * COLOUR_BINS + 3 * TEXTURE_BINS;

/** Lower/upper bounds binned per CIELAB channel (values outside are clamped). */
const RANGES: [number, number][] = [[0, 100], [-90, 90], [-90, 90]];
/** Gradient strength levels (ΔE per pixel, central differences): below the first is "flat". */
const STRENGTH = [1.0, 4.0, 12.0];

/**
 * The gradient's sector, floor(8 · angle / 2π) with the angle in [0, 2π). Away from the sector borders (the
 * axes and diagonals) the signs of gx, gy and which of |gx|, |gy| is larger tell it without atan2; within a
 * relative 1e-6 of a border, where rounding could matter, atan2 decides as it always did.
 */
function sectorOf(gx: number, gy: number, TWO_PI: number): number {
  const ax = gx < 0 ? -gx : gx;
  const ay = gy < 0 ? -gy : gy;
  const gap = ax - ay;
  if (ax > 0 && ay > 0 && (gap < 0 ? -gap : gap) > 1e-6 * (ax + ay)) {
    const steep = ay > ax;
    if (gy > 0) return gx > 0 ? (steep ? 1 : 0) : (steep ? 2 : 3);
    return gx < 0 ? (steep ? 5 : 4) : (steep ? 6 : 7);
  }
  let angle = Math.atan2(gy, gx);
  if (angle < 0) angle += TWO_PI;
  const sector = Math.floor((angle / TWO_PI) * 8);
  return sector >= 8 ? 7 : sector;
}

/**
 * For each pixel, its 6 histogram bin indices into the region feature vector (3 colour, 3 texture), as a
 * pixel-major Uint8Array (6 per pixel; every index < HIST_DIMS = 150 < 256).
 */
export function pixelBins(lab: Float32Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const bins = new Uint8Array(6 * n);
  for (let c = 0; c < 3; c++) {
    // The rows above and below are worked out here, not in binRow: a branch first taken on the last row threw
    // binRow's optimised code away (and it was compiled again for the next channel).
    const last = height - 1;
    for (let y = 0; y < height; y++) binRow(lab, width, height, c, y, y > 0 ? y - 1 : 0, y < last ? y + 1 : last, bins);
  }
  return bins;
}

/**
 * One row of one channel of pixelBins. A small function called per row is optimised after a few rows; the loop
 * inside pixelBins ran far longer in the interpreter, a heap number per floating-point step.
 */
function binRow(lab: Float32Array, width: number, height: number, c: number, y: number, up: number, down: number, bins: Uint8Array): void {
  const TWO_PI = 2 * Math.PI;
  const off = c * width * height;
  const lo = RANGES[c]![0], hi = RANGES[c]![1];
  const colourScale = COLOUR_BINS / (hi - lo);
  const colourBase = c * COLOUR_BINS;
  const textureBase = 3 * COLOUR_BINS + c * TEXTURE_BINS;
  for (let x = 0; x < width; x++) {
    const p = y * width + x;
    const v = lab[off + p]!;
    let cb = Math.floor((v - lo) * colourScale);
    if (cb < 0) cb = 0; else if (cb >= COLOUR_BINS) cb = COLOUR_BINS - 1;
    bins[6 * p + c] = colourBase + cb;
    const left = x > 0 ? x - 1 : 0;
    const right = x < width - 1 ? x + 1 : width - 1;
    const gx = (lab[off + y * width + right]! - lab[off + y * width + left]!) * 0.5;
    const gy = (lab[off + down * width + x]! - lab[off + up * width + x]!) * 0.5;
    const mag = Math.sqrt(gx * gx + gy * gy);
    let tb: number;
    if (mag < STRENGTH[0]!) {
      tb = 0;
    } else {
      const level = mag < STRENGTH[1]! ? 0 : mag < STRENGTH[2]! ? 1 : 2;
      // the sector, floor(8 · angle / 2π): see sectorOf, whose usual case is written out here
      const ax = gx < 0 ? -gx : gx;
      const ay = gy < 0 ? -gy : gy;
      const gap = ax - ay;
      let sector: number;
      if (ax > 0 && ay > 0 && (gap < 0 ? -gap : gap) > 1e-6 * (ax + ay)) {
        const steep = ay > ax;
        if (gy > 0) sector = gx > 0 ? (steep ? 1 : 0) : (steep ? 2 : 3);
        else sector = gx < 0 ? (steep ? 5 : 4) : (steep ? 6 : 7);
      } else sector = sectorOf(gx, gy, TWO_PI);
      tb = 1 + level * 8 + sector;
    }
    bins[6 * p + 3 + c] = textureBase + tb;
  }
}
