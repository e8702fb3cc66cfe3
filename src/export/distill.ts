/**
 * Training students on an exported dataset: the exact command lines for ultralytics YOLOv8-seg and for LISA
 * (dvlab-research/LISA train_ds.py), and running `yolo` when it is installed.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { UsageError } from "../util/errors.js";
import { exportDataset } from "./index.js";

export interface DistillPlan {
  /** What the export wrote (one line). */
  exported: string;
  /** Shell command lines, quoted for a POSIX shell. */
  commands: string[];
  /** The trainer to run here, when it is a single executable. */
  run?: { command: string; args: string[] };
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function distillCommands(
  student: "yolo" | "lisa",
  datasetDir: string,
  outDir: string,
  options: { model?: string; epochs?: string; imgsz?: string; name?: string } = {},
): Promise<DistillPlan> {
  if (student === "yolo") {
    const exported = (await exportDataset(datasetDir, "yolo", outDir)).summary;
    // Training runs go beside the dataset, not into the export: a re-export replaces the export's folder.
    const project = join(datasetDir, "distill-runs");
    const args = ["segment", "train", `data=${outDir}/data.yaml`, `model=${options.model ?? "yolov8s-seg.pt"}`, `epochs=${options.epochs ?? "100"}`, `imgsz=${options.imgsz ?? "640"}`, `project=${project}`];
    return {
      exported,
      commands: ["pip install ultralytics", ["yolo", ...args].map(q).join(" "), ["yolo", "segment", "val", `data=${outDir}/data.yaml`, `model=${project}/train/weights/best.pt`].map(q).join(" ")],
      run: { command: "yolo", args },
    };
  }
  if (student === "lisa") {
    const name = options.name ?? "GearSeg";
    const exported = (await exportDataset(datasetDir, "reasonseg", outDir, { name })).summary;
    // LISA's train_ds.py reads <dataset_dir>/reason_seg/<Name>/{train,val} and explanatory/train.json.
    const train = [
      "deepspeed", "--master_port=24999", "train_ds.py",
      "--version=liuhaotian/llava-llama-2-13b-chat-lightning-preview",
      `--dataset_dir=${outDir}`,
      "--vision_pretrained=PATH_TO_SAM_ViT-H",
      "--dataset=reason_seg",
      "--sample_rates=1",
      `--reason_seg_data=${name}|train`,
      `--val_dataset=${name}|val`,
      "--explanatory=0.1",
      "--exp_name=lisa-gear-seg",
    ];
    return {
      exported,
      commands: ["git clone https://github.com/dvlab-research/LISA && cd LISA && pip install -r requirements.txt", train.map(q).join(" ")],
    };
  }
  throw new UsageError(`unknown student "${String(student)}" (known: yolo, lisa)`);
}

/** Runs the trainer with inherited output; undefined when the executable is not installed. */
export function runIfInstalled(run: { command: string; args: string[] }, log: (line: string) => void): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(run.command, run.args, { stdio: "inherit" });
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") resolve(undefined);
      else {
        log(`${run.command}: ${err.message}`);
        resolve(1);
      }
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}
