/**
 * Files that survive a crash or a power cut whole or not at all: written to a temporary sibling, fsynced,
 * renamed over the target, and the folder fsynced so the rename itself is on disk. `DurableWriter` does the
 * same for files too large to hold in memory (a dataset's items.jsonl, a COCO export): it streams.
 */
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { temporarySibling } from "./fs.js";

async function syncFolder(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } catch {
    // some filesystems refuse fsync on folders; the file itself is on disk
  } finally {
    await d.close();
  }
}

export async function writeDurable(path: string, data: string | Uint8Array): Promise<void> {
  const w = await DurableWriter.open(path);
  try {
    await w.write(data);
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Removes a file and makes the removal itself durable (the folder is fsynced). */
export async function removeDurable(path: string): Promise<void> {
  await rm(path, { force: true });
  await syncFolder(dirname(path));
}

/** Appends `text` to a log file and fsyncs it before returning (the folder too when the append created the file).
 * One write per call with O_APPEND: concurrent appenders never interleave within it. */
export async function appendDurable(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, "a");
  let created = false;
  try {
    created = (await fh.stat()).size === 0;
    await fh.write(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  if (created) await syncFolder(dirname(path));
}

export const writeJsonDurable = (path: string, value: unknown) => writeDurable(path, JSON.stringify(value) + "\n");

const FLUSH_BYTES = 1 << 20;

export class DurableWriter {
  private pending: (string | Uint8Array)[] = [];
  private pendingBytes = 0;
  private done = false;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(path: string): Promise<DurableWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = temporarySibling(path);
    return new DurableWriter(path, tmp, await open(tmp, "w"));
  }

  async write(data: string | Uint8Array): Promise<void> {
    const n = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    this.pending.push(data);
    this.pendingBytes += n;
    this.bytes += n;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.concat(this.pending.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh.write(chunk);
  }

  /** Flushes, fsyncs and renames into place. */
  async commit(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    this.done = true;
    await rename(this.tmp, this.path);
    await syncFolder(dirname(this.path));
  }

  /** Drops the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    if (!this.done) await this.fh.close().catch(() => undefined);
    this.done = true;
    await rm(this.tmp, { force: true });
  }
}
