/**
 * How the engine gets each image's regions, descriptions and caption: one agent for the whole run, or — when
 * a spec holds `{stem}` or `{id}` — one built per image from the spec with the image's name filled in, so that
 * per-image recorded outputs (the GEAR-Seg reference's `sam/masks/<name>/`, `dam/descriptions/<name>.json`)
 * can be replayed over a whole folder.
 */
import { basename, extname } from "node:path";
import { createStack, type StackOptions, type StackSpecs } from "../stack/stack.js";
import type { GearSeg } from "../pipeline/agent.js";
import type { ImageEntry } from "./images.js";
import type { Preparer } from "./local.js";

const PLACEHOLDER = /\{(stem|id)\}/;

export function isPerImageSpec(spec: string | undefined): boolean {
  return spec !== undefined && PLACEHOLDER.test(spec);
}

export function fillSpec(spec: string, entry: ImageEntry): string {
  const stem = basename(entry.rel, extname(entry.rel));
  return spec.replace(/\{stem\}/g, stem).replace(/\{id\}/g, entry.id);
}

export interface EnginePreparer {
  prepare: Preparer;
  /** The shared agent (undefined when agents are built per image). */
  agent?: GearSeg;
  close(): Promise<void>;
}

/** A preparer for these stack specs (the reasoner is never used by the engine). */
export async function createPreparer(specs: StackSpecs, options: StackOptions = {}): Promise<EnginePreparer> {
  const perImage = isPerImageSpec(specs.segmenter) || isPerImageSpec(specs.describer);
  const reasonerless: StackSpecs = { ...specs, reasoner: "none" };
  if (!perImage) {
    const { agent } = await createStack(reasonerless, options);
    return { agent, prepare: (entry, signal) => agent.prepare(entry.abs, signal), close: () => agent.close() };
  }
  return {
    prepare: async (entry, signal) => {
      const filled: StackSpecs = {
        ...reasonerless,
        segmenter: reasonerless.segmenter && fillSpec(reasonerless.segmenter, entry),
        describer: reasonerless.describer && fillSpec(reasonerless.describer, entry),
      };
      // The cache belongs to the caller and outlives this per-image agent: do not let close() shut it.
      const { agent } = await createStack(filled, { ...options, cache: null });
      try {
        const prepared = await agent.prepare(entry.abs, signal);
        return prepared;
      } finally {
        await agent.close();
      }
    },
    close: async () => {},
  };
}
