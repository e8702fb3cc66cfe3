/**
 * `gear-seg doctor`: builds every configured backend and makes one tiny real call to each (a 64×48 probe
 * image with one square region; a two-region question for reasoners), timing it. Recorded backends that read
 * files are only loaded. The CLI prints the rows as a table and exits non-zero when one fails.
 */
import type { RgbImage } from "../image/types.js";
import { area, encode, toBbox } from "../masks/index.js";
import { parseSpec } from "../pipeline/spec.js";
import type { BackendKind, Captioner, Describer, Detector, Reasoner, Region, Segmenter } from "../pipeline/types.js";
import { describeError } from "../util/errors.js";
import { BACKEND_KINDS, resolveStage, type BackendEntry, type GearSegConfig } from "../config/index.js";
import { kindsOf } from "./configured.js";
import { createBackend, speaksHttp, type BackendOptions } from "./registry.js";
import { companionCaptioner, OFFLINE_DEFAULT, wantsDefaultDetector } from "./stack.js";

export interface DoctorRow {
  stage: BackendKind;
  /** Config name, or the stage it is chosen for. */
  name: string;
  spec: string;
  ok: boolean;
  latencyMs: number;
  /** What came back, or why it failed. */
  detail: string;
}

/** The backends to check: each kind's choice (explicit over config, else the default) and every named one. */
export function doctorTargets(config: GearSegConfig | undefined, choices: Partial<Record<BackendKind, string>>): { stage: BackendKind; name: string; entry: BackendEntry }[] {
  const out: { stage: BackendKind; name: string; entry: BackendEntry }[] = [];
  const seen = new Set<string>();
  const add = (stage: BackendKind, name: string, entry: BackendEntry) => {
    if (entry.spec === "none") return;
    const key = `${stage}\u0000${entry.spec}\u0000${JSON.stringify(entry.options)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ stage, name, entry });
  };
  const chosen: Partial<Record<BackendKind, BackendEntry>> = {};
  for (const kind of BACKEND_KINDS) {
    let entry = resolveStage(config, kind, choices[kind]);
    // The default detector only goes with the backends that use one (as the stack builds it).
    const defaulted = kind !== "detector" || wantsDefaultDetector([chosen.segmenter?.spec, chosen.describer?.spec, chosen.captioner?.spec]);
    if (!entry && kind in OFFLINE_DEFAULT && defaulted) entry = { spec: OFFLINE_DEFAULT[kind as keyof typeof OFFLINE_DEFAULT], options: {} };
    if (!entry && kind === "captioner" && chosen.describer) {
      const spec = companionCaptioner(chosen.describer.spec);
      entry = spec === "none" ? undefined : { ...chosen.describer, name: undefined, spec };
    }
    if (!entry) continue;
    chosen[kind] = entry;
    add(kind, entry.name ?? kind, entry);
  }
  for (const [name, entry] of Object.entries(config?.backends ?? {})) {
    const kinds = entry.stage ? [entry.stage] : kindsOf(entry.spec);
    if (kinds.length === 1) add(kinds[0]!, name, entry);
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

function withDoctorLimits(kind: BackendKind, entry: BackendEntry): BackendOptions {
  if (!speaksHttp(kind, parseSpec(entry.spec, kind).name)) return entry.options;
  // One retry and a bounded wait: the doctor reports, it does not persevere.
  return { retries: 1, timeoutMs: 30_000, backoffMs: 200, ...entry.options };
}

const clip = (s: string, n = 70) => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > n ? line.slice(0, n - 1) + "…" : line;
};

export async function runDoctor(config: GearSegConfig | undefined, choices: Partial<Record<BackendKind, string>> = {}): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const { image, region } = probeImage();
  for (const { stage, name, entry } of doctorTargets(config, choices)) {
    const started = performance.now();
    const row = (ok: boolean, detail: string): DoctorRow => ({ stage, name, spec: entry.spec, ok, latencyMs: performance.now() - started, detail });
    const recorded = parseSpec(entry.spec, stage).name === "recorded";
    try {
      const backend = await createBackend(stage, entry.spec, withDoctorLimits(stage, entry), entry.source);
      try {
        rows.push(row(true, await probe(stage, backend, recorded, image, region)));
      } finally {
        await backend.close?.();
      }
    } catch (err) {
      rows.push(row(false, describeError(err)));
    }
  }
  return rows;
}

/** One tiny real call; what came back, in a few words. */
async function probe(stage: BackendKind, backend: unknown, recorded: boolean, image: RgbImage, region: Region): Promise<string> {
  switch (stage) {
    case "segmenter": {
      const s = backend as Segmenter;
      if (s.recorded) return "loaded (reads recorded masks; not run on the probe)";
      return `${(await s.segment(image)).length} region(s) on the probe image`;
    }
    case "describer": {
      if (recorded) return "loaded (recorded descriptions)";
      const [text] = await (backend as Describer).describe(image, [region]);
      return `"${clip(text ?? "", 50)}"`;
    }
    case "captioner":
      if (recorded) return "loaded (recorded caption)";
      return `"${clip(await (backend as Captioner).caption(image, [region]), 50)}"`;
    case "detector": {
      const detections = await (backend as Detector).detect(image);
      return `${detections.length} detection(s) on the probe image (knows ${(backend as Detector).labels.length} classes)`;
    }
    case "reasoner": {
      if (recorded) return "loaded (recorded answers)";
      const answer = await (backend as Reasoner).reason({
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
      return `mask_ids [${answer.maskIds.join(", ")}]${answer.model ? ` from ${answer.model}` : ""}`;
    }
  }
}

export function formatDoctorTable(rows: readonly DoctorRow[]): string {
  const header = ["stage", "name", "backend", "status", "latency", "detail"];
  const body = rows.map((r) => [r.stage, r.name, clip(r.spec, 48), r.ok ? "ok" : "FAIL", `${Math.round(r.latencyMs)} ms`, r.ok ? clip(r.detail, 100) : r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
