import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openWordNet } from "./wordnet-db.js";

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
      expect(wn.nounCompounds(head), head).toEqual(want);
    }
    expect(wn.nounCompounds("window")).toContain("bay_window");
    expect(wn.nounCompounds("windo")).toEqual([]);
  });
});
