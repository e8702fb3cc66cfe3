/**
 * Save into a dataset: the answer shown (asked or corrected) becomes an item of a reasoning dataset under the
 * server's data folder, or of a new one started here; the server copies the image, writes the item (accepted)
 * and logs it like a review. Shown when the server has a data folder.
 */
import { useEffect, useState } from "preact/hooks";
import { api, type Answer, type DatasetSummary, type SaveAnswerReply, type SaveAnswerRequest } from "./api.js";

type ReasoningType = SaveAnswerRequest["reasoning_type"];
/** GEAR-Seg's five categories, in the engine's order (the check below fails to compile if one is missing). */
const TYPES = ["commonsense", "functional", "manipulation", "part", "attribute"] as const satisfies readonly ReasoningType[];
const everyType: Exclude<ReasoningType, (typeof TYPES)[number]> extends never ? true : never = true;
void everyType;

const NEW = "\u0000new";

export function SaveToDataset({ imageId, answer, unsaved, onError }: { imageId: string; answer: Answer; unsaved: boolean; onError: (message: string | null) => void }) {
  const [datasets, setDatasets] = useState<DatasetSummary[] | null>(null);
  const [target, setTarget] = useState(NEW);
  const [name, setName] = useState("corrections");
  const [type, setType] = useState<ReasoningType>("commonsense");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);

  const refresh = (select?: string) =>
    api<{ datasets: DatasetSummary[] }>("/api/datasets").then((r) => {
      const usable = r.datasets.filter((d) => d.reviewable);
      setDatasets(usable);
      setTarget((t) => select ?? (t !== NEW ? t : (usable[0]?.name ?? NEW)));
    });
  useEffect(() => {
    refresh().catch((err: unknown) => onError(err instanceof Error ? err.message : String(err)));
  }, []);
  useEffect(() => setSaved(null), [answer.answer_id]);

  async function save(e: Event) {
    e.preventDefault();
    const dataset = target === NEW ? name.trim() : target;
    if (!dataset) return;
    setBusy(true);
    onError(null);
    try {
      const body: SaveAnswerRequest = { image_id: imageId, answer_id: answer.answer_id, reasoning_type: type, ...(target === NEW && { create: true }) };
      const r = await api<SaveAnswerReply>(`/api/datasets/${encodeURIComponent(dataset)}/items`, { json: body });
      setSaved(`Saved as item ${r.item.id} (${r.item.split}) in ${r.dataset}${r.created ? ", a new dataset" : ""}.`);
      if (r.created) await refresh(r.dataset);
    } catch (err) {
      onError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const empty = answer.mask_ids.length === 0;
  return (
    <section class="save-dataset">
      <h3>Save into a dataset</h3>
      <form onSubmit={(e) => void save(e)} aria-label="save into a dataset" class="row">
        <label>
          Dataset{" "}
          <select value={target} onChange={(e) => setTarget((e.currentTarget as HTMLSelectElement).value)} disabled={datasets === null}>
            {(datasets ?? []).map((d) => (
              <option value={d.name} key={d.name}>
                {d.name} ({d.items})
              </option>
            ))}
            <option value={NEW}>New dataset…</option>
          </select>
        </label>
        {target === NEW && (
          <label>
            Name <input value={name} size={14} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} aria-label="new dataset name" />
          </label>
        )}
        <label>
          Type{" "}
          <select value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value as ReasoningType)}>
            {TYPES.map((t) => (
              <option value={t} key={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || unsaved || empty || datasets === null || (target === NEW && !name.trim())}>
          {busy ? "Saving…" : "Save item"}
        </button>
      </form>
      {(unsaved || empty) && <p class="muted">{unsaved ? "Save the correction first: the item is the answer shown above." : "An item needs at least one region."}</p>}
      {saved && (
        <p class="saved" role="status">
          {saved}
        </p>
      )}
    </section>
  );
}
