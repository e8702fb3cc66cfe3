/**
 * Abort callbacks on a signal that many calls share (a run's signal over dozens of requests in flight or
 * waiting): one listener per signal, however many callbacks, so a shared signal never goes over Node's limit
 * of ten listeners (a MaxListenersExceededWarning on stderr); the listener goes when its last callback is
 * unsubscribed, so a long-lived signal keeps none for calls that ended. Callbacks run in the order they were added.
 */
interface Subscribers {
  callbacks: Set<() => void>;
  listener: () => void;
}

const subscribersOf = new WeakMap<AbortSignal, Subscribers>();

/** Calls `callback` once when `signal` aborts; the function returned unsubscribes it (call it when done). */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let subscribers = subscribersOf.get(signal);
  if (!subscribers) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      subscribersOf.delete(signal);
      for (const f of callbacks) f();
    };
    subscribers = { callbacks, listener };
    subscribersOf.set(signal, subscribers);
    signal.addEventListener("abort", listener, { once: true });
  }
  const { callbacks, listener } = subscribers;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0 || subscribersOf.get(signal)?.callbacks !== callbacks) return;
    signal.removeEventListener("abort", listener);
    subscribersOf.delete(signal);
  };
}
