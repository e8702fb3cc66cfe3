import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IndexFile, openWordNet, readWordNet } from "./wordnet-db.js";

describe("WordNet index files", () => {
  it("finds the compounds ending in a long word (searched by its first letters) as a line-by-line reading does", async () => {
    const wn = await openWordNet();
    const lemmas = (await readFile(join(wn.dictDir, "index.noun"), "utf8"))
      .split("\n")
      .filter((line) => line.length > 0 && !line.startsWith(" "))
      .map((line) => line.slice(0, line.indexOf(" ")));
    // Heads of five letters and more: the search looks for "_windo" and compares the rest.
    for (const head of ["window", "windo", "transportation", "vessel", "container", "light", "lights", "wind"]) {
      const want = lemmas.filter((l) => l.lastIndexOf("_") > 0 && l.slice(l.lastIndexOf("_") + 1) === head);
      expect(await wn.nounCompounds(head), head).toEqual(want);
    }
    expect(await wn.nounCompounds("window")).toContain("bay_window");
    expect(await wn.nounCompounds("windo")).toEqual([]);
  });
});

describe("WordNet index look-ups", () => {
  it("finds every lemma of each index file with its line's offsets, and nothing that is no lemma", async () => {
    const wn = await openWordNet();
    for (const file of ["index.noun", "index.verb", "index.adj", "index.adv"]) {
      const bytes = await readFile(join(wn.dictDir, file));
      const index = new IndexFile(bytes);
      const lines = bytes
        .toString("latin1")
        .split("\n")
        .filter((line) => line.length > 0 && !line.startsWith(" "));
      const lemmas = new Set<string>();
      for (const line of lines) {
        const t = line.trimEnd().split(" ");
        const synsets = Number(t[2]);
        const offsets = t.slice(t.length - synsets).map(Number);
        lemmas.add(t[0]!);
        expect(index.get(t[0]!)?.offsets, `${file} ${t[0]}`).toEqual(offsets);
      }
      // Neighbours of lemmas that are not lemmas themselves: each search ends between two lines.
      for (const lemma of [...lemmas].filter((_, k) => k % 7 === 0)) {
        for (const other of [lemma + "a", lemma.slice(0, -1), lemma + "_", lemma + " x", "~" + lemma, lemma.replace(/.$/, "~")]) {
          expect(index.get(other) !== undefined, `${file} ${other}`).toBe(lemmas.has(other));
        }
      }
      expect(index.get("")).toBeUndefined();
    }
  });
});

describe("WordNet data files", () => {
  it("reads a synset at its offset as the whole file's line says, the longest line included", async () => {
    const byLine = await readWordNet(undefined, null);
    const whole = await readWordNet(undefined, null);
    await whole.glossSearch("means of transportation", "n"); // a scan: data.noun is now read whole
    const text = (await readFile(join(byLine.dictDir, "data.noun"))).toString("latin1");
    const lines = text.split("\n").filter((l) => l.length > 0 && !l.startsWith(" "));
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a));
    expect(longest.length).toBeGreaterThan(4096); // longer than one read: the reader reads on
    const sample = [longest, lines[0]!, lines[lines.length - 1]!, ...lines.filter((_, k) => k % 9973 === 0)];
    for (const line of sample) {
      const offset = Number(line.slice(0, line.indexOf(" ")));
      const a = await byLine.synset(offset, "n");
      expect(a, line.slice(0, 30)).toEqual(await whole.synset(offset, "n"));
      expect(a.offset).toBe(offset);
    }
    // Read ahead together (a run of neighbours with the longest line inside it, the last lines, lines far apart,
    // offsets that start no line and offsets outside the file): the same synsets, and the same refusals.
    const ahead = await readWordNet(undefined, null);
    const inside = Number(lines[1]!.slice(0, lines[1]!.indexOf(" "))) + 1;
    const k0 = lines.indexOf(longest);
    const near = [...lines.slice(Math.max(0, k0 - 40), k0 + 3), ...lines.slice(-5), ...lines.filter((_, k) => k % 4999 === 0)];
    const offsets = near.map((line) => Number(line.slice(0, line.indexOf(" "))));
    ahead.prefetch([...offsets, inside, text.length + 10, -1].map((offset) => ({ offset, pos: "n" as const })));
    for (const offset of offsets) expect(ahead.readSynset(offset, "n"), String(offset)).toEqual(await byLine.synset(offset, "n"));
    expect(ahead.readSynset(inside, "n")).toBeUndefined();
    await expect(ahead.synset(inside, "n")).rejects.toThrow(/no synset at byte offset/);
    await expect(byLine.synset(text.length + 10, "n")).rejects.toThrow(/data\.noun: offset .* is out of range/);
    await expect(byLine.synset(text.indexOf(lines[1]!) + 1, "n")).rejects.toThrow(/no synset at byte offset/);
  });
});
