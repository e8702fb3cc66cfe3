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
  it("the built modules import zod from its bundle (scripts/vendor-zod.mjs), never the package's 95 modules", () => {
    const dist = join(repoRoot, "dist");
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith(".js") && !/^(vendor|app)\//.test(f));
    const importing = files.filter((f) => readFileSync(join(dist, f), "utf8").includes("/vendor/zod.js\""));
    expect(importing).toEqual(expect.arrayContaining(["config/schema.js"]));
    expect(files.filter((f) => /from\s*"zod"|import\(\s*"zod/.test(readFileSync(join(dist, f), "utf8")))).toEqual([]);
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
