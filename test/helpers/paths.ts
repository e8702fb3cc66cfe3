// Where the tests find the repository and the shared fixtures (../shared beside the repository, read-only).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const sharedDir = resolve(repoRoot, "../shared");

/** The GEAR-Seg reference samples in ../shared. */
export const samples = {
  root: join(sharedDir, "data/gear-seg-samples"),
  names: ["3417356_b6f97b6b6e_o", "4220420_7397afecdb_o", "4537339_3d8e488294_o", "692198_ac99d18ac5_o"],
  image: (name: string) => join(sharedDir, "data/gear-seg-samples/dataset/ReasonSeg_val/images", `${name}.jpg`),
  question: (name: string) => join(sharedDir, "data/gear-seg-samples/dataset/ReasonSeg_val/questions", `${name}.json`),
  masks: (name: string) => join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/sam/masks", name),
  descriptions: (name: string) =>
    join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/dam/descriptions", `${name}.json`),
  answer: (name: string) => join(sharedDir, "data/gear-seg-samples/outputs/reasonseg_task/ReasonSeg_val/answers/json", `${name}.json`),
};

export const photos = {
  cars: join(sharedDir, "data/photos/cars.jpg"),
  groceries: join(sharedDir, "data/photos/groceries.jpg"),
  truck: join(sharedDir, "data/photos/truck.jpg"),
};
