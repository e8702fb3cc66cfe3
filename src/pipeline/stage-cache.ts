/**
 * The port through which the agent reuses work across runs ("describe once, ask many"). Every entry is keyed on
 * exactly what determines its value, nothing more and nothing less:
 * - an image file's bytes → the key of its decoded pixels and its size (so a second run need not decode);
 * - the pixels and the segmenter's fingerprint → the segmenter's own proposals, before the agent's duplicate
 *   rule and region cap (those run on every use, so `maxRegions` can never be served another run's cut);
 * - the exact numbered regions and the describer's fingerprint → the descriptions;
 * - the exact numbered regions and the captioner's fingerprint → the scene caption (apart from the
 *   descriptions, so a failed caption never throws finished descriptions away).
 * An implementation must never return a corrupt entry: it verifies and treats a bad one as a miss.
 */
import type { Region } from "./types.js";

/** What the cache remembers of an image file. */
export interface CachedImage {
  /** The pixels' key (`hashImage`). */
  imageKey: string;
  width: number;
  height: number;
}

export interface StageCache {
  getImage(fileKey: string): Promise<CachedImage | undefined>;
  putImage(fileKey: string, value: CachedImage): Promise<void>;
  getRegions(imageKey: string, segmenterKey: string): Promise<Region[] | undefined>;
  putRegions(imageKey: string, segmenterKey: string, regions: readonly Region[]): Promise<void>;
  getDescriptions(regionsKey: string, describerKey: string): Promise<string[] | undefined>;
  putDescriptions(regionsKey: string, describerKey: string, descriptions: readonly string[]): Promise<void>;
  getCaption(regionsKey: string, captionerKey: string): Promise<string | undefined>;
  putCaption(regionsKey: string, captionerKey: string, caption: string): Promise<void>;
  close?(): Promise<void>;
}
