/**
 * The conformance suite every backend runs (after hono's `common.case.test.ts`: one set of cases, each
 * adapter's test file calls it with how to build that adapter). Through the registry, as the stack builds it:
 * - it is built from its spec and names itself by it;
 * - one output per region (segmenters: well-formed regions the image's size; describers: one text per region;
 *   captioners: one text; reasoners: integer ids; detectors: labels from their own list);
 * - an aborted call rejects;
 * - an unknown option is refused with a usage error that names it;
 * - it has a fingerprint (what the cache and run fingerprints key on), stable for equal options, changed when an
 *   option that shapes its output changes.
 */
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../src/image/types.js";
import { area, toBbox } from "../../src/masks/index.js";
import type { BackendKind, BackendPorts, Region, StageContext } from "../../src/pipeline/types.js";
import { createBackend } from "../../src/stack/registry.js";
import { UsageError } from "../../src/util/errors.js";

export interface ConformanceCase<K extends BackendKind> {
  kind: K;
  /** The spec, or how to get it once the test's servers and files exist. */
  spec: string | (() => string);
  /** Options the backend needs in a test (fast HTTP settings, say). */
  options?: Record<string, unknown>;
  /** Options that change what the backend produces: its fingerprint must change. Omit for a backend whose
   * output no option changes (recorded files). */
  variant?: Record<string, unknown>;
  /** The image and regions to run on (reasoners get the regions as facts with made-up descriptions). */
  input: () => Promise<{ image: RgbImage; regions: Region[] }>;
}

type Backend = BackendPorts[BackendKind] & { fingerprint?: string };

/** One stage call with the given context. */
function run(kind: BackendKind, backend: Backend, image: RgbImage, regions: Region[], ctx: StageContext): Promise<unknown> {
  switch (kind) {
    case "segmenter":
      return (backend as BackendPorts["segmenter"]).segment(image, ctx);
    case "describer":
      return (backend as BackendPorts["describer"]).describe(image, regions, ctx);
    case "captioner":
      return (backend as BackendPorts["captioner"]).caption(image, regions, ctx);
    case "detector":
      return (backend as BackendPorts["detector"]).detect(image, ctx);
    case "reasoner":
      return (backend as BackendPorts["reasoner"]).reason(
        {
          query: "the first region",
          mode: "reasoning",
          scene: "",
          regions: regions.map((r) => ({ id: r.id, description: `region ${r.id}`, bbox: r.bbox, area: r.area })),
          imageWidth: image.width,
          imageHeight: image.height,
          maxMasks: 6,
        },
        ctx,
      );
  }
}

function checkOutput(kind: BackendKind, backend: Backend, out: unknown, image: RgbImage, regions: Region[]): void {
  switch (kind) {
    case "segmenter": {
      const found = out as Region[];
      expect(new Set(found.map((r) => r.id)).size).toBe(found.length);
      for (const r of found) {
        expect([r.rle.width, r.rle.height]).toEqual([image.width, image.height]);
        expect(r.area).toBe(area(r.rle));
        expect(r.bbox).toEqual(toBbox(r.rle));
      }
      return;
    }
    case "describer": {
      const texts = out as string[];
      expect(texts).toHaveLength(regions.length);
      for (const t of texts) expect(typeof t).toBe("string");
      return;
    }
    case "captioner":
      expect(typeof out).toBe("string");
      return;
    case "detector": {
      const labels = (backend as BackendPorts["detector"]).labels;
      for (const d of out as { label: string; classId: number; score: number }[]) {
        expect(labels[d.classId]).toBe(d.label);
        expect(d.score).toBeGreaterThanOrEqual(0);
        expect(d.score).toBeLessThanOrEqual(1);
      }
      return;
    }
    case "reasoner": {
      const ids = (out as { maskIds: number[] }).maskIds;
      for (const id of ids) expect(Number.isInteger(id)).toBe(true);
      return;
    }
  }
}

export function conformance<K extends BackendKind>(name: string, c: ConformanceCase<K>): void {
  const spec = () => (typeof c.spec === "string" ? c.spec : c.spec());
  const build = (options: Record<string, unknown> = c.options ?? {}) => createBackend(c.kind, spec(), options) as Promise<Backend>;
  const close = (b: Backend) => b.close?.();

  describe(`${c.kind} ${name}: conformance`, () => {
    it("is built from its spec, gives one well-formed output per region, and rejects an aborted call", async () => {
      const backend = await build();
      try {
        expect(backend.spec).toBe(spec().trim().replace(/\/\/[^/@\s]*@/, "//***@"));
        // What caches and run fingerprints key on: every built-in backend states it.
        expect(backend.fingerprint).toBeTypeOf("string");
        const { image, regions } = await c.input();
        checkOutput(c.kind, backend, await run(c.kind, backend, image, regions, {}), image, regions);
        const aborted = new AbortController();
        aborted.abort(new Error("stopped by the test"));
        await expect(run(c.kind, backend, image, regions, { signal: aborted.signal })).rejects.toThrow();
      } finally {
        await close(backend);
      }
    });

    it("refuses an unknown option, naming it", async () => {
      const attempt = build({ ...c.options, notAnOption: 1 });
      await expect(attempt).rejects.toBeInstanceOf(UsageError);
      await expect(attempt).rejects.toThrow(/unknown option "notAnOption"/);
    });

    if (c.variant) {
      const variant = c.variant;
      it(`changes its fingerprint when an option changes (${Object.keys(variant).join(", ")})`, async () => {
        const [a, b, changed] = await Promise.all([build(), build(), build({ ...c.options, ...variant })]);
        try {
          expect(a.fingerprint).toBeTypeOf("string");
          expect(b.fingerprint).toBe(a.fingerprint);
          expect(changed.fingerprint).not.toBe(a.fingerprint);
        } finally {
          await Promise.all([a, b, changed].map(close));
        }
      });
    }
  });
}

/** A 64×48 scene with two square regions of different colours (what the cheap checks use too). */
export async function squaresScene(): Promise<{ image: RgbImage; regions: Region[] }> {
  const { encode } = await import("../../src/masks/index.js");
  const width = 64;
  const height = 48;
  const data = new Uint8Array(width * height * 3);
  const masks = [new Uint8Array(width * height), new Uint8Array(width * height)];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const a = x >= 6 && x < 26 && y >= 10 && y < 30;
      const b = x >= 36 && x < 56 && y >= 14 && y < 40;
      if (a) masks[0]![i] = 1;
      if (b) masks[1]![i] = 1;
      data.set(a ? [200, 40, 40] : b ? [40, 60, 200] : [40 + x * 2, 120, 60 + y * 2], i * 3);
    }
  }
  const regions = masks.map((m, id) => {
    const rle = encode({ width, height, data: m });
    return { id, rle, bbox: toBbox(rle), area: area(rle) };
  });
  return { image: { width, height, data, source: "squares" }, regions };
}
