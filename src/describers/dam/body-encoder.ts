/**
 * Request bodies of the regions of one image, on the calling thread. The image's one-time work (its rows
 * filtered in WebAssembly, the alpha-0 blocks every region shares compressed) is spread over the cores by
 * zlib's asynchronous calls; a region's own pieces then cost 1–2 ms (its rows' bits copied from the image's,
 * see huffman.ts), so no worker threads are started: starting one cost 100–200 ms of CPU, about what all 60
 * regions of a photo now take, and delayed the first request. A body is views of the shared text around a
 * region's pieces (region-body.ts): nothing of the 2–3 MB per body is copied.
 */
import type { RgbImage } from "../../image/types.js";
import type { Rle } from "../../masks/types.js";
import { GearSegError } from "../../util/errors.js";
import { BLOCK_ROWS, prepareRegionPngAsync, type RegionPngBase } from "./region-png.js";
import { bodyPieces, bodyPrefix, regionText, sharedText, type RegionText, type SharedText } from "./region-body.js";

export class RegionBodyEncoder {
  private prefix: { head: string; bytes: Uint8Array } | undefined;
  private closed = false;

  private constructor(
    private readonly base: RegionPngBase,
    private readonly shared: SharedText,
  ) {}

  /**
   * Prepares the image's shared blocks and their text for PNGs whose regions' rows are at zlib `level`;
   * `firstRows`: the row spans [y0, y1) of the regions to be sent first, whose rows are prepared meanwhile.
   */
  static async open(image: RgbImage, level: number, firstRows: readonly (readonly [number, number])[] = []): Promise<RegionBodyEncoder> {
    const base = await prepareRegionPngAsync(image.data, image.width, image.height, level, BLOCK_ROWS, firstRows);
    return new RegionBodyEncoder(base, sharedText(base));
  }

  /** The region's own pieces of its body. */
  encode(rle: Rle): RegionText {
    if (this.closed) throw new GearSegError("region bodies: the encoder is closed");
    return regionText(this.base, rle);
  }

  /**
   * Gives the image's rows to the next image (`encode` then fails); the bodies made stay whole (they hold no
   * view of the rows).
   */
  close(): void {
    this.closed = true;
    this.base.release();
  }

  /**
   * The request body, in pieces to be sent one after the other: `head`, the region's RGBA PNG as base64,
   * `tail`. The shared pieces are views of the image's shared text.
   */
  body(own: RegionText, head: string, tail: string): Uint8Array[] {
    if (this.prefix?.head !== head) this.prefix = { head, bytes: bodyPrefix(head, this.base.width, this.base.height) };
    return bodyPieces(this.prefix.bytes, this.shared, own, Buffer.from(tail, "utf8"));
  }
}
