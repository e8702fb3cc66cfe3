import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashFileInto, sha256File } from "./fs.js";

describe("sha256File", () => {
  const dir = mkdtempSync(join(tmpdir(), "gear-seg-fs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("equals the hash of the whole file for empty, one-chunk and many-chunk files of odd lengths", async () => {
    for (const size of [0, 1, 1000, (1 << 18) - 1, 1 << 18, (1 << 20) * 2 + 12345]) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
      const path = join(dir, `f${size}`);
      writeFileSync(path, bytes);
      expect(await sha256File(path)).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
  });

  it("continues a hash already fed (a resumed download)", async () => {
    const path = join(dir, "tail");
    writeFileSync(path, "world");
    const hash = createHash("sha256").update("hello ");
    expect((await hashFileInto(hash, path)).digest("hex")).toBe(createHash("sha256").update("hello world").digest("hex"));
  });

  it("rejects a missing file", async () => {
    await expect(sha256File(join(dir, "missing"))).rejects.toThrow(/ENOENT/);
  });
});
