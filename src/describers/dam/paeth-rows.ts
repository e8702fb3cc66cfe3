/**
 * An RGB image's rows as the PNG rows of the same image in RGBA with alpha 0, filtered with Paeth, and their
 * Adler-32: the WebAssembly of paeth-rows.wat (four pixels at a time in 128-bit lanes), in a memory the
 * image has to itself until `release` hands it to the next image. `filtered` is a view of that memory.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { distFile } from "../../util/dist-files.js";
import { GearSegError } from "../../util/errors.js";

let compiled: WebAssembly.Module | undefined;

/** The compiled module, once per process (compiling its 1 KB takes well under a millisecond). */
function paethModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = distFile("describers/dam/paeth-rows.wasm");
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new GearSegError(`"${relative(process.cwd(), path) || path}" is missing: build gear-seg (npm run build)`);
  }
  compiled = new WebAssembly.Module(bytes);
  return compiled;
}

interface PaethExports {
  memory: WebAssembly.Memory;
  filterRows(rgb: number, zero: number, out: number, sums: number, width: number, y0: number, y1: number): void;
}

/**
 * Instances whose images are done, kept for the next ones: the pages of a fresh memory cost their first touch
 * (an 1800×1200 photo's 15 MB: 20 ms of its 100 ms of one-time work in the describe benchmark), a used
 * memory's do not. At most IDLE_KEPT, each of at most IDLE_MAX_BYTES (a memory never shrinks: a huge image's
 * is let go).
 */
const idle: PaethExports[] = [];
const IDLE_KEPT = 2;
const IDLE_MAX_BYTES = 64 * 2 ** 20;

const PAGE = 65536;
/** Room after the RGB image, the zero row and the rows written: a group of four pixels reads and writes 16 bytes. */
const MARGIN = 16;
const align = (n: number, to: number) => Math.ceil(n / to) * to;

export class PaethRows {
  /** Row y at y·(1 + 4·width): the filter type byte (4), then R, G, B, 0 per pixel, filtered. */
  readonly filtered: Uint8Array;
  private readonly exports: PaethExports;
  private readonly rgbAt = 0;
  private readonly zeroAt: number;
  private readonly outAt: number;
  private readonly sumsAt: number;
  private readonly sums: Int32Array;
  private released = false;

  constructor(
    rgb: Uint8Array,
    readonly width: number,
    readonly height: number,
  ) {
    const stride = 1 + 4 * width;
    if (!(width >= 1 && height >= 1) || rgb.length !== 3 * width * height) {
      throw new GearSegError(`PNG rows: ${rgb.length} RGB bytes for a ${width}x${height} image`);
    }
    this.zeroAt = align(3 * width * height + MARGIN, 16);
    this.outAt = align(this.zeroAt + 3 * width + MARGIN, 16);
    this.sumsAt = align(this.outAt + height * stride + MARGIN, 8);
    const bytes = this.sumsAt + 8;
    if (bytes > 2 ** 31) throw new GearSegError(`PNG rows: a ${width}x${height} image is too large to encode (${bytes} bytes of rows)`);
    this.exports = idle.pop() ?? (new WebAssembly.Instance(paethModule()).exports as unknown as PaethExports);
    const memory = this.exports.memory;
    const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
    if (pages > 0) {
      try {
        memory.grow(pages);
      } catch {
        throw new GearSegError(`PNG rows: no memory for a ${width}x${height} image (${bytes} bytes of rows)`);
      }
    }
    new Uint8Array(memory.buffer, this.rgbAt, rgb.length).set(rgb);
    new Uint8Array(memory.buffer, this.zeroAt, 3 * width + MARGIN).fill(0); // a used memory has an image's bytes there
    this.filtered = new Uint8Array(memory.buffer, this.outAt, height * stride);
    this.sums = new Int32Array(memory.buffer, this.sumsAt, 2);
  }

  /**
   * Filters rows [y0, y1) into `filtered` and returns the Adler-32 of their filtered bytes. Rows go in order: a
   * narrow row writes a little into the next one's place.
   */
  filter(y0: number, y1: number): number {
    if (this.released) throw new GearSegError("PNG rows: filtered after their memory was released");
    const stride = 1 + 4 * this.width;
    this.exports.filterRows(this.rgbAt, this.zeroAt, this.outAt + y0 * stride, this.sumsAt, this.width, y0, y1);
    return ((this.sums[1]! << 16) | this.sums[0]!) >>> 0;
  }

  /** Hands the memory to the next image's rows: `filtered` is not to be read after (the next image writes it). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (idle.length < IDLE_KEPT && this.exports.memory.buffer.byteLength <= IDLE_MAX_BYTES) idle.push(this.exports);
  }
}
