/**
 * Colour names from pixels: sRGB → CIELAB (D65; the CIE 1976 formulas as in IEC 61966-2-1 for the sRGB
 * transfer curve) and the nearest named focus of a small palette of basic colour terms (Berlin & Kay's
 * eleven plus a few useful ones). Pixels are binned at 5 bits per channel; the name, L* and chroma of each
 * of the 32768 bins are computed once per process, so a pixel costs one table look-up.
 */

/** Basic colour names; several foci per name cover the light and dark shades. */
const FOCI: readonly [string, number, number, number][] = [
  ["red", 200, 30, 35], ["red", 150, 20, 25], ["red", 230, 80, 70], ["red", 150, 60, 65], // the last: a dusty red wall
  ["orange", 240, 130, 30], ["orange", 200, 100, 30],
  ["yellow", 245, 220, 50], ["yellow", 240, 230, 130], ["yellow", 200, 180, 40],
  ["green", 60, 150, 60], ["green", 25, 85, 35], ["green", 140, 200, 110], ["green", 100, 180, 50],
  ["blue", 40, 90, 200], ["blue", 130, 180, 230], ["blue", 70, 130, 180], ["blue", 170, 195, 215],
  ["purple", 120, 50, 150], ["purple", 170, 120, 200], ["purple", 70, 30, 90],
  ["pink", 240, 150, 180], ["pink", 220, 90, 150], ["pink", 245, 200, 210],
  ["brown", 120, 75, 40], ["brown", 160, 110, 70], ["brown", 80, 50, 30],
  ["black", 15, 15, 15], ["black", 40, 38, 36],
  ["white", 248, 248, 248], ["white", 225, 228, 230],
  ["grey", 128, 128, 128], ["grey", 180, 180, 180], ["grey", 80, 80, 80], ["grey", 150, 155, 160],
  ["beige", 220, 200, 160], ["beige", 235, 220, 190],
  ["navy", 25, 35, 90],
  ["olive", 110, 110, 40],
  ["teal", 20, 128, 128],
  // A very dark red (a red car in shade) is nearer black than the maroon focus above, though people call it red.
  ["maroon", 110, 20, 30], ["maroon", 60, 8, 18],
];

export const COLOUR_NAMES: readonly string[] = [...new Set(FOCI.map((f) => f[0]))];
export const ACHROMATIC = new Set(["black", "white", "grey"]);

/** Mean CIELAB of each name's foci, aligned with COLOUR_NAMES: where a colour word sits, for comparing names. */
export function colourCentroids(): [number, number, number][] {
  return COLOUR_NAMES.map((name) => {
    const labs = FOCI.filter((f) => f[0] === name).map(([, r, g, b]) => srgbToLab(r, g, b));
    const mean = (k: number) => labs.reduce((s, l) => s + l[k]!, 0) / labs.length;
    return [mean(0), mean(1), mean(2)];
  });
}

function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

function f(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** CIELAB (D65) of an 8-bit sRGB colour. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const R = linear(r), G = linear(g), B = linear(b);
  const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const fx = f(X), fy = f(Y), fz = f(Z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const FOCI_LAB = FOCI.map(([name, r, g, b]) => ({ index: COLOUR_NAMES.indexOf(name), lab: srgbToLab(r, g, b) }));

/** Index into COLOUR_NAMES of the focus nearest (ΔE*ab) to an sRGB colour. */
export function nearestColour(r: number, g: number, b: number): number {
  const [L, A, B] = srgbToLab(r, g, b);
  return nearestToLab(L, A, B);
}

function nearestToLab(L: number, A: number, B: number): number {
  let best = 0;
  let bestD = Infinity;
  for (const focus of FOCI_LAB) {
    const d = (L - focus.lab[0]) ** 2 + (A - focus.lab[1]) ** 2 + (B - focus.lab[2]) ** 2;
    if (d < bestD) {
      bestD = d;
      best = focus.index;
    }
  }
  return best;
}

export interface BinTables {
  /** Colour name index per 5-bit bin (r<<10 | g<<5 | b). */
  name: Uint8Array;
  /** L* per bin. */
  lightness: Float32Array;
  /** Chroma (√(a*²+b*²)) per bin. */
  chroma: Float32Array;
}

let tables: BinTables | undefined;

export function binTables(): BinTables {
  if (tables) return tables;
  const name = new Uint8Array(32768);
  const lightness = new Float32Array(32768);
  const chroma = new Float32Array(32768);
  // The same arithmetic as srgbToLab and nearestColour (so the same numbers), with the sRGB transfer curve
  // taken once per channel level rather than three times per bin, and L*a*b* computed once per bin, not twice.
  const lin = new Float64Array(32);
  for (let q = 0; q < 32; q++) lin[q] = linear((q << 3) + 4); // bin centres: 8 values per bin, centre at +4
  for (let bin = 0; bin < 32768; bin++) {
    const R = lin[bin >> 10]!, G = lin[(bin >> 5) & 31]!, Bl = lin[bin & 31]!;
    const X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * Bl) / 0.95047;
    const Y = 0.2126729 * R + 0.7151522 * G + 0.072175 * Bl;
    const Z = (0.0193339 * R + 0.119192 * G + 0.9503041 * Bl) / 1.08883;
    const fx = f(X), fy = f(Y), fz = f(Z);
    const L = 116 * fy - 16, A = 500 * (fx - fy), B = 200 * (fy - fz);
    name[bin] = nearestToLab(L, A, B);
    lightness[bin] = L;
    chroma[bin] = Math.hypot(A, B);
  }
  tables = { name, lightness, chroma };
  return tables;
}

/** The 5-bit bin of an 8-bit sRGB colour: the index into `binTables()`. */
export const binOf = (r: number, g: number, b: number): number => ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
