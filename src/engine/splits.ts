/**
 * Image-level splits that stay put when images are added: each image's split depends only on a key and the
 * seed (a hash mapped to [0, 1) and cut at the split fractions), never on the other images. The key is the
 * image's content hash, so the same photo under two paths lands in one split (no train/test leakage); a
 * finished record keeps the split it was written with.
 */
import { createHash } from "node:crypto";
import { DEFAULT_SPLITS, type Split, type SplitFractions } from "../datasets/gear-seg.js";
import { UsageError } from "../util/errors.js";

/** Parses "90/5/5" or "0.9,0.05,0.05" (normalised to sum to 1). */
export function parseSplitFractions(text: string): SplitFractions {
  const parts = text.split(/[/,:]/).map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new UsageError(`split fractions must be three non-negative numbers such as 90/5/5, got "${text}"`);
  }
  const sum = parts[0]! + parts[1]! + parts[2]!;
  return { train: parts[0]! / sum, val: parts[1]! / sum, test: parts[2]! / sum };
}

/** "90/5/5": the fractions as the percentages a person writes. */
export function formatSplitFractions(f: SplitFractions): string {
  return [f.train, f.val, f.test].map((x) => Math.round(x * 1000) / 10).join("/");
}

/** A number in [0, 1) from the seed and the key. */
export function splitHash(key: string, seed: number | string): number {
  const digest = createHash("sha256").update(`${seed}\u0000${key}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function assignSplit(key: string, seed: number | string, fractions: SplitFractions = DEFAULT_SPLITS): Split {
  const u = splitHash(key, seed);
  if (u < fractions.train) return "train";
  if (u < fractions.train + fractions.val) return "val";
  return "test";
}
