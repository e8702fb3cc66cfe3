/**
 * The port through which the agent reuses work across runs ("describe once, ask many"). Regions are keyed by
 * the image content and the segmenter's fingerprint; descriptions by the exact regions they describe and the
 * describer's fingerprint. An implementation must never return a corrupt entry: it verifies and treats a bad
 * one as a miss.
 */
import type { Region } from "./types.js";

export interface CachedDescriptions {
  descriptions: string[];
  scene: string;
}

export interface StageCache {
  getRegions(imageKey: string, segmenterKey: string): Promise<Region[] | undefined>;
  putRegions(imageKey: string, segmenterKey: string, regions: readonly Region[]): Promise<void>;
  getDescriptions(regionsKey: string, describerKey: string): Promise<CachedDescriptions | undefined>;
  putDescriptions(regionsKey: string, describerKey: string, value: CachedDescriptions): Promise<void>;
  close?(): Promise<void>;
}
