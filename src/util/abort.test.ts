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
      // once every callback is unsubscribed the signal keeps no listener; a new subscription adds one again
      const other = new AbortController();
      let added = 0;
      let removed = 0;
      const add = other.signal.addEventListener.bind(other.signal);
      const remove = other.signal.removeEventListener.bind(other.signal);
      other.signal.addEventListener = ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
      other.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
      const a = onAbort(other.signal, () => {});
      const b = onAbort(other.signal, () => {});
      a();
      expect([added, removed]).toEqual([1, 0]);
      b();
      b();
      expect([added, removed]).toEqual([1, 1]);
      const fired: number[] = [];
      onAbort(other.signal, () => fired.push(1));
      other.abort();
      expect([added, fired]).toEqual([2, [1]]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
