import { describe, expect, it } from "vitest";
import { MadeAhead } from "./concurrency.js";

describe("MadeAhead", () => {
  it("makes twice the items in flight at first, then one more per item sent, each once, and lets go of taken work", async () => {
    const madeFor: number[] = [];
    const ahead = new MadeAhead(10, 2, (i) => {
      madeFor.push(i);
      return i === 3 ? null : Promise.resolve(`body ${i}`);
    });
    expect(madeFor).toEqual([0, 1, 2, 3]);
    expect(await ahead.take(0)).toBe("body 0");
    expect(ahead.take(0)).toBeNull(); // taken: the list no longer holds it
    ahead.sent(0);
    expect(madeFor).toEqual([0, 1, 2, 3]); // 0 + 1 + 2 in flight = 3 items: already made
    ahead.sent(2);
    expect(madeFor).toEqual([0, 1, 2, 3, 4]); // up to item 2 + 1 + 2 in flight
    expect(ahead.take(3)).toBeNull(); // nothing to send for item 3
    expect(await ahead.take(8)).toBe("body 8"); // taken before its turn: made now, with what comes before it
    expect(madeFor).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    ahead.sent(9);
    expect(madeFor).toHaveLength(10); // never beyond the count
  });

  it("a failed making that is never taken does not reject unobserved", async () => {
    const ahead = new MadeAhead(4, 1, (i) => (i === 1 ? Promise.reject(new Error("encode failed")) : Promise.resolve(i)));
    await expect(ahead.take(0)).resolves.toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 10)); // an unhandled rejection would fail the test file
    await expect(ahead.take(1)).rejects.toThrow("encode failed");
  });
});
