/**
 * Ask: drop or pick an image, watch it being prepared, see its numbered regions over the photo (hover or
 * focus one to read its description), ask queries, keep their history, correct an answer by clicking regions
 * in or out (and, with SAM 2, by adding a region from clicks or a box), download the files.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiBlob, download, readEvents, type Answer, type Health, type ImageStatus, type RegionJson, type Regions } from "./api.js";
import { buildGeometry, type Geometry } from "./geometry.js";
import { ImageView, type Marks, type Tool } from "./image-view.js";
import { SaveToDataset } from "./save-to-dataset.js";

/** Regions are drawn at about the resolution they are shown at (device pixels), at most this many. */
const DISPLAY_MAX = 1600;
const STATE_TEXT: Record<ImageStatus["state"], string> = {
  queued: "waiting for its turn",
  segmenting: "finding regions",
  describing: "describing regions",
  ready: "ready",
  failed: "failed",
};

interface Current {
  status: ImageStatus;
  src: string;
}

const sameSet = (a: ReadonlySet<number>, b: readonly number[]) => a.size === b.length && b.every((x) => a.has(x));

export function AskView({ health, onError }: { health: Health; onError: (message: string | null) => void }) {
  const [images, setImages] = useState<ImageStatus[]>([]);
  const [current, setCurrent] = useState<Current | null>(null);
  const [regions, setRegions] = useState<Regions | null>(null);
  const [geometry, setGeometry] = useState<Geometry | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [selection, setSelection] = useState<Set<number>>(new Set());
  const [hover, setHover] = useState<number | null>(null);
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<"reasoning" | "referring">("reasoning");
  const [busy, setBusy] = useState<string | null>(null);
  const [allNumbers, setAllNumbers] = useState(false);
  const [tool, setTool] = useState<Tool>("select");
  const [marks, setMarks] = useState<Marks>({ points: [], box: null });
  const [negative, setNegative] = useState(false);
  const [dragging, setDragging] = useState(false);
  const histories = useRef(new Map<string, Answer[]>());
  const [, bump] = useState(0);
  const watch = useRef<AbortController | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const stage = useRef<HTMLElement>(null);
  const displayMax = () => Math.min(DISPLAY_MAX, Math.round(Math.max(stage.current?.clientWidth ?? 0, 320) * (window.devicePixelRatio || 1)));

  const allRegions: RegionJson[] = useMemo(() => (regions ? [...regions.regions, ...regions.added_regions] : []), [regions]);
  const history = current ? (histories.current.get(current.status.id) ?? []) : [];
  const focused = allRegions.find((r) => r.id === hover) ?? null;

  const refreshImages = () => api<{ images: ImageStatus[] }>("/api/images").then((r) => setImages(r.images), () => {});
  useEffect(() => {
    void refreshImages();
    return () => watch.current?.abort();
  }, []);

  const fail = (err: unknown) => onError(err instanceof Error ? err.message : String(err));

  /** Shows an image and follows its preparation until its regions can be drawn. */
  async function open(status: ImageStatus, src: string) {
    watch.current?.abort();
    const ctl = new AbortController();
    watch.current = ctl;
    setCurrent({ status, src });
    setRegions(null);
    setGeometry(null);
    setAnswer(null);
    setSelection(new Set());
    setMarks({ points: [], box: null });
    onError(null);
    let last = status;
    if (status.state !== "ready" && status.state !== "failed") {
      await readEvents<ImageStatus>(`/api/images/${status.id}/events`, (s) => {
        last = s;
        setCurrent({ status: s, src });
      }, ctl.signal);
    }
    if (ctl.signal.aborted) return;
    if (last.state === "failed") {
      onError(`preparing ${last.name} failed: ${last.error}`);
      return;
    }
    const r = await api<Regions>(`/api/images/${status.id}/regions`, { signal: ctl.signal });
    setRegions(r);
    setGeometry(buildGeometry([...r.regions, ...r.added_regions], status.width, status.height, displayMax()));
    void refreshImages();
  }

  /** Runs one user action: the busy label while it runs, its error (if any) shown in the page. */
  async function act(label: string | null, fn: () => Promise<void>) {
    setBusy(label);
    onError(null);
    try {
      await fn();
    } catch (err) {
      fail(err);
    } finally {
      setBusy(null);
    }
  }

  const uploadFile = (file: File) =>
    act("uploading", async () => {
      const status = await api<ImageStatus>(`/api/images?name=${encodeURIComponent(file.name)}`, { body: file, type: file.type || "application/octet-stream" });
      setBusy(null);
      await open(status, URL.createObjectURL(file));
    });

  const switchTo = (id: string) => {
    const status = images.find((i) => i.id === id);
    if (!status || status.id === current?.status.id) return;
    return act(null, async () => open(status, URL.createObjectURL(await apiBlob(`/api/images/${id}/image`))));
  };

  function remember(a: Answer) {
    const id = current!.status.id;
    histories.current.set(id, [a, ...(histories.current.get(id) ?? [])].slice(0, 50));
    bump((n) => n + 1);
  }

  function show(a: Answer) {
    setAnswer(a);
    setSelection(new Set(a.mask_ids));
  }

  function ask(e: Event) {
    e.preventDefault();
    if (!current || !query.trim()) return;
    return act("asking", async () => {
      const a = await api<Answer>(`/api/images/${current.status.id}/ask`, { json: { query, mode, regions: false } });
      show(a);
      remember(a);
    });
  }

  function saveCorrection() {
    if (!current) return;
    const q = answer?.query ?? query.trim();
    if (!q) {
      onError("type the query this selection answers first");
      return;
    }
    const explanation = answer ? `corrected by hand from masks ${answer.mask_ids.join(", ") || "none"}` : "chosen by hand";
    return act("saving", async () => {
      const a = await api<Answer>(`/api/images/${current.status.id}/answers`, {
        json: { query: q, mask_ids: [...selection], mode: answer?.mode ?? mode, explanation, regions: false },
      });
      show(a);
      remember(a);
    });
  }

  function addPromptRegion() {
    if (!current || !regions) return;
    return act("segmenting the prompt", async () => {
      const { region } = await api<{ region: RegionJson }>(`/api/images/${current.status.id}/prompt`, {
        json: { ...(marks.points.length && { points: marks.points }), ...(marks.box && { box: marks.box }) },
      });
      const next = { ...regions, added_regions: [...regions.added_regions, { ...region, description: "added by a SAM 2 prompt" }] };
      setRegions(next);
      setGeometry(buildGeometry([...next.regions, ...next.added_regions], current.status.width, current.status.height, displayMax()));
      setSelection(new Set([...selection, region.id]));
      setMarks({ points: [], box: null });
      setTool("select");
    });
  }

  const toggle = (id: number | null) => {
    if (id === null) return;
    const next = new Set(selection);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelection(next);
  };

  const draw = useMemo(() => ({ chosen: selection, hover, outlines: true, numbers: allNumbers ? ("all" as const) : ("chosen" as const), dim: selection.size > 0 }), [selection, hover, allNumbers]);
  const changed = answer ? !sameSet(selection, answer.mask_ids) : selection.size > 0;
  const status = current?.status;
  const files = answer && status ? `/api/images/${status.id}/answers/${answer.answer_id}` : null;

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer?.files[0];
    if (file) void uploadFile(file);
  };

  return (
    <div class="ask">
      <section class="stage" aria-label="image" ref={stage}>
        <div
          class={`drop${dragging ? " dragging" : ""}${current ? " has-image" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          {current ? (
            <ImageView
              src={current.src}
              alt={current.status.name}
              geometry={geometry}
              draw={draw}
              tool={tool}
              marks={marks}
              negative={negative}
              onHover={setHover}
              onPick={toggle}
              onMarks={setMarks}
            />
          ) : (
            <div class="drop-hint">
              <p>Drop an image here</p>
              <p class="muted">JPEG, PNG, WebP, TIFF, GIF or AVIF</p>
            </div>
          )}
        </div>
        <div class="toolbar">
          <button type="button" onClick={() => fileInput.current?.click()} disabled={busy === "uploading"}>
            {current ? "Open another image…" : "Choose an image…"}
          </button>
          <input
            ref={fileInput}
            type="file"
            accept="image/*"
            hidden
            aria-label="image file"
            onChange={(e) => {
              const f = (e.currentTarget as HTMLInputElement).files?.[0];
              if (f) void uploadFile(f);
              (e.currentTarget as HTMLInputElement).value = "";
            }}
          />
          {images.length > 1 && (
            <label>
              <span class="sr-only">Images</span>
              <select value={status?.id ?? ""} onChange={(e) => void switchTo((e.currentTarget as HTMLSelectElement).value)} aria-label="switch image">
                {images.map((i) => (
                  <option value={i.id} key={i.id}>
                    {i.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          {geometry && (
            <label class="check">
              <input type="checkbox" checked={allNumbers} onChange={(e) => setAllNumbers((e.currentTarget as HTMLInputElement).checked)} /> all numbers
            </label>
          )}
        </div>
        {status && status.state !== "ready" && (
          <div class="progress" role="status" aria-live="polite">
            <span>
              {status.name}: {STATE_TEXT[status.state]}
              {status.progress ? ` — ${status.progress.stage} ${status.progress.done}/${status.progress.total}` : ""}
            </span>
            {status.state !== "failed" && <progress max={status.progress?.total || 1} value={status.progress?.done ?? undefined} />}
          </div>
        )}
        {health.prompts && geometry && (
          <div class="prompt-tools" role="group" aria-label="SAM 2 prompt">
            <span class="muted">SAM 2:</span>
            {(["select", "points", "box"] as Tool[]).map((t) => (
              <button type="button" key={t} class={tool === t ? "on" : ""} aria-pressed={tool === t} onClick={() => setTool(t)}>
                {t === "select" ? "Select regions" : t === "points" ? "Click points" : "Drag a box"}
              </button>
            ))}
            {tool === "points" && (
              <label class="check">
                <input type="checkbox" checked={negative} onChange={(e) => setNegative((e.currentTarget as HTMLInputElement).checked)} /> not the object (or Shift-click)
              </label>
            )}
            <button type="button" disabled={!marks.points.length && !marks.box} onClick={() => void addPromptRegion()}>
              Add region
            </button>
            {(marks.points.length > 0 || marks.box) && (
              <button type="button" class="link" onClick={() => setMarks({ points: [], box: null })}>
                clear
              </button>
            )}
          </div>
        )}
      </section>

      <aside class="panel">
        <form class="query" onSubmit={ask}>
          <label for="query">Query</label>
          <textarea
            id="query"
            rows={2}
            value={query}
            placeholder="e.g. what would you use to cross the water?"
            onInput={(e) => setQuery((e.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
              }
            }}
          />
          <div class="row">
            <label>
              Mode{" "}
              <select value={mode} onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as typeof mode)}>
                <option value="reasoning">reasoning</option>
                <option value="referring">referring</option>
              </select>
            </label>
            <button type="submit" class="primary" disabled={!geometry || !query.trim() || busy !== null}>
              {busy === "asking" ? "Asking…" : "Ask"}
            </button>
          </div>
        </form>

        {answer && (
          <section class="answer" aria-live="polite">
            <h2>
              {answer.mask_ids.length ? `Mask${answer.mask_ids.length > 1 ? "s" : ""} ${answer.mask_ids.join(", ")}` : "No region"}
              {answer.corrected && <span class="badge">corrected</span>}
            </h2>
            <p class="explanation">{answer.explanation}</p>
            {answer.warnings.map((w) => (
              <p class="warning" key={w}>
                {w}
              </p>
            ))}
            {files && (
              <div class="downloads">
                {(["mask.png", "overlay.png", "result.json", "labelme.json", "coco.json"] as const).map((f) => (
                  <button type="button" class="link" key={f} onClick={() => void download(`${files}/${f}`, f).catch(fail)}>
                    {f === "labelme.json" ? "LabelMe" : f === "coco.json" ? "COCO" : f}
                  </button>
                ))}
              </div>
            )}
          </section>
        )}

        {geometry && (
          <section class="correct">
            <p>
              {selection.size ? `Selected: ${[...selection].join(", ")}` : "No region chosen."}
              {changed && (
                <button type="button" onClick={() => void saveCorrection()} disabled={busy !== null}>
                  {answer ? "Save correction" : "Save as answer"}
                </button>
              )}
            </p>
          </section>
        )}

        {answer && status && health.datasets && <SaveToDataset imageId={status.id} answer={answer} unsaved={changed} onError={onError} />}

        {regions && (
          <section class="region-info" aria-live="polite">
            {focused ? (
              <p>
                <strong>Region {focused.id}</strong> <span class="muted">area {focused.area}</span>
                <br />
                {focused.description || <span class="muted">no description</span>}
              </p>
            ) : (
              <p class="muted">Hover or focus a region to read its description; click it to choose it.</p>
            )}
            {regions.scene && (
              <details>
                <summary>Scene</summary>
                <p>{regions.scene}</p>
              </details>
            )}
          </section>
        )}

        {history.length > 0 && (
          <section class="history">
            <h3>History</h3>
            <ol>
              {history.map((h) => (
                <li key={h.answer_id}>
                  <button type="button" class={`link${answer?.answer_id === h.answer_id ? " on" : ""}`} onClick={() => show(h)}>
                    {h.query} → {h.mask_ids.join(", ") || "none"}
                    {h.corrected ? " (corrected)" : ""}
                  </button>
                </li>
              ))}
            </ol>
          </section>
        )}

        {allRegions.length > 0 && (
          <section class="regions">
            <h3>
              Regions <span class="muted">({allRegions.length})</span>
            </h3>
            <ul>
              {allRegions.map((r) => {
                const c = geometry?.byId.get(r.id)?.colour ?? [128, 128, 128];
                return (
                  <li key={r.id}>
                    <button
                      type="button"
                      class={selection.has(r.id) ? "on" : ""}
                      aria-pressed={selection.has(r.id)}
                      onMouseEnter={() => setHover(r.id)}
                      onMouseLeave={() => setHover(null)}
                      onFocus={() => setHover(r.id)}
                      onBlur={() => setHover(null)}
                      onClick={() => toggle(r.id)}
                    >
                      <span class="swatch" style={{ background: `rgb(${c.join(",")})` }} />
                      <span class="rid">{r.id}</span> <span class="desc">{r.description || "—"}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </section>
        )}
      </aside>
    </div>
  );
}
