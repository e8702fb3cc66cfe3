/** The common shape of instance-segmentation datasets (YOLO, StrawDI, LabelMe): per image, labelled masks. */
import type { Rle } from "../masks/types.js";

export interface Instance {
  label: string;
  rle: Rle;
}

export interface InstanceImage {
  /** Image file (may be absent for label-only datasets). */
  imagePath?: string;
  /** The annotation file the instances came from. */
  source: string;
  width: number;
  height: number;
  instances: Instance[];
}
