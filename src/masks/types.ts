/**
 * Mask types shared by every module.
 *
 * A `BinaryMask` is row-major with one byte per pixel (0 or 1): image code (sharp buffers, overlays,
 * resizing) is row-major, and one byte per pixel keeps inner loops branch-free.
 * An `Rle` is COCO's run-length encoding: runs over the pixels in column-major order, alternating
 * background/foreground and starting with a (possibly empty) background run. Regions keep their masks as
 * `Rle`, which is small and lets union, intersection, area and IoU run without decoding.
 */
export interface BinaryMask {
  readonly height: number;
  readonly width: number;
  /** Row-major, `height * width` bytes, 0 = outside, 1 = inside. */
  readonly data: Uint8Array;
}

export interface Rle {
  readonly height: number;
  readonly width: number;
  /** Run lengths, column-major, first run is background; sums to height * width. */
  readonly counts: Uint32Array;
}

/** COCO JSON form of an RLE: `size` is [height, width], `counts` the compressed string. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** COCO JSON form with uncompressed counts (as in `iscrowd` ground truth). */
export interface CocoUncompressedRle {
  size: [number, number];
  counts: number[];
}

/** [x, y, width, height], as COCO. */
export type BBox = [number, number, number, number];

/** A flat polygon [x0, y0, x1, y1, ...] in pixel coordinates. */
export type FlatPolygon = number[];
