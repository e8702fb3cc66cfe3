/**
 * Image-level splits that stay put when images are added: each image's split depends only on its id and the
 * seed (a hash mapped to [0, 1) and cut at the split fractions), never on the other images.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../util/errors.js";

export type Split = "train" | "val" | "test";
export const SPLITS: readonly Split[] = ["train", "val", "test"];

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLITS: SplitFractions = { train: 0.9, val: 0.05, test: 0.05 };

/** Parses "90/5/5" or "0.9,0.05,0.05" (normalised to sum to 1). */
export function parseSplitFractions(text: string): SplitFractions {
  const parts = text.split(/[/,:]/).map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new UsageError(`--splits must be three non-negative numbers such as 90/5/5, got "${text}"`);
  }
  const sum = parts[0]! + parts[1]! + parts[2]!;
  return { train: parts[0]! / sum, val: parts[1]! / sum, test: parts[2]! / sum };
}

/** A number in [0, 1) from the seed and the image id. */
export function splitHash(imageId: string, seed: number | string): number {
  const digest = createHash("sha256").update(`${seed}\u0000${imageId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function assignSplit(imageId: string, seed: number | string, fractions: SplitFractions = DEFAULT_SPLITS): Split {
  const u = splitHash(imageId, seed);
  if (u < fractions.train) return "train";
  if (u < fractions.train + fractions.val) return "val";
  return "test";
}
