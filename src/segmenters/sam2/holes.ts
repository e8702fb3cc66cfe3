/**
 * SAM 2's hole and sprinkle removal on the low-resolution logits, as `SAM2Transforms.postprocess_masks` in
 * facebookresearch/sam2 `sam2/utils/transforms.py` (which the automatic mask generator enables with
 * max_hole_area = max_sprinkle_area = min_mask_region_area):
 *
 * - holes: 8-connected components of `logits ≤ t` with area ≤ maxHole are set to t + 10;
 * - sprinkles: 8-connected components of `logits > t` with area ≤ maxSprinkle are set to t − 10.
 *
 * Both component sets are taken from the logits as they were before either change (the reference computes
 * `mask_flat` once), and both use `≤` on the area. This runs before upscaling, on the 256×256 map.
 *
 * Components are labelled over row runs with union-find (our own algorithm; the reference uses a CUDA
 * kernel): a mask has a few runs per row, so this costs one comparison per pixel plus a little per run.
 */

export class RunLabeler {
  private cap = 0;
  private start = new Int32Array(0);
  private end = new Int32Array(0);
  private row = new Int32Array(0);
  private cls = new Uint8Array(0);
  private parent = new Int32Array(0);
  private area = new Int32Array(0);

  private ensure(n: number): void {
    if (n <= this.cap) return;
    this.cap = n;
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.row = new Int32Array(n);
    this.cls = new Uint8Array(n);
    this.parent = new Int32Array(n);
    this.area = new Int32Array(n);
  }

  private find(i: number): number {
    const p = this.parent;
    let r = i;
    while (p[r] !== r) r = p[r]!;
    while (p[i] !== r) {
      const next = p[i]!;
      p[i] = r;
      i = next;
    }
    return r;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }

  /**
   * Removes small holes and sprinkles in place in `logits[offset .. offset + h·w)` (row-major). Returns true
   * when any value changed.
   */
  fill(logits: Float32Array, offset: number, h: number, w: number, threshold: number, maxHole: number, maxSprinkle: number): boolean {
    if (!(maxHole > 0) && !(maxSprinkle > 0)) return false;
    this.ensure(h * w);
    const { start, end, row, cls, parent, area } = this;
    let n = 0;
    let prevFirst = 0;
    let prevLast = 0; // runs of the previous row: [prevFirst, prevLast)
    for (let y = 0; y < h; y++) {
      const base = offset + y * w;
      const first = n;
      let x = 0;
      while (x < w) {
        const c = logits[base + x]! > threshold ? 1 : 0;
        let e = x + 1;
        if (c) while (e < w && logits[base + e]! > threshold) e++;
        else while (e < w && !(logits[base + e]! > threshold)) e++;
        start[n] = x;
        end[n] = e;
        row[n] = y;
        cls[n] = c;
        parent[n] = n;
        area[n] = 0;
        n++;
        x = e;
      }
      // 8-connectivity: same-class runs on consecutive rows touch when their x ranges, widened by one, overlap.
      let j = prevFirst;
      for (let i = first; i < n; i++) {
        while (j < prevLast && end[j]! < start[i]!) j++;
        for (let k = j; k < prevLast && start[k]! <= end[i]!; k++) {
          if (cls[k] === cls[i]) this.union(i, k);
        }
      }
      prevFirst = first;
      prevLast = n;
    }
    for (let i = 0; i < n; i++) area[this.find(i)] += end[i]! - start[i]!;
    const fillFg = Math.fround(threshold + 10);
    const fillBg = Math.fround(threshold - 10);
    let changed = false;
    for (let i = 0; i < n; i++) {
      const a = area[this.find(i)]!;
      const isFg = cls[i] === 1;
      if (isFg ? maxSprinkle > 0 && a <= maxSprinkle : maxHole > 0 && a <= maxHole) {
        logits.fill(isFg ? fillBg : fillFg, offset + row[i]! * w + start[i]!, offset + row[i]! * w + end[i]!);
        changed = true;
      }
    }
    return changed;
  }
}
