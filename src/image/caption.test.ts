import { describe, expect, it } from "vitest";
import { captionMaxLines, captionScale, fitCaption, withCaptionBand } from "./caption.js";
import { LINE_HEIGHT, measureText } from "./font.js";
import type { RgbImage } from "./types.js";

const grey = (width: number, height: number): RgbImage => ({ width, height, data: new Uint8Array(width * height * 3).fill(128) });

describe("fitCaption", () => {
  it("keeps a caption that fits as it is, wrapped at spaces", () => {
    const lines = fitCaption("the red car on the left", "masks 3, 8", 6 * 20 - 1, 1, 4);
    expect(lines).toEqual(["the red car on the", "left \u2192 masks 3, 8"]);
  });

  it("cuts a long query with an ellipsis and keeps the answer whole", () => {
    const query = "which object would you sit on to rest after a long walk through the park on a hot day";
    const lines = fitCaption(query, "masks 12, 40", 6 * 20 - 1, 1, 2);
    expect(lines).toHaveLength(2);
    const text = lines.join(" ");
    expect(text).toMatch(/\u2026 \u2192 masks 12, 40$/);
    expect(query.startsWith(text.slice(0, text.indexOf("\u2026")).trimEnd())).toBe(true);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(20);
  });

  it("ends the cut at a word when one ends near", () => {
    const lines = fitCaption("alpha beta gamma delta epsilon zeta eta theta", "no match", 6 * 16 - 1, 1, 2);
    const text = lines.join(" ");
    expect(text).toMatch(/^alpha beta( gamma)?\u2026/);
  });

  it("cuts the answer too when it alone is longer than the band", () => {
    const lines = fitCaption("q", "masks " + Array.from({ length: 60 }, (_, i) => i).join(", "), 6 * 10 - 1, 1, 2);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.endsWith("\u2026")).toBe(true);
    expect(lines[1]!.length).toBeLessThanOrEqual(10);
  });
});

describe("withCaptionBand", () => {
  it("bounds the band: a query of a million characters on a 16 × 16 image stays a small picture", () => {
    const query = "why ".repeat(250_000) + "x".repeat(50_000);
    // (Within the test's time limit: wrapping the uncut query was quadratic in its longest word.)
    const out = withCaptionBand(grey(16, 16), query, "mask 0");
    const scale = captionScale(16);
    expect(out.width).toBe(16);
    expect(out.height - 16).toBe(measureText("a\nb", scale).height + 8 * scale); // two lines and the margins
    expect(out.data.length).toBe(16 * out.height * 3);
  });

  it("draws at most a quarter of the image height in lines (2 to 5)", () => {
    expect(captionMaxLines(100, 1)).toBe(2);
    expect(captionMaxLines(2000, 2)).toBe(5);
    expect(captionMaxLines(600, 3)).toBe(Math.floor(600 / (4 * LINE_HEIGHT * 3))); // 4
    const image = grey(1200, 800);
    const out = withCaptionBand(image, "word ".repeat(2000), "masks 1, 2");
    const scale = captionScale(1200);
    const lines = captionMaxLines(800, scale);
    expect(out.height - 800).toBe(measureText(Array(lines).fill("x").join("\n"), scale).height + 8 * scale);
    expect(Buffer.from(out.data.subarray((out.height - 800) * 1200 * 3)).equals(Buffer.from(image.data))).toBe(true);
  });
});
