/**
 * sharp, loaded through `require`: its CommonJS build loads in less than half the time of its ES modules
 * (Node 20 runs each of those through the ESM loader and scans the CommonJS they import for export names),
 * about 0.1 s of every command that touches an image. Both builds load the same native addon.
 */
import { createRequire } from "node:module";
import type Sharp from "sharp";

const sharp = createRequire(import.meta.url)("sharp") as typeof Sharp;
export default sharp;
