// What detections say about regions, on a synthetic 100×80 scene whose every expected answer follows from the
// geometry: a car made of two pieces (and the whole car as a third proposal) above a road, the whole image, the
// sky, and a small square a low-scoring dog box fits.
import { describe, expect, it } from "vitest";
import { describeAttributes, sceneObjects } from "../describers/attributes/index.js";
import type { RegionAttributes } from "../describers/attributes/index.js";
import { decode, encode, toBbox } from "../masks/index.js";
import type { Detection, Region } from "../pipeline/types.js";
import { objectRegions } from "../segmenters/classic/object-regions.js";
import { objectInstances } from "./instances.js";
import { objectMasks } from "./object-masks.js";
import { countedName, distinctObjects, objectName, relateObjects } from "./relations.js";

const W = 100;
const H = 80;

function rect(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * W + x] = 1;
  return m;
}

function region(id: number, mask: Uint8Array): Region {
  const rle = encode({ width: W, height: H, data: mask });
  let area = 0;
  for (const v of mask) area += v;
  return { id, rle, bbox: toBbox(rle), area };
}

const union = (...ms: Uint8Array[]) => ms.reduce((u, m) => u.map((v, i) => v | m[i]!), new Uint8Array(W * H));

const pieceA = rect(20, 30, 40, 50); // the car's left half
const pieceB = rect(40, 30, 60, 50); // its right half
const regions = {
  whole: region(0, rect(0, 0, W, H)),
  road: region(1, rect(0, 50, W, H)),
  car: region(2, union(pieceA, pieceB)),
  sky: region(3, rect(0, 0, W, 20)),
  a: region(4, pieceA),
  b: region(5, pieceB),
  square: region(6, rect(75, 5, 95, 25)),
};
const all = Object.values(regions);

const car: Detection = { label: "car", classId: 2, score: 0.8, bbox: [18, 28, 44, 24] };
const truck: Detection = { label: "truck", classId: 7, score: 0.4, bbox: [19, 28, 43, 24] }; // the same object, a worse class
const dog: Detection = { label: "dog", classId: 16, score: 0.35, bbox: [75, 5, 20, 20] };

describe("object masks", () => {
  it("unites the proposals lying inside the box, leaving out what crosses it", () => {
    const [m] = objectMasks(all, [car], W, H);
    expect(m!.pieces).toBe(3); // the car and its two halves; not the road, the sky or the whole image
    expect(Buffer.from(decode(m!.rle!).data).equals(Buffer.from(union(pieceA, pieceB)))).toBe(true);
    expect(m!.area).toBe(800);
  });

  it("proposes the union as one more region only when it is made of several proposals", () => {
    const withoutWhole = [regions.whole, regions.road, regions.sky, regions.a, regions.b];
    const added = objectRegions(withoutWhole, [car, dog], W, H);
    expect(added).toHaveLength(1); // the dog box holds no proposal
    expect(added[0]!.area).toBe(800);
    expect(added[0]!.id).toBe(6);
    expect(added[0]!.predictedIou).toBe(0.8);
    expect(objectRegions([regions.road, regions.a], [car], W, H)).toEqual([]); // one piece is a proposal already
  });
});

describe("region-object relations", () => {
  it("says which region is the car, which are its parts, and what it stands on", () => {
    const rel = relateObjects(all, [car, truck, dog], W, H);
    const of = (r: Region) => rel[all.indexOf(r)]!.map((o) => `${o.kind} ${o.label}`);
    expect(of(regions.car)).toEqual(["is car"]);
    expect(of(regions.a)).toEqual(["part car"]);
    expect(of(regions.b)).toEqual(["part car"]);
    expect(of(regions.road)).toEqual(["holds car"]);
    expect(of(regions.whole)).toEqual([]); // holds the car in it, not on it
    expect(of(regions.sky)).toEqual([]);
    expect(of(regions.square)).toEqual(["is dog"]);
    // The truck box covers the car's place: the better class alone names it.
    expect(rel.flat().some((o) => o.label === "truck")).toBe(false);
  });

  it("keeps one class per object place, best first", () => {
    expect(distinctObjects([truck, dog, car]).map((d) => d.label)).toEqual(["car", "dog"]);
  });

  it("names objects with articles, hedges and counts", () => {
    expect(objectName("apple", 0.9)).toBe("an apple");
    expect(objectName("boat", 0.4)).toBe("possibly a boat");
    expect(countedName("person", 2)).toBe("2 persons");
    expect(countedName("bus", 3)).toBe("3 buses");
    expect(countedName("mouse", 2)).toBe("2 mice");
    expect(countedName("dog", 1)).toBe("a dog");
  });

  it("gives one instance per detection of a wanted class: the region matching the object", () => {
    const found = objectInstances(all, [car, truck, dog], W, H, new Set(["car", "dog", "truck"]));
    expect(found.map((f) => [f.detection.label, f.region.id, Number(f.iou.toFixed(3))])).toEqual([
      ["car", regions.car.id, 1],
      ["dog", regions.square.id, 1],
    ]);
    expect(objectInstances(all, [car, truck], W, H, new Set(["truck"]))).toEqual([]);
  });
});

describe("the attributes describer's words for objects", () => {
  const base: RegionAttributes = {
    colours: [{ name: "red", share: 0.7 }],
    tone: ["dark"],
    size: "large",
    horizontal: "left",
    vertical: "middle",
    spans: [],
    shape: ["horizontal"],
    texture: "smooth",
    superlatives: [],
    contains: [],
  };

  it("makes the object the subject, leads with a hedge, and says what is part of what and on what", () => {
    expect(describeAttributes(base, [{ kind: "is", label: "car", score: 0.8 }])).toBe(
      "A large dark red car, horizontal, at the middle left of the image. Colours: red 70%. Smooth surface.",
    );
    expect(describeAttributes(base, [{ kind: "is", label: "truck", score: 0.4 }])).toBe(
      "A possible truck: a large dark red region, horizontal, at the middle left of the image. Colours: red 70%. Smooth surface.",
    );
    expect(describeAttributes(base, [{ kind: "part", label: "boat", score: 0.55 }])).toBe(
      "A large dark red region, part of a boat, horizontal, at the middle left of the image. Colours: red 70%. Smooth surface.",
    );
    expect(
      describeAttributes(base, [
        { kind: "holds", label: "dog", score: 0.6 },
        { kind: "holds", label: "carrot", score: 0.4 },
        { kind: "holds", label: "carrot", score: 0.35 },
      ]),
    ).toBe("A large dark red region, horizontal, at the middle left of the image, with a dog and what may be 2 carrots on it. Colours: red 70%. Smooth surface.");
    // No detections: the words of old.
    expect(describeAttributes(base)).toBe("A large dark red region, horizontal, at the middle left of the image. Colours: red 70%. Smooth surface.");
  });

  it("lists the detected objects, their counts and places for the caption", () => {
    const persons: Detection[] = [
      { label: "person", classId: 0, score: 0.9, bbox: [5, 5, 10, 10] },
      { label: "person", classId: 0, score: 0.7, bbox: [45, 35, 10, 10] },
    ];
    expect(sceneObjects([car, truck, dog, ...persons], W, H)).toBe("2 persons (at the top left, in the centre); a car in the centre; possibly a dog at the top right");
    expect(sceneObjects([], W, H)).toBe("");
  });
});
