export type { RgbImage } from "./types.js";
export { DECODER_ID, DEFAULT_MAX_PIXELS, checkImageHeader, decodeImage, imageHeader, loadImage, loadMaskPng, readImageFile, type DecodeOptions } from "./decode.js";
export { cropImage, encodeJpeg, encodeMaskPng, encodePng, resizeImage } from "./encode.js";
export {
  ADVANCE,
  CAP_HEIGHT,
  GLYPH_HEIGHT,
  GLYPH_WIDTH,
  LINE_HEIGHT,
  drawText,
  glyphRows,
  hasGlyph,
  measureText,
  normalizeText,
  wrapText,
  type DrawTextOptions,
  type DrawnBox,
  type Rgb,
  type TextSize,
} from "./font.js";
export { contrastingText, regionColour } from "./palette.js";
export { farthestInteriorPoint, interiorAnchors, labelBorders, maskLabelPoint, maskOutline } from "./raster.js";
export {
  captionScale,
  defaultLabelScale,
  renderCandidates,
  renderCandidatesRgb,
  renderMaskPng,
  renderOverlay,
  renderOverlayRgb,
  withCaptionBand,
  type CandidateRegion,
  type OverlayRegion,
  type RenderCandidatesOptions,
  type RenderOverlayOptions,
} from "./render.js";
