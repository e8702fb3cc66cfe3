import { readFile, writeFile, copyFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { glossFrequencyByLines } from "../../../test/oracles/gloss-frequency.js";
import { tempDir } from "../../../test/helpers/temp.js";
import { GlossIndex, inMemory } from "./gloss-index.js";
import { defaultDictDir, readWordNet } from "./wordnet-db.js";

const bytes = (word: string) => Buffer.from(word.toLowerCase(), "latin1");

/** A small data file in wndb(5WN)'s shape, with the places where a word search can go wrong. */
const SMALL = [
  "  1 This software and database is being provided to you, the LICENSEE, water water",
  "  2 a licence line | with a bar is still a line without a synset",
  "00000100 05 n 01 water 0 000 | binding agent; the water of a lake (water) waterfall",
  "00000200 05 n 02 water_tower 0 waterworks 0 000 | a tower for water; Water tower",
  "00000300 05 n 01 underwater 0 000 | something underwater;not water,  water  and water",
  "00000400 05 n 01 cart 0 000 | a car; carton, cars and e.g. co-op | not the bar",
  "00000500 05 n 01 nothing 0 000 no bar here water",
  "00000600 05 n 01 end 0 000 | ends in water",
  "00000700 05 n 01 last 0 000 | the last line has no line break: wat",
].join("\n");

const WORDS = ["water", "wat", "water of a lake", "ends in water", "the water of a", "waters", "waterfall", "water tower", "water,", "water;", "(water", "car", "cart", "carton", "cars", "co-op", "e.g.", "the", "bar", "not", "underwater", "licensee", "ends", "line break: wat", "zzz"];

describe("index of definition words", () => {
  it("counts as a line-by-line reading does on a small file with every awkward neighbour", async () => {
    const data = Buffer.from(SMALL, "latin1");
    const index = GlossIndex.build(data);
    const want = glossFrequencyByLines(data, WORDS);
    for (const [k, word] of WORDS.entries()) expect(await index.frequency(inMemory(data), bytes(word)), word).toBe(want[k]!.df);
    expect(index.synsets).toBe(want[0]!.total);
    // Capitals are the caller's business: the bytes are matched as given ("Water tower" is not "water tower").
    expect(await index.frequency(inMemory(data), Buffer.from("Water", "latin1"))).toBe(1);
    // Words the index does not hold: the caller scans.
    for (const word of ["wa", "a", "", " water", "a\nb", "x | y"]) expect(await index.frequency(inMemory(data), bytes(word)), word).toBeUndefined();
  });

  it("counts as a line-by-line reading does on data.noun, for real gloss words, their prefixes and extensions", async () => {
    const data = await readFile(join(defaultDictDir(), "data.noun"));
    const index = GlossIndex.build(data);
    // Every 24989th gloss word of the file (punctuation kept), a prefix of it and a longer form, and some by hand.
    const tokens = data
      .toString("latin1")
      .split("\n")
      .flatMap((line) => (line.includes(" | ") ? line.slice(line.indexOf(" | ") + 3).split(" ") : []));
    const words = new Set(["road", "tree", "window", "use", "used", "the", "water", "street light", "co-op", "means of transportation", "a vessel that"]);
    for (let k = 0; k < tokens.length; k += 24989) {
      const t = tokens[k]!.toLowerCase();
      if (t.length < 3 || t.includes("|")) continue;
      words.add(t);
      words.add(t.slice(0, 3));
      words.add(t + "s");
    }
    const list = [...words];
    expect(list.length).toBeGreaterThan(50);
    const want = glossFrequencyByLines(data, list);
    for (const [k, word] of list.entries()) expect(await index.frequency(inMemory(data), bytes(word)), word).toBe(want[k]!.df);
    expect(index.synsets).toBe(want[0]!.total);
  });

  it("is read back from its table file one group at a time, and a damaged file is never believed", async () => {
    const dict = await tempDir();
    for (const f of ["index.noun", "index.verb", "index.adj", "index.adv", "data.noun"]) await copyFile(join(defaultDictDir(), f), join(dict, f));
    const tables = await tempDir();
    const built = await readWordNet(dict, tables);
    // Words longer than a record's twelve bytes read their candidate lines: a few ("transportation"), or more than
    // are read one line start at a time ("characterized", 444 candidates; "characteristic", 245).
    const words = ["water", "travel", "wat", "e.g.", "ox", "street light", "transportation", "characteristic", "characterized", "classification"];
    const want = [];
    for (const w of words) want.push(await built.glossFrequency(w, "n"));
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(tables)).filter((f) => f.startsWith("gloss-noun-"));
    expect(files).toHaveLength(1);
    // Another process reads the file; without tables, every word is counted the same.
    const read = await readWordNet(dict, tables);
    const none = await readWordNet(dict, null);
    for (const [k, w] of words.entries()) {
      expect(await read.glossFrequency(w, "n"), w).toEqual(want[k]);
      expect(await none.glossFrequency(w, "n"), w).toEqual(want[k]);
    }
    // Positions out of order or outside data.noun: no group is believed (every word is counted by a scan).
    const file = join(tables, files[0]!);
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    damaged.fill(0xff, 20 + GlossIndex.HEAD_BYTES);
    await writeFile(file, damaged);
    const afterDamage = await readWordNet(dict, tables);
    for (const [k, w] of words.entries()) expect(await afterDamage.glossFrequency(w, "n"), w).toEqual(want[k]);
    // A damaged head: the table is built again and written over.
    damaged.set(original);
    damaged[40] = damaged[40]! ^ 0xff;
    await writeFile(file, damaged);
    const rebuilt = await readWordNet(dict, tables);
    expect(await rebuilt.glossFrequency("water", "n")).toEqual(want[0]);
    expect((await readFile(file)).equals(original)).toBe(true);
    // Another state of data.noun (its time changed): a new file, and the old one goes.
    await utimes(join(dict, "data.noun"), new Date(), new Date(Date.now() + 60_000));
    const again = await readWordNet(dict, tables);
    expect(await again.glossFrequency("water", "n")).toEqual(want[0]);
    const now = (await readdir(tables)).filter((f) => f.startsWith("gloss-noun-"));
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(files[0]);
  });
});
