/**
 * Dataset review under `--data DIR`: the gear-seg datasets found in DIR (a folder with a manifest, up to two
 * levels down), their items paged and filtered, each item's image, the image's regions, and review changes
 * (src/engine/review.ts writes them into the dataset).
 *
 * Paths: a dataset is only ever one that the scan found inside DIR (symbolic links followed only when they
 * stay inside); an image is served only when its real path lies inside DIR or inside the dataset's images
 * folder and it has an image extension. Item and image ids from URLs only select entries of the index.
 *
 * An index of every item (id, split, type, confidence, review status: about 100 bytes each) is kept per
 * dataset and rebuilt when the records folder changes; a page reads only its items' records.
 */
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { pathExists } from "../util/fs.js";
import { extname, join, relative, sep } from "node:path";
import type { Hono, MiddlewareHandler } from "hono";
import { eachRecord, readManifest, recordPath, type Manifest, type ReasoningRecord } from "../datasets/gear-seg.js";
import { IMAGE_EXTENSIONS } from "../engine/images.js";
import { createPreparer, type EnginePreparer } from "../engine/prepare.js";
import { reviewItem, reviewStatusOf, type ReviewedItem, type ReviewStatus } from "../engine/review.js";
import { imageHeader } from "../image/decode.js";
import { toCocoRle } from "../masks/index.js";
import type { Rle } from "../masks/types.js";
import type { Region } from "../pipeline/types.js";
import { GearSegError } from "../util/errors.js";
import { readJson, reply } from "./validate.js";
import * as D from "./dataset-schemas.js";
import { HttpError } from "./http-error.js";
import type { WorkQueue } from "./queue.js";
import { isWithin } from "./security.js";
import { saveAnswerItem } from "./dataset-save.js";
import type { Workspace } from "./workspace.js";

interface IndexEntry {
  id: string;
  imageId: string;
  split: string;
  type: string;
  confidence: number;
  status: ReviewStatus | "unreviewed";
}

interface DatasetIndex {
  name: string;
  dir: string;
  manifest: Manifest;
  entries: IndexEntry[];
  byId: Map<string, IndexEntry>;
  /** Per image: where it is, its size, how many regions its record noted and the segmenter that made them. */
  images: Map<string, { rel: string; root: number; width: number; height: number; regions: number; segmenter: string }>;
  recordsStamp: number;
}

type Counts = { unreviewed: number; accepted: number; rejected: number };

const MAX_DEPTH = 2;
/** Regions of this many images are kept for reviews that change region ids. */
const REGION_CACHE = 16;

export interface DatasetRoutesOptions {
  /** Computing an image's regions again (for a changed mask) is heavy work: it goes through this queue. */
  queue: WorkQueue;
}

export class DatasetRoutes {
  private readonly indexes = new Map<string, Promise<DatasetIndex>>();
  private readonly preparers = new Map<string, Promise<EnginePreparer>>();
  private readonly regionCache = new Map<string, Promise<Region[]>>();

  private constructor(
    readonly root: string,
    private readonly o: DatasetRoutesOptions,
  ) {}

  static async create(dataDir: string, o: DatasetRoutesOptions): Promise<DatasetRoutes> {
    let root: string;
    try {
      root = await realpath(dataDir);
    } catch {
      throw new GearSegError(`data folder "${dataDir}" does not exist`, { exitCode: 2 });
    }
    if (!(await stat(root)).isDirectory()) throw new GearSegError(`data folder "${dataDir}" is not a folder`, { exitCode: 2 });
    return new DatasetRoutes(root, o);
  }

  /** Names (relative paths with "/") of the dataset folders inside the root. */
  async scan(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const walk = async (dir: string, depth: number) => {
      if (await stat(join(dir, "manifest.json")).catch(() => null)) {
        const name = relative(this.root, dir).split(sep).join("/") || ".";
        found.set(name, dir);
        return;
      }
      if (depth >= MAX_DEPTH) return;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.name.startsWith(".")) continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p, depth + 1);
        else if (e.isSymbolicLink()) {
          const real = await realpath(p).catch(() => null);
          if (real && isWithin(this.root, real) && (await stat(real)).isDirectory()) await walk(p, depth + 1);
        }
      }
    };
    await walk(this.root, 0);
    return found;
  }

  mount(app: Hono, { jsonLimit, workspace }: { jsonLimit: MiddlewareHandler; workspace: Workspace }): void {
    app.get("/api/datasets", async (c) => {
      const out = [];
      for (const name of (await this.scan()).keys()) {
        try {
          out.push(this.summary(await this.index(name)));
        } catch {
          // A folder whose manifest cannot be read is not listed; opening it names the reason.
        }
      }
      return reply(c, D.DatasetList, { datasets: out });
    });

    app.get("/api/datasets/:dataset", async (c) => reply(c, D.DatasetSummary, this.summary(await this.index(c.req.param("dataset")))));

    app.get("/api/datasets/:dataset/items", async (c) => {
      const ix = await this.index(c.req.param("dataset"));
      const parsed = D.ItemQuery.safeParse(c.req.query());
      if (!parsed.success) throw new HttpError(400, `invalid query: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      const q = parsed.data;
      const matching = ix.entries.filter(
        (e) =>
          (q.split === undefined || e.split === q.split) &&
          (q.type === undefined || e.type === q.type) &&
          (q.status === undefined || e.status === q.status) &&
          (q.min_confidence === undefined || e.confidence >= q.min_confidence) &&
          (q.max_confidence === undefined || e.confidence <= q.max_confidence),
      );
      const page = matching.slice(q.offset, q.offset + q.limit);
      const items = await this.readItems(ix, page);
      return reply(c, D.ItemPage, { dataset: ix.name, total: matching.length, offset: q.offset, limit: q.limit, items, review: counts(ix) });
    });

    app.post("/api/datasets/:dataset/items/:item/review", jsonLimit, async (c) => {
      const ix = await this.index(c.req.param("dataset"));
      const entry = ix.byId.get(c.req.param("item"));
      if (!entry) throw new HttpError(404, `no item "${c.req.param("item")}" in dataset ${ix.name}`);
      const body = await readJson(c, D.ReviewRequest);
      const item = await reviewItem(
        ix.dir,
        entry.id,
        { status: body.status, regionIds: body.region_ids },
        { regions: (record) => this.regionsOf(ix, record.image_id, record, c.req.raw.signal).then(byId) },
      );
      entry.status = reviewStatusOf(item);
      return reply(c, D.ReviewReply, { item: this.itemJson(ix, item), review: counts(ix) });
    });

    app.post("/api/datasets/:dataset/items", jsonLimit, async (c) => {
      const body = await readJson(c, D.SaveAnswerRequest);
      const name = c.req.param("dataset");
      const entry = workspace.require(body.image_id);
      const prepared = workspace.requireReady(entry);
      const answer = workspace.answer(entry, body.answer_id);
      const dir = await this.datasetFolder(name, body.create === true);
      const bytes = await readFile(entry.file);
      const header = await imageHeader(bytes);
      const r = answer.result;
      const agent = workspace.agent;
      const { item, created } = await saveAnswerItem(
        dir,
        {
          image: { bytes, name: entry.name, format: header?.format ?? "", width: entry.width, height: entry.height },
          regions: prepared.regions.length,
          query: r.query,
          maskIds: r.maskIds,
          explanation: r.explanation,
          mask: r.mask,
          reasoningType: body.reasoning_type,
          segmenter: agent.segmenter.spec,
          describer: agent.describer?.spec ?? null,
          chosenBy: answer.corrected ? "manual" : r.reasoner,
          model: answer.corrected ? null : (r.model ?? null),
        },
        { create: body.create },
      );
      // The records folder changed: the index is rebuilt now rather than trusting its timestamp.
      this.indexes.delete(name);
      const ix = await this.index(name);
      return reply(c, D.SaveAnswerReply, { dataset: ix.name, created, item: this.itemJson(ix, item), review: counts(ix) }, 201);
    });

    app.get("/api/datasets/:dataset/images/:image/regions", async (c) => {
      const ix = await this.index(c.req.param("dataset"));
      const imageId = c.req.param("image");
      const image = ix.images.get(imageId);
      if (!image) throw new HttpError(404, `no image "${imageId}" in dataset ${ix.name}`);
      const regions = await this.regionsOf(ix, imageId, undefined, c.req.raw.signal);
      return reply(c, D.ImageRegions, {
        image_id: imageId,
        width: image.width,
        height: image.height,
        regions: regions.map((r) => ({ id: r.id, bbox: r.bbox, area: r.area, segmentation: toCocoRle(r.rle) })),
      });
    });

    app.get("/api/datasets/:dataset/images/:image", async (c) => {
      const ix = await this.index(c.req.param("dataset"));
      const imageId = c.req.param("image");
      if (!ix.images.has(imageId)) throw new HttpError(404, `no image "${imageId}" in dataset ${ix.name}`);
      const path = await this.imagePath(ix, imageId);
      const bytes = await readFile(path);
      const header = await imageHeader(bytes);
      c.header("Content-Type", `image/${header?.format ?? "octet-stream"}`);
      c.header("Cache-Control", "private, max-age=3600");
      return c.body(new Uint8Array(bytes));
    });
  }

  async close(): Promise<void> {
    const preparers = await Promise.allSettled(this.preparers.values());
    for (const p of preparers) if (p.status === "fulfilled") await p.value.close();
    this.preparers.clear();
  }

  private summary(ix: DatasetIndex): D.DatasetSummaryJson {
    const splits: Record<string, number> = {};
    const types: Record<string, number> = {};
    for (const e of ix.entries) {
      splits[e.split] = (splits[e.split] ?? 0) + 1;
      types[e.type] = (types[e.type] ?? 0) + 1;
    }
    const m = ix.manifest;
    return {
      name: ix.name,
      kind: m.kind,
      reviewable: m.kind === "reasoning",
      created: m.created,
      updated: m.updated,
      generation: { segmenter: m.generation.segmenter, describer: m.generation.describer, llm: m.generation.llm },
      images: ix.images.size,
      items: ix.entries.length,
      splits,
      types,
      review: counts(ix),
    };
  }

  /**
   * The folder of dataset `name`: one the scan found, or with `create`, a new folder directly inside the data
   * folder (a plain name; not a folder that exists without being a dataset).
   */
  private async datasetFolder(name: string, create: boolean): Promise<string> {
    const dir = (await this.scan()).get(name);
    if (dir) {
      if (!isWithin(this.root, await realpath(dir))) throw new HttpError(403, `dataset "${name}" leads outside the data folder (symbolic link)`);
      return dir;
    }
    if (name.split("/").includes("..") || name.startsWith("/")) throw new HttpError(403, `dataset "${name}" is outside the data folder`);
    if (!create) throw new HttpError(404, `no dataset "${name}" under the data folder (set "create" to start one)`);
    if (!/^[\p{L}\p{N}][\p{L}\p{N}._-]{0,63}$/u.test(name)) {
      throw new HttpError(400, `a new dataset's name is one folder name of letters, digits, ".", "_" and "-" (at most 64), not "${name}"`);
    }
    const target = join(this.root, name);
    if (await pathExists(target)) throw new HttpError(409, `"${name}" in the data folder is not a dataset: choose another name`);
    return target;
  }

  /** The dataset's index, rebuilt when its records folder changed (a generate run adding images). */
  private async index(name: string): Promise<DatasetIndex> {
    const dir = (await this.scan()).get(name);
    if (!dir) {
      if (name.split("/").includes("..") || name.startsWith("/")) throw new HttpError(403, `dataset "${name}" is outside the data folder`);
      throw new HttpError(404, `no dataset "${name}" under the data folder`);
    }
    const real = await realpath(dir);
    if (!isWithin(this.root, real)) throw new HttpError(403, `dataset "${name}" leads outside the data folder (symbolic link)`);
    const stamp = (await stat(join(real, "records")).catch(() => null))?.mtimeMs ?? 0;
    const known = this.indexes.get(name);
    if (known) {
      const ix = await known.catch(() => null);
      if (ix && ix.recordsStamp === stamp) return ix;
    }
    const built = this.build(name, real, stamp);
    this.indexes.set(name, built);
    built.catch(() => this.indexes.delete(name));
    return built;
  }

  private async build(name: string, dir: string, recordsStamp: number): Promise<DatasetIndex> {
    const manifest = await readManifest(dir);
    const entries: IndexEntry[] = [];
    const images: DatasetIndex["images"] = new Map();
    if (manifest.kind === "reasoning") {
      // A damaged record is moved aside (the engine redoes its image); the index goes on without it.
      for await (const r of eachRecord(dir, { onDamaged: () => {} })) {
        if (r.kind !== "reasoning") continue;
        images.set(r.image_id, { rel: r.image, root: r.root ?? 0, width: r.width, height: r.height, regions: r.regions, segmenter: r.segmenter ?? manifest.generation.segmenter });
        for (const item of r.items as ReviewedItem[]) {
          entries.push({ id: item.id, imageId: r.image_id, split: item.split, type: item.reasoning_type, confidence: item.confidence, status: reviewStatusOf(item) });
        }
      }
      entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    return { name, dir, manifest, entries, byId: new Map(entries.map((e) => [e.id, e])), images, recordsStamp };
  }

  private async readItems(ix: DatasetIndex, page: IndexEntry[]): Promise<D.ItemJson[]> {
    const records = new Map<string, ReasoningRecord>();
    for (const e of page) {
      if (records.has(e.imageId)) continue;
      const text = await readFile(recordPath(ix.dir, e.imageId), "utf8");
      records.set(e.imageId, JSON.parse(text) as ReasoningRecord);
    }
    return page.map((e) => {
      const item = records.get(e.imageId)!.items.find((i) => i.id === e.id);
      if (!item) throw new GearSegError(`item "${e.id}" left its record while the page was read`);
      return this.itemJson(ix, item);
    });
  }

  /** An item as the API shows it: the record's fields (without its generation details), its image's URL and its
   * review (null when unreviewed). */
  private itemJson(ix: DatasetIndex, item: ReviewedItem): D.ItemJson {
    const { generation: _generation, review, ...fields } = item;
    return { ...fields, image_url: `/api/datasets/${encodeURIComponent(ix.name)}/images/${encodeURIComponent(item.image_id)}`, review: review ?? null };
  }

  /** The image file of an item: inside the data folder or the dataset's images folder, with an image extension. */
  private async imagePath(ix: DatasetIndex, imageId: string): Promise<string> {
    const { rel, root } = ix.images.get(imageId)!;
    if (!IMAGE_EXTENSIONS.includes(extname(rel).toLowerCase())) throw new HttpError(403, `"${rel}" is not an image file`);
    const rootDir = ix.manifest.images_roots[root];
    if (rootDir === undefined) throw new HttpError(404, `image "${rel}" of dataset ${ix.name} names images root ${root}, which the manifest does not list`);
    const imagesRoot = await realpath(rootDir).catch(() => null);
    const candidate = join(rootDir, rel);
    const real = await realpath(candidate).catch(() => null);
    if (!real) throw new HttpError(404, `image "${rel}" of dataset ${ix.name} is missing (${candidate})`);
    if (!isWithin(this.root, real) && !(imagesRoot && isWithin(imagesRoot, real))) {
      throw new HttpError(403, `image "${rel}" of dataset ${ix.name} lies outside the data folder and the dataset's images folder`);
    }
    return real;
  }

  /**
   * The image's regions as the dataset was generated: the segmenter that made them run again (the manifest's,
   * per-image specs such as masks:<dir>/{stem} filled in, or the record's own for an answer saved from the web
   * app), checked against the number of regions the record noted.
   */
  private regionsOf(ix: DatasetIndex, imageId: string, record: ReasoningRecord | undefined, signal: AbortSignal): Promise<Region[]> {
    const key = `${ix.dir}\0${imageId}`;
    let p = this.regionCache.get(key);
    if (p) {
      this.regionCache.delete(key);
    } else {
      p = this.o.queue.submit(async (s) => {
        const image = ix.images.get(imageId)!;
        const preparer = await this.preparer(image.segmenter);
        const abs = await this.imagePath(ix, imageId);
        const prepared = await preparer.prepare({ id: imageId, rel: image.rel, abs, root: image.root }, s);
        const expected = record?.regions ?? image.regions;
        if (prepared.regions.length !== expected) {
          throw new HttpError(
            409,
            `the segmenter ${image.segmenter} now gives ${prepared.regions.length} regions for image "${imageId}", the dataset was generated with ${expected}: region ids cannot be changed safely`,
          );
        }
        return prepared.regions;
      }, signal);
      p.catch(() => this.regionCache.delete(key));
    }
    this.regionCache.set(key, p);
    while (this.regionCache.size > REGION_CACHE) this.regionCache.delete(this.regionCache.keys().next().value!);
    return p;
  }

  /** One preparer per segmenter spec: the manifest's, or a record's own (answers saved from the web app). */
  private preparer(segmenter: string): Promise<EnginePreparer> {
    let p = this.preparers.get(segmenter);
    if (!p) {
      p = createPreparer({ segmenter, describer: "none", reasoner: "none" }, { cache: null });
      p.catch(() => this.preparers.delete(segmenter));
      this.preparers.set(segmenter, p);
    }
    return p;
  }
}

function counts(ix: DatasetIndex): Counts {
  const c: Counts = { unreviewed: 0, accepted: 0, rejected: 0 };
  for (const e of ix.entries) c[e.status]++;
  return c;
}

const byId = (regions: Region[]): ReadonlyMap<number, Rle> => new Map(regions.map((r) => [r.id, r.rle]));

