/**
 * Auto-labelling without an LLM: a detector labels its own classes (COCO's, for the offline default's
 * NanoDet-g). Every detection of a wanted class gives the region that best matches the object's mask
 * (src/detections/instances.ts), one instance each. `gear-seg label IMAGES --keyword car` runs this.
 */
import type { InstanceLabel, InstancesRecord } from "../datasets/gear-seg.js";
import { objectInstances } from "../detections/instances.js";
import type { RgbImage } from "../image/types.js";
import { toBbox, toCocoRle } from "../masks/index.js";
import type { PreparedImage } from "../pipeline/agent.js";
import type { Detector } from "../pipeline/types.js";
import { GearSegError, UsageError } from "../util/errors.js";
import { stage } from "./failures.js";
import { normalizeClass } from "./label.js";

// Typed from the record format rather than imported from ./tasks.ts, which imports this module: what the
// detector needs of a label task, and the image's identity in its dataset (tasks.ts's ImageIdentity).
type DetectorLabelTask = { keyword: string; classes?: readonly string[] };
type ImageIdentity = Pick<InstancesRecord, "image_id" | "image" | "root" | "image_sha256" | "split">;

/** The detector's class names for the wanted classes (compared as normalised names); every one must be known. */
export function detectorClasses(detector: Detector | null | undefined, wanted: readonly string[]): Map<string, string> {
  if (!detector) throw new UsageError("labelling needs an LLM (option llm) or a detector for the classes it knows");
  const known = new Map(detector.labels.map((l) => [normalizeClass(l), l]));
  const unknown = wanted.filter((c) => !known.has(c));
  if (unknown.length) {
    throw new UsageError(
      `without an LLM (option llm) only the detector's classes can be labelled; ${detector.spec} does not know ${unknown.map((c) => `"${c}"`).join(", ")} (it knows ${detector.labels.length} COCO classes, e.g. person, car, dog)`,
    );
  }
  return new Map(wanted.map((c) => [known.get(c)!, c]));
}

/** One image's instances record, labelled by the detector. */
export async function runDetectorLabel(task: DetectorLabelTask, prepared: PreparedImage, detector: Detector | undefined, identity: ImageIdentity): Promise<InstancesRecord> {
  if (!detector) throw new GearSegError("labelling without an LLM needs the stack's detector, and this executor has none");
  const wanted = detectorClasses(detector, task.classes ?? [normalizeClass(task.keyword)]);
  // The agent's own pixels when it decoded them (the detector then knows the image); else decoded here.
  const image: RgbImage = (prepared as { image?: RgbImage }).image ?? (await prepared.loadImage());
  const detections = await stage("detect", () => detector.detect(image));
  const found = objectInstances(prepared.regions, detections, prepared.width, prepared.height, new Set(wanted.keys()));
  const instances: InstanceLabel[] = found.map((f) => ({
    id: `${identity.image_id}#${f.region.id}`,
    category: wanted.get(f.detection.label)!,
    region_id: f.region.id,
    note: `${detector.spec}: ${f.detection.label} ${f.detection.score.toFixed(2)}, region matches the object's mask at IoU ${f.iou.toFixed(2)}`,
    mask: toCocoRle(f.region.rle),
    area: f.region.area,
    bbox: toBbox(f.region.rle),
  }));
  const missed = detections.filter((d) => wanted.has(d.label)).length - found.length;
  return {
    kind: "instances",
    ...identity,
    width: prepared.width,
    height: prepared.height,
    regions: prepared.regions.length,
    model: detector.fingerprint ?? detector.spec,
    instances,
    parts_dropped: 0,
    unlabelled: prepared.regions.length - instances.length,
    notes: missed > 0 ? [`${missed} detection(s) of the wanted classes matched no region well enough`] : [],
    finished: new Date().toISOString(),
  };
}
