/**
 * A photo with its regions drawn over it (the photo's own colours stay; see ./geometry.tsx), pointer hover
 * and click on regions, and — for SAM 2 prompts — clicks as points (Shift or the "not the object" switch for
 * negative ones) and a dragged box, shown as an SVG layer.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { drawOverlay, type DrawOptions } from "./draw.js";
import type { Geometry } from "./geometry.js";

export type Tool = "select" | "points" | "box";

export interface Marks {
  points: { x: number; y: number; label: 0 | 1 }[];
  box: [number, number, number, number] | null;
}

interface Props {
  src: string;
  alt: string;
  geometry: Geometry | null;
  draw: DrawOptions;
  tool?: Tool;
  marks?: Marks;
  negative?: boolean;
  onHover?: (id: number | null) => void;
  onPick?: (id: number | null) => void;
  onMarks?: (m: Marks) => void;
}

export function ImageView(p: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const g = p.geometry;
  const tool = p.tool ?? "select";

  useEffect(() => {
    const c = canvas.current;
    if (!c || !g) return;
    c.width = g.width;
    c.height = g.height;
    const ctx = c.getContext("2d");
    if (ctx) drawOverlay(ctx, g, p.draw);
  }, [g, p.draw]);

  /** Display pixel and image pixel under a pointer event. */
  const locate = (e: PointerEvent) => {
    const c = canvas.current!;
    const r = c.getBoundingClientRect();
    const dx = Math.min(g!.width - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * g!.width)));
    const dy = Math.min(g!.height - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * g!.height)));
    return { dx, dy, x: Math.round((dx + 0.5) / g!.scale), y: Math.round((dy + 0.5) / g!.scale) };
  };
  const regionAt = (dx: number, dy: number) => {
    const i = g!.under[dy * g!.width + dx]!;
    return i >= 0 ? g!.shapes[i]!.id : null;
  };

  const onMove = (e: PointerEvent) => {
    if (!g) return;
    const at = locate(e);
    if (drag) setDrag({ ...drag, x1: at.x, y1: at.y });
    p.onHover?.(regionAt(at.dx, at.dy));
  };
  const onDown = (e: PointerEvent) => {
    if (!g || tool !== "box") return;
    const at = locate(e);
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    setDrag({ x0: at.x, y0: at.y, x1: at.x, y1: at.y });
  };
  const onUp = (e: PointerEvent) => {
    if (!g) return;
    const at = locate(e);
    if (tool === "box" && drag) {
      const box: [number, number, number, number] = [Math.min(drag.x0, at.x), Math.min(drag.y0, at.y), Math.max(drag.x0, at.x), Math.max(drag.y0, at.y)];
      setDrag(null);
      if (box[2] - box[0] >= 2 && box[3] - box[1] >= 2) p.onMarks?.({ points: p.marks?.points ?? [], box });
    } else if (tool === "points") {
      const label: 0 | 1 = e.shiftKey || p.negative ? 0 : 1;
      p.onMarks?.({ points: [...(p.marks?.points ?? []), { x: at.x, y: at.y, label }], box: p.marks?.box ?? null });
    } else {
      p.onPick?.(regionAt(at.dx, at.dy));
    }
  };

  const s = g?.scale ?? 1;
  const box = drag ? [Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.max(drag.x0, drag.x1), Math.max(drag.y0, drag.y1)] : p.marks?.box;
  return (
    <div class={`image-view tool-${tool}`}>
      <img src={p.src} alt={p.alt} draggable={false} />
      {g && (
        <canvas
          ref={canvas}
          aria-label={`${p.alt}: ${g.shapes.length} regions drawn over the photo`}
          onPointerMove={onMove}
          onPointerDown={onDown}
          onPointerUp={onUp}
          onPointerLeave={() => p.onHover?.(null)}
        />
      )}
      {g && (p.marks?.points.length || box) ? (
        <svg viewBox={`0 0 ${g.width} ${g.height}`} class="marks" aria-hidden="true">
          {box && <rect x={box[0] * s} y={box[1] * s} width={(box[2] - box[0]) * s} height={(box[3] - box[1]) * s} class="mark-box" />}
          {p.marks?.points.map((pt, i) => (
            <circle key={i} cx={pt.x * s} cy={pt.y * s} r={Math.max(5, g.width / 120)} class={pt.label ? "mark-pos" : "mark-neg"} />
          ))}
        </svg>
      ) : null}
    </div>
  );
}
