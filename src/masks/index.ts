/** The mask algebra: COCO RLE (pycocotools-exact), polygons, contours, resizing, NMS. No dependencies. */
export type { BBox, BinaryMask, CocoRle, CocoUncompressedRle, FlatPolygon, Rle } from "./types.js";
export { area, bboxIou, binaryMaskFrom, decode, emptyRle, encode, iou, maskArea, merge, rleEquals, toBbox } from "./rle.js";
export { fromCocoRle, rleFromString, rleToString, toCocoRle } from "./rle-string.js";
export { fromBbox, fromPolygon, fromPolygons } from "./polygon.js";
export { maskToPolygons, rleToPolygons, type MaskPolygon, type MaskToPolygonsOptions } from "./contours.js";
export { resizeBilinear, resizeMaskNearest } from "./resize.js";
export { batchedNms, nms } from "./nms.js";
