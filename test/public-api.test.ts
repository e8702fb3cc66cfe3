// The package's entry points as a user imports them (`gear-seg`, `gear-seg/masks`, …, resolved through
// package.json "exports" from the built dist/): each loads, and the light ones load no native library.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers/cli.js";

/** Imports the entry points in a fresh Node process; returns their export names and the native libraries loaded. */
function importInNode(entries: string[]): Promise<{ names: Record<string, string[]>; native: string[] }> {
  const script = `
    const names = {};
    for (const e of ${JSON.stringify(entries)}) names[e] = Object.keys(await import(e)).sort();
    const native = process.report.getReport().sharedObjects.filter((s) => /\\.node$|libvips|onnxruntime/.test(s));
    process.stdout.write(JSON.stringify({ names, native }));
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

describe("entry points", () => {
  it("the built modules get zod from its bundle (scripts/vendor-zod.mjs), never the package's 95 modules", () => {
    const dist = join(repoRoot, "dist");
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith(".js") && !/^(vendor|app)\//.test(f));
    const text = (f: string) => readFileSync(join(dist, f), "utf8");
    expect(text("config/zod.js")).toContain('("../vendor/zod.cjs")');
    expect(files.filter((f) => text(f).includes('/vendor/zod.cjs"'))).toEqual(expect.arrayContaining(["config/zod.js", "server/schemas.js"]));
    expect(files.filter((f) => /from\s*"zod"|import\(\s*"zod|\(\s*"zod"\s*\)/.test(text(f)))).toEqual([]);
  });

  it("building the offline default's backends without options loads no zod (it is loaded when something is to be checked)", async () => {
    const script = `
      import { createRequire } from "node:module";
      import { createBackend } from "gear-seg";
      const zodLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.endsWith("zod.cjs"));
      await createBackend("segmenter", "classic");
      await createBackend("describer", "attributes");
      await createBackend("reasoner", "wordnet");
      const before = zodLoaded();
      let refused = "";
      try { await createBackend("segmenter", "classic", { sigma: "high" }); } catch (e) { refused = e.message; }
      process.stdout.write(JSON.stringify({ before, after: zodLoaded(), refused }));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(JSON.parse(out)).toEqual({ before: false, after: true, refused: 'segmenter classic: option "sigma" must be a number in [0, 10], got "high"' });
  });

  it('"gear-seg/masks" and "gear-seg/eval" load neither sharp nor ONNX Runtime (no native library at all)', async () => {
    const { names, native } = await importInNode(["gear-seg/masks", "gear-seg/eval"]);
    expect(native).toEqual([]);
    expect(names["gear-seg/masks"]).toEqual(expect.arrayContaining(["encode", "decode", "merge", "iou", "bboxIou", "rleFromString", "rleToString", "toBbox"]));
    expect(names["gear-seg/eval"]).toEqual(expect.arrayContaining(["evaluateCoco", "evaluateReasonFolder", "loadCocoGroundTruth", "gradeInstances"]));
  });

  it("the root holds the agent, the stacks and the ports, and no internals or aliases", async () => {
    const { names, native } = await importInNode(["gear-seg", "gear-seg/image", "gear-seg/engine"]);
    expect(native.some((s) => /onnxruntime/.test(s))).toBe(false);
    const root = names["gear-seg"]!;
    expect(root).toEqual(expect.arrayContaining(["GearSeg", "createStack", "createConfiguredStack", "createBackend", "configSchema", "GearSegError"]));
    for (const internal of ["HttpClient", "HTTP_OPTION_KEYS", "boxIou", "parseRleString", "encode", "architectMessages", "GLYPH_WIDTH", "generateMasks"]) {
      expect(root, internal).not.toContain(internal);
    }
    expect(names["gear-seg/image"]).not.toContain("GLYPH_WIDTH");
    expect(names["gear-seg/engine"]).toEqual(expect.arrayContaining(["generateDataset", "labelImages", "exportDataset", "createJsonChat"]));
    expect(names["gear-seg/engine"]).not.toContain("architectMessages");
  });
});
