/**
 * Request bodies of the regions of one image, on the calling thread. The image's one-time work (filtering its
 * rows, compressing the alpha-0 blocks every region shares) is spread over the cores by zlib's asynchronous
 * calls; a region's own pieces then cost 1–2 ms (its rows' bits copied from the image's, see huffman.ts), so
 * no worker threads are started: starting one cost 100–200 ms of CPU, about what all 60 regions of a photo
 * now take, and delayed the first request. A body is views of the shared text around a region's
 * pieces (region-body.ts): nothing of the 2–3 MB per body is copied.
 *
 * `start` returns once the rows are filtered: a region's own pieces can be made while the shared blocks are
 * still being compressed (`ready`), and each shared block's base64 is made as its compression ends, so that
 * little is left to do between the last block and the first body.
 */
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { startRegionPng, type RegionRows } from "./region-png.js";
import { base64Ascii, bodyPieces, bodyPrefix, regionText, type RegionText, type SharedText } from "./region-body.js";

export class RegionBodyEncoder {
  private prefix: { head: string; bytes: Uint8Array } | undefined;
  private shared: SharedText | undefined;
  /** Resolves when the shared blocks and their text are made (`body` needs them). */
  readonly ready: Promise<void>;

  private constructor(
    private readonly rows: RegionRows,
    shared: Promise<SharedText>,
  ) {
    this.ready = shared.then((text) => {
      this.shared = text;
    });
    this.ready.catch(() => {}); // a failure is for whoever awaits `ready`; with no body to send, nobody need
  }

  /** Prepares the image's shared blocks and their text for PNGs whose regions' rows are at zlib `level`. */
  static async open(image: RgbImage, level: number): Promise<RegionBodyEncoder> {
    const encoder = await RegionBodyEncoder.start(image, level);
    await encoder.ready;
    return encoder;
  }

  /**
   * `open`, resolving as soon as `encode` can be called (the rows are filtered); `body` can when `ready` has
   * resolved.
   */
  static async start(image: RgbImage, level: number): Promise<RegionBodyEncoder> {
    const texts: Uint8Array[] = [];
    // every chunk is a multiple of 3 bytes long: its base64 is its share of the whole text (region-body.ts)
    const started = await startRegionPng(image.data, image.width, image.height, level, undefined, (b, chunk) => {
      texts[b] = base64Ascii(chunk);
    });
    const shared = started.shared.then((base): SharedText => {
      const start = base.chunkStart.map((at) => (4 * at) / 3);
      const text = new Uint8Array(start[start.length - 1]!);
      texts.forEach((t, b) => text.set(t, start[b]!));
      return { text, start };
    });
    return new RegionBodyEncoder(started.rows, shared);
  }

  /** The region's own pieces of its body. */
  encode(rle: Rle): RegionText {
    return regionText(this.rows, rle);
  }

  /**
   * The request body, in pieces to be sent one after the other: `head`, the region's RGBA PNG as base64,
   * `tail`. The shared pieces are views of the image's shared text. Only once `ready` has resolved.
   */
  body(own: RegionText, head: string, tail: string): Uint8Array[] {
    if (!this.shared) throw new Error("RegionBodyEncoder.body: the shared blocks are not ready");
    if (this.prefix?.head !== head) this.prefix = { head, bytes: bodyPrefix(head, this.rows.width, this.rows.height) };
    return bodyPieces(this.prefix.bytes, this.shared, own, Buffer.from(tail, "utf8"));
  }
}
