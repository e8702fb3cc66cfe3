import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/helpers/temp.js";
import { TableStore, type TableKind } from "./tables.js";
import { readWordNet } from "./wordnet-db.js";

/** A table of a source file's bytes reversed: enough to see what is read, computed and written. */
const reversed = (version = 1): TableKind<Uint8Array> => ({
  name: "reversed",
  version,
  decode: (head) => (head.length > 0 ? head : undefined),
  encode: (t) => t,
});

/** A source file, and a tables folder that cannot be made (a folder inside a file cannot exist). */
async function sourceAndUnwritableFolder(): Promise<{ dir: string; source: string; unwritable: string }> {
  const dir = await tempDir();
  const source = join(dir, "source.txt");
  await writeFile(source, "xyz");
  const blocker = join(dir, "a-file");
  await writeFile(blocker, "");
  return { dir, source, unwritable: join(blocker, "tables") };
}

describe("WordNet tables on disk", () => {
  it("computes a table once, reads it back, and computes again when its file is damaged or of another layout", async () => {
    const dir = await tempDir();
    const source = join(dir, "source.txt");
    await writeFile(source, "abcdef");
    const tables = join(dir, "tables");
    let computed = 0;
    const compute = async () => {
      computed++;
      return Uint8Array.from((await readFile(source)).reverse());
    };
    const store = new TableStore(tables);
    expect(Buffer.from(await store.get(reversed(), source, compute)).toString()).toBe("fedcba");
    expect(Buffer.from(await new TableStore(tables).get(reversed(), source, compute)).toString()).toBe("fedcba");
    expect(computed).toBe(1);
    const file = (await store.fileFor(reversed(), source))!;
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = 0x7a; // the body says "fedcbz", its checksum "fedcba"
    await writeFile(file, bytes);
    expect(Buffer.from(await new TableStore(tables).get(reversed(), source, compute)).toString()).toBe("fedcba");
    expect(computed).toBe(2);
    // Another layout version is another file; the old one is removed when the new one is written.
    expect(Buffer.from(await new TableStore(tables).get(reversed(2), source, compute)).toString()).toBe("fedcba");
    expect(computed).toBe(3);
    expect(await readdir(tables)).toEqual([(await store.fileFor(reversed(2), source))!.slice(tables.length + 1)]);
  });

  it("keeps a table in memory when its folder cannot be written", async () => {
    const { source, unwritable } = await sourceAndUnwritableFolder();
    const store = new TableStore(unwritable);
    expect(Buffer.from(await store.get(reversed(), source, async () => Uint8Array.from([1, 2, 3]))).toString("hex")).toBe("010203");
  });

  it("computes a table that only pays across processes only where it can be kept", async () => {
    const { dir, source, unwritable } = await sourceAndUnwritableFolder();
    let computed = 0;
    const compute = async () => {
      computed++;
      return Uint8Array.from([1, 2, 3]);
    };
    const readOnly = new TableStore(unwritable);
    expect(await readOnly.writable()).toBe(false);
    expect(await readOnly.getIfKept(reversed(), source, compute)).toBeUndefined();
    expect(await new TableStore(undefined).getIfKept(reversed(), source, compute)).toBeUndefined();
    expect(computed).toBe(0);
    const kept = new TableStore(join(dir, "tables"));
    expect(Buffer.from((await kept.getIfKept(reversed(), source, compute))!).toString("hex")).toBe("010203");
    expect(Buffer.from((await new TableStore(join(dir, "tables")).getIfKept(reversed(), source, compute))!).toString("hex")).toBe("010203");
    expect(computed).toBe(1);
  });

  it("counts definition words the same with the index kept on disk and by scanning where it cannot be", async () => {
    const tables = await tempDir();
    const indexed = await readWordNet(undefined, tables);
    const scanning = await readWordNet(undefined, null);
    for (const word of ["metal", "car", "window", "road", "of", "wheeled", "x"]) {
      expect(await scanning.glossFrequency(word, "n"), word).toEqual(await indexed.glossFrequency(word, "n"));
    }
    expect((await readdir(tables)).some((f) => f.startsWith("gloss-noun-"))).toBe(true);
  });

  it("reads the noun subtree sizes back equal to the ones a scan of data.noun computes", async () => {
    const tables = await tempDir();
    const scanned = await (await readWordNet(undefined, null)).nounSubtreeSizes();
    await (await readWordNet(undefined, tables)).nounSubtreeSizes(); // computes and writes
    expect((await readdir(tables)).filter((f) => f.startsWith("noun-subtrees-"))).toHaveLength(1);
    const read = await (await readWordNet(undefined, tables)).nounSubtreeSizes();
    expect(read.total).toBe(scanned.total);
    const wn = await readWordNet(undefined, null);
    for (const lemma of ["entity", "car", "dog", "sail", "tomato", "person", "water", "road"]) {
      for (const off of wn.offsets(lemma, "n")) expect(read.size.get(off), lemma).toBe(scanned.size.get(off));
    }
    expect(read.size.get(1)).toBeUndefined();
  });
});
