/**
 * Oracle for `WordNet.glossFrequency`: line by line, a synset counts for a word when its gloss (from the first
 * " | " of its line on) holds " " + word; synset lines are those that do not start with a space (the licence
 * does). One reading of the file for all the words.
 */
export function glossFrequencyByLines(data: Buffer, words: readonly string[]): { df: number; total: number }[] {
  const needles = words.map((w) => " " + w.toLowerCase());
  const df = needles.map(() => 0);
  let total = 0;
  for (const line of data.toString("latin1").split("\n")) {
    if (line.length === 0) continue;
    if (line[0] !== " ") total++;
    const bar = line.indexOf(" | ");
    if (bar < 0) continue;
    needles.forEach((needle, k) => {
      if (line.indexOf(needle, bar) >= 0) df[k]!++;
    });
  }
  return df.map((n) => ({ df: n, total }));
}
