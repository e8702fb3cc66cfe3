/**
 * SAM 2's image transform, as `SAM2Transforms` in facebookresearch/sam2 `sam2/utils/transforms.py`:
 * ToTensor (RGB, /255, CHW), torchvision Resize((1024, 1024)) — bilinear with antialias on a float tensor,
 * aspect not kept, no padding — then Normalize(ImageNet mean, std).
 *
 * The antialiased bilinear resize follows torch's `_upsample_bilinear2d_aa` (the PIL-style separable triangle
 * filter whose support widens by the scale when downsampling): width first, then height.
 */

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

interface AaTaps {
  start: Int32Array;
  size: Int32Array;
  /** `maxSize` weights per output, normalised to sum 1. */
  weights: Float64Array;
  maxSize: number;
}

function aaTaps(inSize: number, outSize: number): AaTaps {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1; // interp_size / 2 · scale, interp_size = 2 for bilinear
  const invScale = scale >= 1 ? 1 / scale : 1;
  const maxSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxSize);
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    start[i] = xmin;
    size[i] = xsize;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = Math.abs((j + xmin - center + 0.5) * invScale);
      const w = x < 1 ? 1 - x : 0;
      weights[i * maxSize + j] = w;
      total += w;
    }
    if (total > 0) for (let j = 0; j < xsize; j++) weights[i * maxSize + j]! /= total;
  }
  return { start, size, weights, maxSize };
}

/**
 * RGB bytes (interleaved, h × w) → normalised float32 CHW tensor of `size × size` (default 1024).
 * `out` is reused when given.
 */
export function preprocessImage(rgb: Uint8Array, h: number, w: number, size = 1024, out?: Float32Array): Float32Array {
  const dst = out && out.length === 3 * size * size ? out : new Float32Array(3 * size * size);
  const tx = aaTaps(w, size);
  const ty = aaTaps(h, size);
  const tmp = new Float32Array(h * size); // one channel after the horizontal pass
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const row = y * w * 3 + c;
      for (let x = 0; x < size; x++) {
        const s = tx.start[x]!;
        const n = tx.size[x]!;
        const wb = x * tx.maxSize;
        let acc = 0;
        for (let j = 0; j < n; j++) acc += tx.weights[wb + j]! * (rgb[row + (s + j) * 3]! / 255);
        tmp[y * size + x] = acc;
      }
    }
    const plane = c * size * size;
    const mean = MEAN[c]!;
    const std = STD[c]!;
    for (let y = 0; y < size; y++) {
      const s = ty.start[y]!;
      const n = ty.size[y]!;
      const wb = y * ty.maxSize;
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += ty.weights[wb + j]! * tmp[(s + j) * size + x]!;
        dst[plane + y * size + x] = (Math.fround(acc) - mean) / std;
      }
    }
  }
  return dst;
}
