/**
 * The stage cache with the entries of the last few images kept in memory: a second query on an image this
 * process has just prepared reads its regions, descriptions and caption without going to the store (reading
 * and verifying 200 regions' runs from SQLite takes longer than answering the query). The entries are the
 * store's own, under the same keys, so an answer is the same either way; writes go through to the store.
 */
import type { CachedImage, StageCache } from "./stage-cache.js";
import type { Region } from "./types.js";

/** Entries of each kind kept (about one image's worth each: the regions of a big image are megabytes). */
const KEPT = 2;

/** The `capacity` most recently used entries. */
export class Recent<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity = KEPT) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

export class RecentStages implements StageCache {
  readonly store: StageCache;
  private readonly images = new Recent<CachedImage>();
  private readonly regions = new Recent<readonly Region[]>();
  private readonly descriptions = new Recent<readonly string[]>();
  private readonly captions = new Recent<string>();

  constructor(store: StageCache) {
    this.store = store;
  }

  async getImage(fileKey: string): Promise<CachedImage | undefined> {
    return remembered(this.images, fileKey, () => this.store.getImage(fileKey));
  }

  async putImage(fileKey: string, value: CachedImage): Promise<void> {
    await this.store.putImage(fileKey, value);
    this.images.set(fileKey, { ...value });
  }

  /** The same array to every caller: a caller must not change it (the agent copies what it hands out). */
  async getRegions(imageKey: string, segmenterKey: string): Promise<Region[] | undefined> {
    return (await remembered(this.regions, pair(imageKey, segmenterKey), () => this.store.getRegions(imageKey, segmenterKey))) as Region[] | undefined;
  }

  async putRegions(imageKey: string, segmenterKey: string, regions: readonly Region[]): Promise<void> {
    await this.store.putRegions(imageKey, segmenterKey, regions);
    this.regions.set(pair(imageKey, segmenterKey), regions);
  }

  async getDescriptions(regionsKey: string, describerKey: string): Promise<string[] | undefined> {
    const found = await remembered(this.descriptions, pair(regionsKey, describerKey), () => this.store.getDescriptions(regionsKey, describerKey));
    return found && [...found];
  }

  async putDescriptions(regionsKey: string, describerKey: string, descriptions: readonly string[]): Promise<void> {
    await this.store.putDescriptions(regionsKey, describerKey, descriptions);
    this.descriptions.set(pair(regionsKey, describerKey), [...descriptions]);
  }

  async getCaption(regionsKey: string, captionerKey: string): Promise<string | undefined> {
    return remembered(this.captions, pair(regionsKey, captionerKey), () => this.store.getCaption(regionsKey, captionerKey));
  }

  async putCaption(regionsKey: string, captionerKey: string, caption: string): Promise<void> {
    await this.store.putCaption(regionsKey, captionerKey, caption);
    this.captions.set(pair(regionsKey, captionerKey), caption);
  }

  async close(): Promise<void> {
    await this.store.close?.();
  }
}

const pair = (a: string, b: string) => `${a}\n${b}`;

async function remembered<V>(recent: Recent<V>, key: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
  const kept = recent.get(key);
  if (kept !== undefined) return kept;
  const value = await read();
  if (value !== undefined) recent.set(key, value);
  return value;
}
