// The streaming tar reader against archives written by GNU tar in the three formats npm tarballs may use
// (ustar, pax, gnu), fed in chunks of awkward sizes so that headers and data straddle chunk boundaries.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { TarExtractor } from "./tar.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function archive(format: "ustar" | "pax" | "gnu"): Promise<{ dir: string; tgz: Buffer; files: Record<string, Buffer> }> {
  const dir = await mkdtemp(join(tmpdir(), `gear-seg-tar-${format}-`));
  const deep = `package/${"long-folder-name/".repeat(format === "ustar" ? 4 : 9)}weights.bin`; // > 100 characters except for ustar
  const files: Record<string, Buffer> = {
    "package/package.json": Buffer.from('{"name":"x"}'),
    "package/models/empty.txt": Buffer.alloc(0),
    "package/models/exact.bin": Buffer.alloc(1024, 7), // a multiple of 512: no padding
    [deep]: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256)),
    "package/models/other.bin": Buffer.alloc(3000, 1),
  };
  for (const [path, body] of Object.entries(files)) {
    await mkdir(join(dir, "src", path, ".."), { recursive: true });
    await writeFile(join(dir, "src", path), body);
  }
  execFileSync("tar", ["czf", join(dir, "a.tgz"), `--format=${format}`, "-C", join(dir, "src"), "package"]);
  return { dir, tgz: await readFile(join(dir, "a.tgz")), files };
}

async function extract(tar: Buffer, wanted: Map<string, string>, chunk: number) {
  const x = new TarExtractor(wanted);
  for (let at = 0; at < tar.length; at += chunk) await x.push(tar.subarray(at, at + chunk));
  return x.finish();
}

describe("TarExtractor", () => {
  it.each(["ustar", "pax", "gnu"] as const)("keeps only the wanted entries of a %s archive, byte for byte", async (format) => {
    const { dir, tgz, files } = await archive(format);
    const tar = gunzipSync(tgz);
    const names = Object.keys(files);
    const deep = names.find((n) => n.endsWith("weights.bin"))!;
    const wanted = new Map([
      [deep, join(dir, "out-deep")],
      ["package/models/exact.bin", join(dir, "out-exact")],
      ["package/models/empty.txt", join(dir, "out-empty")],
    ]);
    for (const chunk of [7, 511, 513, 65536]) {
      const results = await extract(tar, wanted, chunk);
      expect([...results.keys()].sort()).toEqual([...wanted.keys()].sort());
      for (const [name, dest] of wanted) {
        const body = await readFile(dest);
        expect(body.equals(files[name]!)).toBe(true);
        expect(results.get(name)).toEqual({ bytes: files[name]!.length, sha256: sha(files[name]!) });
      }
    }
    // Nothing else was written.
    expect((await readdir(dir)).filter((f) => f.startsWith("out-")).sort()).toEqual(["out-deep", "out-empty", "out-exact"]);
  });

  it("says where a cut-off archive ends, and rejects a corrupt header", async () => {
    const { tgz } = await archive("ustar");
    const tar = gunzipSync(tgz);
    // Cut inside the data of the first regular file after its header.
    await expect(extract(tar.subarray(0, 512 + 100), new Map(), 4096)).rejects.toThrow(/ends inside/);
    const bad = Buffer.from(tar);
    bad[10] = bad[10]! ^ 0xff;
    await expect(extract(bad, new Map(), 4096)).rejects.toThrow(/checksum/);
  });
});
