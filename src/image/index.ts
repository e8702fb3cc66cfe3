/**
 * `gear-seg/image`: decoding (EXIF-oriented, size-limited), encoding, and the pictures gear-seg writes — the
 * answer overlay, the numbered candidates, the binary mask PNG.
 */
export type { RgbImage } from "./types.js";
export { DEFAULT_MAX_PIXELS, decodeImage, loadImage, loadMaskPng, type DecodeOptions } from "./decode.js";
export { cropImage, encodeGreyPng, encodeJpeg, encodeMaskPng, encodePicture, encodePng, resizeImage, type PictureFormat } from "./encode.js";
export { regionColour } from "./palette.js";
export {
  maskGrey,
  renderCandidates,
  renderMaskPng,
  renderOverlay,
  type CandidateRegion,
  type LabelledPicture,
  type OverlayRegion,
  type RenderCandidatesOptions,
  type RenderOverlayOptions,
} from "./render.js";
