/** A decoded image: 8-bit RGB, interleaved, row-major, EXIF orientation applied, alpha flattened. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes. */
  readonly data: Uint8Array;
  /** Where it came from (a path or a label), for messages. */
  readonly source?: string;
}
