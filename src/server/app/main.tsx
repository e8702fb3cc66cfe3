/**
 * The gear-seg web page: Ask (segment, explain, correct) and Review (datasets under --data), over the server's
 * API on the same origin. Preact for the views: 4 kB of runtime buys declarative state for two views with
 * live progress, lists and editors; the page works with no network beyond its own server.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setToken, tokenMissing, type Health } from "./api.js";
import { AskView } from "./ask.js";
import { ReviewView } from "./review.js";
import "./app.css";

/** A spec shortened for the header: the backend's name and its model, or the last part of its path. */
const short = (spec: string | null, none: string) => {
  if (!spec) return none;
  const i = spec.indexOf(":");
  if (i < 0) return spec;
  const arg = spec.slice(i + 1);
  const tail = arg.includes("@") ? arg.split("@")[0]! : (arg.split(/[\\/]/).filter(Boolean).pop() ?? "");
  return `${spec.slice(0, i)}:${tail.length > 28 ? `…${tail.slice(-27)}` : tail}`;
};

function TokenForm({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value);
        onDone();
      }}
    >
      <label>
        This server needs its token{" "}
        <input type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <button type="submit" class="primary">
        Continue
      </button>
    </form>
  );
}

function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [needToken, setNeedToken] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [view, setView] = useState<"ask" | "review">(location.hash === "#review" ? "review" : "ask");

  const load = () =>
    tokenMissing() ? Promise.resolve(setNeedToken(true)) : api<Health>("/api/health").then(
      (h) => {
        setHealth(h);
        setNeedToken(false);
        setError(null);
      },
      (err) => {
        if (err instanceof ApiError && err.status === 401) setNeedToken(true);
        else setError(err instanceof Error ? err.message : String(err));
      },
    );
  useEffect(() => void load(), []);
  useEffect(() => {
    history.replaceState(null, "", view === "review" ? "#review" : location.pathname);
  }, [view]);

  return (
    <>
      <header>
        <h1>gear-seg</h1>
        {health && (
          <nav aria-label="views">
            <button type="button" class={view === "ask" ? "on" : ""} aria-pressed={view === "ask"} onClick={() => setView("ask")}>
              Ask
            </button>
            {health.datasets && (
              <button type="button" class={view === "review" ? "on" : ""} aria-pressed={view === "review"} onClick={() => setView("review")}>
                Review
              </button>
            )}
          </nav>
        )}
        {health && (
          <p class="backends muted" title={`segmenter ${health.backends.segmenter}\ndescriber ${health.backends.describer ?? "none"}\nreasoner ${health.backends.reasoner ?? "none"}`}>
            {short(health.backends.segmenter, "")} · {short(health.backends.describer, "no describer")} · {short(health.backends.reasoner, "no reasoner")}
          </p>
        )}
      </header>
      {error && (
        <p class="error" role="alert">
          {error}{" "}
          <button type="button" class="link" onClick={() => setError(null)} aria-label="dismiss">
            ×
          </button>
        </p>
      )}
      <main>
        {needToken && <TokenForm onDone={() => void load()} />}
        {health && (view === "review" && health.datasets ? <ReviewView onError={setError} /> : <AskView health={health} onError={setError} />)}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
