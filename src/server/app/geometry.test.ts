// The page's region geometry against a plain oracle: every display pixel is inside a region exactly when the
// image pixel it samples (nearest neighbour) is inside its decoded mask; outlines are inside pixels with an
// outside neighbour; the pointer finds the smallest region; labels sit inside their region.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMaskPng } from "../../image/decode.js";
import { encode, rleToString } from "../../masks/index.js";
import { samples } from "../../../test/helpers/paths.js";
import { buildGeometry } from "./geometry.js";

describe("buildGeometry", () => {
  it("samples every region exactly, at display sizes that divide the image evenly or not", async () => {
    const dir = samples.masks("4537339_3d8e488294_o");
    const names = (await readdir(dir)).filter((n) => n.endsWith(".png")).slice(0, 8);
    const masks = await Promise.all(names.map((n) => loadMaskPng(join(dir, n))));
    const { width: W, height: H } = masks[0]!;
    const input = masks.map((m, i) => ({ id: Number(/\d+/.exec(names[i]!)![0]), segmentation: { size: [H, W] as [number, number], counts: rleToString(encode(m)) } }));
    for (const maxSide of [999, 1600]) {
      const g = buildGeometry(input, W, H, maxSide);
      expect(Math.max(g.width, g.height)).toBe(Math.min(maxSide, 1600));
      const sample = (d: number, size: number) => Math.min(size - 1, Math.floor((d + 0.5) / g.scale));
      const inside = new Uint8Array(g.width * g.height);
      for (const [k, m] of masks.entries()) {
        const shape = g.byId.get(input[k]!.id);
        const oracle = new Uint8Array(g.width * g.height);
        for (let dy = 0; dy < g.height; dy++) for (let dx = 0; dx < g.width; dx++) oracle[dy * g.width + dx] = m.data[sample(dy, H) * W + sample(dx, W)]!;
        inside.fill(0);
        for (let i = 0; shape && i < shape.spans.length; i += 3) inside.fill(1, shape.spans[i]! * g.width + shape.spans[i + 1]!, shape.spans[i]! * g.width + shape.spans[i + 2]!);
        expect(Buffer.from(inside).equals(Buffer.from(oracle)), `region ${input[k]!.id} at ${maxSide}`).toBe(true);
        if (!shape) continue;
        for (const i of shape.outline) {
          const x = i % g.width;
          const y = Math.floor(i / g.width);
          expect(inside[i]).toBe(1);
          const edge = x === 0 || y === 0 || x === g.width - 1 || y === g.height - 1 || !inside[i - 1] || !inside[i + 1] || !inside[i - g.width] || !inside[i + g.width];
          expect(edge).toBe(true);
        }
        expect(inside[shape.label[1] * g.width + shape.label[0]]).toBe(1);
      }
      // Under the pointer: the smallest region that holds the pixel.
      for (let i = 0; i < g.under.length; i += 997) {
        const holding = g.shapes.filter((s) => {
          const y = Math.floor(i / g.width);
          const x = i % g.width;
          for (let k = 0; k < s.spans.length; k += 3) if (s.spans[k] === y && s.spans[k + 1]! <= x && x < s.spans[k + 2]!) return true;
          return false;
        });
        const smallest = holding.length ? holding.reduce((a, b) => (b.size < a.size ? b : a)) : undefined;
        expect(g.under[i] === -1 ? undefined : g.shapes[g.under[i]!]!.size).toBe(smallest?.size);
      }
    }
  });
});
