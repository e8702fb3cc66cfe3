/**
 * `gear-seg doctor`: builds every configured backend and makes one tiny real call to each (a 64×48 probe
 * image with one square region; a two-region question for reasoners), timing it. Recorded backends that read
 * files are only loaded. The CLI prints the rows as a table and exits non-zero when one fails.
 */
import { createDescriber, createReasoner, createSegmenter, type BackendOptions } from "./registry.js";
import type { RgbImage } from "../image/types.js";
import { area, encode, toBbox } from "../masks/index.js";
import { parseSpec } from "../pipeline/spec.js";
import { OFFLINE_DEFAULT } from "./stack.js";
import type { Region } from "../pipeline/types.js";
import { describeError } from "../util/errors.js";
import { resolveStage, STAGES, type BackendEntry, type GearSegConfig, type Stage } from "../config/index.js";

export interface DoctorRow {
  stage: Stage;
  /** Config name, or the stage it is chosen for. */
  name: string;
  spec: string;
  ok: boolean;
  latencyMs: number;
  /** What came back, or why it failed. */
  detail: string;
}

const HTTP_BACKENDS = new Set(["dam", "openai-vision", "openai", "embedding"]);

/** The backends to check: each stage's choice (flags over config, else the offline default) and every named one. */
export function doctorTargets(config: GearSegConfig | undefined, flags: Partial<Record<Stage, string>>): { stage: Stage; name: string; entry: BackendEntry }[] {
  const out: { stage: Stage; name: string; entry: BackendEntry }[] = [];
  const seen = new Set<string>();
  const add = (stage: Stage, name: string, entry: BackendEntry) => {
    if (entry.spec === "none") return;
    const key = `${stage}\u0000${entry.spec}\u0000${JSON.stringify(entry.options)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ stage, name, entry });
  };
  for (const stage of STAGES) {
    const entry = resolveStage(config, stage, flags[stage]) ?? { spec: OFFLINE_DEFAULT[stage], options: {} };
    add(stage, entry.name ?? stage, entry);
  }
  for (const [name, entry] of Object.entries(config?.backends ?? {})) {
    if (entry.stage) add(entry.stage, name, { spec: entry.spec, options: entry.options });
  }
  return out;
}

export function probeImage(): { image: RgbImage; region: Region } {
  const width = 64;
  const height = 48;
  const data = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const inside = x >= 20 && x < 40 && y >= 14 && y < 34;
      mask[i] = inside ? 1 : 0;
      data.set(inside ? [200, 40, 40] : [40 + x * 2, 120, 60 + y * 2], i * 3);
    }
  }
  const rle = encode({ width, height, data: mask });
  return { image: { width, height, data, source: "doctor probe" }, region: { id: 0, rle, bbox: toBbox(rle), area: area(rle) } };
}

function withDoctorLimits(entry: BackendEntry): BackendOptions {
  const name = parseSpec(entry.spec, "backend").name;
  if (!HTTP_BACKENDS.has(name)) return entry.options;
  // One retry and a bounded wait: the doctor reports, it does not persevere.
  return { retries: 1, timeoutMs: 30_000, backoffMs: 200, ...entry.options };
}

const clip = (s: string, n = 70) => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > n ? line.slice(0, n - 1) + "…" : line;
};

export async function runDoctor(config: GearSegConfig | undefined, flags: Partial<Record<Stage, string>> = {}): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const { image, region } = probeImage();
  for (const { stage, name, entry } of doctorTargets(config, flags)) {
    const started = performance.now();
    const row = (ok: boolean, detail: string): DoctorRow => ({ stage, name, spec: entry.spec, ok, latencyMs: performance.now() - started, detail });
    try {
      const options = withDoctorLimits(entry);
      if (stage === "segmenter") {
        const s = await createSegmenter(entry.spec, options);
        try {
          if (s.recorded) rows.push(row(true, "loaded (reads recorded masks; not run on the probe)"));
          else rows.push(row(true, `${(await s.segment(image)).length} region(s) on the probe image`));
        } finally {
          await s.close?.();
        }
      } else if (stage === "describer") {
        const d = await createDescriber(entry.spec, options);
        try {
          if (parseSpec(entry.spec, "describer").name === "recorded") rows.push(row(true, "loaded (recorded descriptions)"));
          else {
            const [text] = await d.describe(image, [region]);
            const scene = d.caption ? await d.caption(image, [region]) : undefined;
            rows.push(row(true, `"${clip(text ?? "", 50)}"${scene !== undefined ? ` + caption "${clip(scene, 30)}"` : ""}`));
          }
        } finally {
          await d.close?.();
        }
      } else {
        const r = await createReasoner(entry.spec, options);
        try {
          if (parseSpec(entry.spec, "reasoner").name === "recorded") rows.push(row(true, "loaded (recorded answers)"));
          else {
            const answer = await r.reason({
              query: "which region is a fruit?",
              mode: "reasoning",
              scene: "A red apple and a blue cup on a wooden table.",
              regions: [
                { id: 0, description: "A shiny red apple with a short brown stem.", bbox: [20, 14, 20, 20], area: 400 },
                { id: 1, description: "A blue ceramic cup with a handle.", bbox: [44, 10, 12, 16], area: 192 },
              ],
              imageWidth: 64,
              imageHeight: 48,
              maxMasks: 6,
            });
            rows.push(row(true, `mask_ids [${answer.maskIds.join(", ")}]${answer.model ? ` from ${answer.model}` : ""}`));
          }
        } finally {
          await r.close?.();
        }
      }
    } catch (err) {
      rows.push(row(false, describeError(err)));
    }
  }
  return rows;
}

export function formatDoctorTable(rows: readonly DoctorRow[]): string {
  const header = ["stage", "name", "backend", "status", "latency", "detail"];
  const body = rows.map((r) => [r.stage, r.name, clip(r.spec, 48), r.ok ? "ok" : "FAIL", `${Math.round(r.latencyMs)} ms`, r.ok ? clip(r.detail, 100) : r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
