import { describe, expect, it } from "vitest";
import { ADVANCE, drawText, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows, hasGlyph, LINE_HEIGHT, measureText, normalizeText, wrapText } from "./font.js";

/** A glyph as 9 strings of '#' and '.', for readable assertions. */
const art = (ch: string) => Array.from(glyphRows(ch), (bits) => Array.from({ length: 5 }, (_, c) => (bits & (16 >> c) ? "#" : ".")).join(""));

describe("glyph table", () => {
  it("has a glyph for every printable ASCII character, and each one (but space) has ink", () => {
    for (let cp = 33; cp <= 126; cp++) {
      const ch = String.fromCharCode(cp);
      expect(hasGlyph(ch)).toBe(true);
      expect(glyphRows(ch).some((r) => r !== 0)).toBe(true);
      expect(glyphRows(ch).every((r) => r < 32)).toBe(true);
    }
    expect(glyphRows(" ").every((r) => r === 0)).toBe(true);
  });

  it("draws '1' as a stem in the middle column with a flag and a foot", () => {
    expect(art("1")).toEqual(["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.", ".....", "....."]);
  });

  it("tells similar digits apart", () => {
    const digits = "0123456789".split("").map((d) => art(d).join("/"));
    expect(new Set(digits).size).toBe(10);
    expect(art("8")[3]).toBe(".###."); // waist of the 8
    expect(art("0")[3]).toBe("#.#.#"); // the slash that tells 0 from O
    expect(art("O")[3]).toBe("#...#");
  });

  it("puts descenders below the baseline only for g j p q y", () => {
    for (let cp = 33; cp <= 126; cp++) {
      const ch = String.fromCharCode(cp);
      const descends = glyphRows(ch)[7]! !== 0 || glyphRows(ch)[8]! !== 0;
      expect([ch, descends]).toEqual([ch, "gjpqy,;_".includes(ch)]);
    }
  });

  it("folds accents and typographic marks, and draws a box for unknown characters", () => {
    expect(normalizeText("café “quoted” — ok")).toEqual("cafe \"quoted\" - ok".split(""));
    expect(hasGlyph("→")).toBe(true);
    expect(art("漢")[0]).toBe("#####");
  });
});

describe("measureText and wrapText", () => {
  it("measures 6 px per character minus the trailing gap, 9 px per line at scale 1", () => {
    expect(measureText("12", 1)).toEqual({ width: 2 * ADVANCE - 1, height: GLYPH_HEIGHT });
    expect(measureText("123", 3)).toEqual({ width: (3 * ADVANCE - 1) * 3, height: GLYPH_HEIGHT * 3 });
    expect(measureText("ab\nabcd", 2)).toEqual({ width: (4 * ADVANCE - 1) * 2, height: (LINE_HEIGHT + GLYPH_HEIGHT) * 2 });
    expect(measureText("", 1).width).toBe(0);
    expect(() => measureText("x", 0)).toThrow(/scale/);
  });

  it("wraps at spaces within the width and splits words longer than a line", () => {
    const lines = wrapText("the quick brown fox jumps", 6 * 10 - 1, 1);
    expect(lines).toEqual(["the quick", "brown fox", "jumps"]);
    for (const l of lines) expect(measureText(l, 1).width).toBeLessThanOrEqual(59);
    expect(wrapText("abcdefghijkl", 29, 1)).toEqual(["abcde", "fghij", "kl"]);
  });
});

describe("drawText", () => {
  const W = 20;
  const H = 12;
  const red = (buf: Uint8Array, x: number, y: number) => buf[(y * W + x) * 3]!;

  it("paints exactly the glyph's pixels at its position", () => {
    const buf = new Uint8Array(W * H * 3);
    drawText(buf, W, H, 3, 2, "1", { color: [255, 0, 0] });
    const rows = art("1");
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const gx = x - 3;
        const gy = y - 2;
        const inGlyph = gx >= 0 && gx < GLYPH_WIDTH && gy >= 0 && gy < GLYPH_HEIGHT && rows[gy]![gx] === "#";
        expect([x, y, red(buf, x, y)]).toEqual([x, y, inGlyph ? 255 : 0]);
      }
  });

  it("scales each glyph pixel to a scale × scale block", () => {
    const buf = new Uint8Array(W * H * 3);
    drawText(buf, W, H, 0, 0, "1", { color: [255, 0, 0], scale: 2 });
    // Stem of "1" is column 2 → pixels 4..5; row 0 → pixels 0..1.
    expect([red(buf, 4, 0), red(buf, 5, 1), red(buf, 3, 0), red(buf, 6, 0)]).toEqual([255, 255, 0, 0]);
  });

  it("outlines glyphs with a halo and fills a background box", () => {
    const buf = new Uint8Array(W * H * 3);
    drawText(buf, W, H, 5, 1, "1", { color: [255, 255, 255], halo: [0, 0, 200] });
    const blue = (x: number, y: number) => buf[(y * W + x) * 3 + 2]!;
    expect(blue(5 + 1, 1)).toBe(200); // left of the stem top
    expect(blue(5 + 2, 1)).toBe(255); // the stem itself (white)
    expect(blue(5 + 4, 1 + 2)).toBe(0); // two columns right of the stem: no ink within 1 px

    const bg = new Uint8Array(W * H * 3);
    const box = drawText(bg, W, H, 4, 2, "1", { color: [255, 255, 255], background: [9, 9, 9], padding: 1 });
    expect(box).toEqual({ x: 3, y: 1, width: GLYPH_WIDTH + 2, height: GLYPH_HEIGHT + 2 });
    expect(bg[(1 * W + 3) * 3]).toBe(9);
    expect(bg[(0 * W + 3) * 3]).toBe(0);
  });

  it("clips at the buffer edges without throwing", () => {
    const buf = new Uint8Array(W * H * 3);
    drawText(buf, W, H, -3, -4, "88", { color: [1, 2, 3], halo: [4, 5, 6] });
    drawText(buf, W, H, W - 2, H - 2, "88", { color: [1, 2, 3], scale: 3 });
    expect(buf.length).toBe(W * H * 3);
  });
});
