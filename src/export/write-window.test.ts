import { describe, expect, test } from "vitest";
import { WriteWindow } from "./write-window.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("WriteWindow", () => {
  test("runs at most `limit` writes at once and waits for all of them", async () => {
    const writes = new WriteWindow(3);
    let running = 0;
    let most = 0;
    let done = 0;
    for (let i = 0; i < 20; i++) {
      await writes.add(async () => {
        running++;
        most = Math.max(most, running);
        for (let k = 0; k < 1 + (i % 4); k++) await tick();
        running--;
        done++;
      });
    }
    await writes.finish();
    expect(done).toBe(20);
    expect(most).toBe(3);
  });

  test("the first failure is thrown by a later add or by finish, after which settle waits for the rest", async () => {
    const writes = new WriteWindow(2);
    let finished = 0;
    const slow = async () => {
      for (let k = 0; k < 5; k++) await tick();
      finished++;
    };
    await writes.add(slow);
    await writes.add(async () => {
      throw new Error("disk full");
    });
    await expect(writes.add(slow)).rejects.toThrow("disk full");
    await writes.settle();
    expect(finished).toBe(1);
    await expect(writes.finish()).rejects.toThrow("disk full");

    const quiet = new WriteWindow(4);
    await quiet.add(async () => {
      await tick();
      throw new Error("no space");
    });
    await expect(quiet.finish()).rejects.toThrow("no space");
  });
});
