export type { RgbImage } from "./types.js";
export { DECODER_ID, DEFAULT_MAX_PIXELS, checkImageHeader, decodeImage, imageHeader, loadImage, loadMaskPng, readImageFile, type DecodeOptions } from "./decode.js";
export { cropImage, encodeJpeg, encodeMaskPng, encodePicture, encodePng, resizeImage, type PictureFormat } from "./encode.js";
export { captionMaxLines, captionScale, fitCaption, withCaptionBand } from "./caption.js";
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
export type { LabelBox, LabelRequest, PlacedLabel } from "./labels.js";
export { farthestInteriorPoint, interiorAnchors, labelBorders, maskLabelPoint, maskOutline } from "./raster.js";
export {
  candidatesLabelScale,
  defaultLabelScale,
  renderCandidates,
  renderCandidatesRgb,
  renderMaskPng,
  renderOverlay,
  renderOverlayRgb,
  type CandidateRegion,
  type LabelledPicture,
  type OverlayRegion,
  type RenderCandidatesOptions,
  type RenderOverlayOptions,
} from "./render.js";
