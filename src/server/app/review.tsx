/**
 * Review: a dataset's items in a grid (image with the item's mask, first question, type, confidence, split,
 * decision), filtered by split, type, decision and confidence; accept, reject or take back with the keyboard,
 * and edit an item's regions on the image's numbered regions. Counts update with every decision.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiBlob, type DatasetSummary, type Item, type ItemPage, type ReviewCounts } from "./api.js";
import { buildGeometry, type Geometry } from "./geometry.js";
import { ImageView } from "./image-view.js";

const PAGE = 12;
const THUMB = 360;
const EDIT_MAX = 1280;

interface Filters {
  split: string;
  type: string;
  status: string;
  min_confidence: string;
}

const SHORTCUTS: [string, string][] = [
  ["← →  or  k j", "previous / next item"],
  ["a", "accept"],
  ["r", "reject"],
  ["u", "take the decision back"],
  ["e", "edit the item's regions"],
  ["Enter / Esc", "save / leave the editor"],
  ["p n", "previous / next page"],
];

const typing = (e: KeyboardEvent) => {
  const t = e.target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
};

function useImageUrls() {
  const cache = useRef(new Map<string, Promise<string>>());
  useEffect(() => () => cache.current.forEach((p) => void p.then((u) => URL.revokeObjectURL(u), () => {})), []);
  return (url: string) => {
    let p = cache.current.get(url);
    if (!p) {
      p = apiBlob(url).then((b) => URL.createObjectURL(b));
      cache.current.set(url, p);
    }
    return p;
  };
}

function ItemCard({ item, selected, imageUrl, onSelect }: { item: Item; selected: boolean; imageUrl: (u: string) => Promise<string>; onSelect: () => void }) {
  const [src, setSrc] = useState<string | null>(null);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    let live = true;
    void imageUrl(item.image_url).then((u) => live && setSrc(u), () => {});
    return () => {
      live = false;
    };
  }, [item.image_url]);
  useEffect(() => {
    if (selected) ref.current?.scrollIntoView({ block: "nearest" });
  }, [selected]);
  const geometry = useMemo(() => buildGeometry([{ id: 0, segmentation: item.mask }], item.width, item.height, THUMB), [item.mask.counts]);
  const draw = useMemo(() => ({ chosen: new Set([0]), hover: null, outlines: false, numbers: "none" as const, dim: true }), []);
  const status = item.review?.status ?? "unreviewed";
  return (
    <article ref={ref} class={`card ${status}${selected ? " selected" : ""}`} onClick={onSelect} aria-current={selected}>
      <div class="thumb">{src ? <ImageView src={src} alt={item.image} geometry={geometry} draw={draw} /> : <div class="placeholder" />}</div>
      <p class="q">{item.questions[0]}</p>
      <p class="meta">
        <span class={`badge ${status}`}>{status}</span> {item.reasoning_type} · {item.split} · confidence {item.confidence} · masks {item.region_ids.join(", ")}
      </p>
    </article>
  );
}

export function ReviewView({ onError }: { onError: (message: string | null) => void }) {
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [name, setName] = useState<string>("");
  const [filters, setFilters] = useState<Filters>({ split: "", type: "", status: "", min_confidence: "" });
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<ItemPage | null>(null);
  const [counts, setCounts] = useState<ReviewCounts | null>(null);
  const [index, setIndex] = useState(0);
  const [editing, setEditing] = useState<{ item: Item; src: string; geometry: Geometry; ids: Set<number>; hover: number | null } | null>(null);
  const imageUrl = useImageUrls();
  const fail = (err: unknown) => onError(err instanceof Error ? err.message : String(err));
  const dataset = datasets.find((d) => d.name === name);
  const base = `/api/datasets/${encodeURIComponent(name)}`;

  useEffect(() => {
    api<{ datasets: DatasetSummary[] }>("/api/datasets").then((r) => {
      setDatasets(r.datasets);
      const first = r.datasets.find((d) => d.reviewable);
      if (first) setName(first.name);
    }, fail);
  }, []);

  useEffect(() => {
    if (!name) return;
    const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    api<ItemPage>(`${base}/items?${q}`).then((p) => {
      setPage(p);
      setCounts(p.review);
      setIndex((i) => Math.min(i, Math.max(0, p.items.length - 1)));
    }, fail);
  }, [name, filters, offset]);

  const item = page?.items[index];

  async function review(change: { status?: string; region_ids?: number[] }, target = item) {
    if (!target) return;
    try {
      const r = await api<{ item: Item; review: ReviewCounts }>(`${base}/items/${encodeURIComponent(target.id)}/review`, { json: change });
      setPage((p) => p && { ...p, items: p.items.map((i) => (i.id === r.item.id ? r.item : i)) });
      setCounts(r.review);
      onError(null);
      return r.item;
    } catch (err) {
      fail(err);
      return undefined;
    }
  }

  async function edit(target = item) {
    if (!target) return;
    try {
      const [src, regions] = await Promise.all([
        imageUrl(target.image_url),
        api<{ regions: { id: number; segmentation: Item["mask"] }[] }>(`${base}/images/${encodeURIComponent(target.image_id)}/regions`),
      ]);
      setEditing({ item: target, src, geometry: buildGeometry(regions.regions, target.width, target.height, EDIT_MAX), ids: new Set(target.region_ids), hover: null });
    } catch (err) {
      fail(err);
    }
  }

  async function saveEdit() {
    if (!editing) return;
    if (editing.ids.size === 0) {
      onError("choose at least one region, or reject the item");
      return;
    }
    const done = await review({ region_ids: [...editing.ids] }, editing.item);
    if (done) setEditing(null);
  }

  const move = (delta: number) => {
    if (!page) return;
    const next = index + delta;
    if (next >= 0 && next < page.items.length) setIndex(next);
    else if (next >= page.items.length && offset + PAGE < page.total) {
      setOffset(offset + PAGE);
      setIndex(0);
    } else if (next < 0 && offset > 0) {
      setOffset(Math.max(0, offset - PAGE));
      setIndex(PAGE - 1);
    }
  };

  /** After a decision on `id`, the next item is selected, unless the reviewer has moved on meanwhile. */
  const decide = (status: "accepted" | "rejected") => {
    const id = item?.id;
    void review({ status }).then((r) => r && latest.current.item?.id === id && latest.current.move(1));
  };

  const onKey = (e: KeyboardEvent) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (editing) {
      if (e.key === "Escape") setEditing(null);
      else if (e.key === "Enter") void saveEdit();
      else return;
      e.preventDefault();
      return;
    }
    const k = e.key;
    if (k === "ArrowRight" || k === "j") move(1);
    else if (k === "ArrowLeft" || k === "k") move(-1);
    else if (k === "a") decide("accepted");
    else if (k === "r") decide("rejected");
    else if (k === "u") void review({ status: "unreviewed" });
    else if (k === "e") void edit();
    else if ((k === "n" || k === "PageDown") && page && offset + PAGE < page.total) (setOffset(offset + PAGE), setIndex(0));
    else if ((k === "p" || k === "PageUp") && offset > 0) (setOffset(Math.max(0, offset - PAGE)), setIndex(0));
    else return;
    e.preventDefault();
  };
  // The listener is added once and calls this render's handler: a key pressed right after a state change (before
  // effects run again) must already see that change.
  const latest = useRef({ onKey, move, item });
  latest.current = { onKey, move, item };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => latest.current.onKey(e);
    document.addEventListener("keydown", listener);
    return () => document.removeEventListener("keydown", listener);
  }, []);

  const setFilter = (k: keyof Filters, v: string) => {
    setFilters({ ...filters, [k]: v });
    setOffset(0);
    setIndex(0);
  };

  if (datasets.length === 0) return <p class="muted empty">No datasets in the server's data folder.</p>;

  return (
    <div class="review">
      <div class="filters" role="group" aria-label="filters">
        <label>
          Dataset{" "}
          <select value={name} onChange={(e) => (setName((e.currentTarget as HTMLSelectElement).value), setOffset(0), setIndex(0))}>
            {datasets.map((d) => (
              <option value={d.name} key={d.name} disabled={!d.reviewable}>
                {d.name} ({d.items} items{d.reviewable ? "" : `, ${d.kind}`})
              </option>
            ))}
          </select>
        </label>
        <label>
          Split{" "}
          <select value={filters.split} onChange={(e) => setFilter("split", (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all</option>
            {["train", "val", "test"].map((s) => (
              <option value={s} key={s}>
                {s} ({dataset?.splits[s] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label>
          Type{" "}
          <select value={filters.type} onChange={(e) => setFilter("type", (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all</option>
            {Object.entries(dataset?.types ?? {}).map(([t, n]) => (
              <option value={t} key={t}>
                {t} ({n})
              </option>
            ))}
          </select>
        </label>
        <label>
          Decision{" "}
          <select value={filters.status} onChange={(e) => setFilter("status", (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">all</option>
            <option value="unreviewed">unreviewed</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
          </select>
        </label>
        <label>
          Confidence ≥{" "}
          <input type="number" min={0} max={10} step={1} value={filters.min_confidence} onInput={(e) => setFilter("min_confidence", (e.currentTarget as HTMLInputElement).value)} />
        </label>
      </div>

      {counts && (
        <p class="counts" aria-live="polite">
          <span class="badge accepted">{counts.accepted} accepted</span> <span class="badge rejected">{counts.rejected} rejected</span>{" "}
          <span class="badge unreviewed">{counts.unreviewed} unreviewed</span>
          {page && (
            <span class="muted">
              {" "}
              · showing {page.total ? offset + 1 : 0}–{Math.min(offset + PAGE, page.total)} of {page.total}
            </span>
          )}
        </p>
      )}

      <div class="review-body">
        <div class="grid">
          {page?.items.map((it, i) => <ItemCard key={it.id} item={it} selected={i === index} imageUrl={imageUrl} onSelect={() => setIndex(i)} />)}
        </div>
        <aside class="panel detail">
          {item ? (
            <>
              <h2>{item.id}</h2>
              <p class="meta">
                {item.reasoning_type} · {item.split} · confidence {item.confidence} · masks {item.region_ids.join(", ")}
                {item.review?.region_ids_before && ` (generated: ${item.review.region_ids_before.join(", ")})`}
              </p>
              <ol class="questions">
                {item.questions.map((q) => (
                  <li key={q}>{q}</li>
                ))}
              </ol>
              <h3>Logic chain</h3>
              <p class="explanation">{item.explanation}</p>
              <p class="muted">Answer: {item.answer_labels.join(", ")}</p>
              <div class="row">
                <button type="button" class="accept" onClick={() => decide("accepted")}>
                  Accept <kbd>a</kbd>
                </button>
                <button type="button" class="reject" onClick={() => decide("rejected")}>
                  Reject <kbd>r</kbd>
                </button>
                <button type="button" onClick={() => void edit()}>
                  Edit regions <kbd>e</kbd>
                </button>
              </div>
            </>
          ) : (
            <p class="muted">No items match.</p>
          )}
          <h3>Keyboard</h3>
          <ul class="shortcuts">
            {SHORTCUTS.map(([k, what]) => (
              <li key={k}>
                <kbd>{k}</kbd> {what}
              </li>
            ))}
          </ul>
        </aside>
      </div>

      {editing && (
        <div class="editor" role="dialog" aria-modal="true" aria-label={`edit regions of ${editing.item.id}`}>
          <div class="editor-body">
            <ImageView
              src={editing.src}
              alt={editing.item.image}
              geometry={editing.geometry}
              draw={{ chosen: editing.ids, hover: editing.hover, outlines: true, numbers: "chosen", dim: true }}
              onHover={(h) => setEditing({ ...editing, hover: h })}
              onPick={(id) => {
                if (id === null) return;
                const ids = new Set(editing.ids);
                if (ids.has(id)) ids.delete(id);
                else ids.add(id);
                setEditing({ ...editing, ids });
              }}
            />
            <p>
              {editing.item.questions[0]} — masks {[...editing.ids].join(", ") || "none"}
              {editing.hover !== null && <span class="muted"> · region {editing.hover}</span>}
            </p>
            <div class="row">
              <button type="button" class="primary" onClick={() => void saveEdit()}>
                Save <kbd>Enter</kbd>
              </button>
              <button type="button" onClick={() => setEditing(null)}>
                Cancel <kbd>Esc</kbd>
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
