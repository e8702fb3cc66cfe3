import { describe, expect, it } from "vitest";
import { onAbort } from "./abort.js";

describe("onAbort", () => {
  it("calls every subscribed callback once, in order, through one listener per signal; unsubscribed ones are not called", async () => {
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const calls: number[] = [];
      const offs = Array.from({ length: 50 }, (_, i) => onAbort(controller.signal, () => calls.push(i)));
      offs[3]!();
      offs[49]!();
      controller.abort();
      controller.abort();
      expect(calls).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 3 && i !== 49));
      // a signal subscribed again after it aborted: the new callback is not called (it has fired)
      const late: number[] = [];
      onAbort(controller.signal, () => late.push(1));
      expect(late).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
