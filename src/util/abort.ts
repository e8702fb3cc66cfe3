/**
 * Abort callbacks on a signal that many calls share (a run's signal over dozens of requests in flight or
 * waiting): one listener per signal, however many callbacks, so a shared signal never goes over Node's limit
 * of ten listeners (a MaxListenersExceededWarning on stderr) and no listener is left behind by a call that
 * ended. Callbacks run in the order they were added.
 */
const callbacksOf = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `callback` once when `signal` aborts; the function returned unsubscribes it (call it when done). */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = callbacksOf.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    callbacksOf.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        callbacksOf.delete(signal);
        for (const f of set) f();
      },
      { once: true },
    );
  }
  const set = callbacks;
  set.add(callback);
  return () => {
    set.delete(callback);
  };
}
