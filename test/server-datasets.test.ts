// Dataset review over HTTP (`--data`): listing, paging and filtering items of a dataset the engine generated,
// accept/reject/take back, changing an item's region ids (the union recomputed from the image's regions as
// generated), records written atomically plus the review log, exports reading the reviewed masks, and paths
// that cannot leave the data folder (.., encoded .., symbolic links to folders and to images outside).
import { imageIdFor } from "../src/datasets/gear-seg.js";
import { mkdir, readFile, readdir, symlink, writeFile, cp } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStack, type Stack } from "../src/stack/stack.js";
import { exportDataset } from "../src/export/index.js";
import { loadMaskPng } from "../src/image/decode.js";
import { encode, merge, toCocoRle } from "../src/masks/index.js";
import { startServer, type RunningServer } from "../src/server/index.js";
import * as D from "../src/server/dataset-schemas.js";
import { samples, tempDir } from "./helpers/cli.js";
import { fetch, makeReviewDataset } from "./server-fixtures.js";

let data: string;
let server: RunningServer;
let stack: Stack;
let outside: string;

beforeAll(async () => {
  data = await tempDir("gear-seg-data-");
  await makeReviewDataset(join(data, "ds1"));
  // A second copy one level down (datasets are found up to two levels deep).
  await mkdir(join(data, "group"));
  await cp(join(data, "ds1"), join(data, "group", "ds2"), { recursive: true });
  // Outside the data folder: a dataset reached through a symbolic link, and an image reached through one.
  outside = await tempDir("gear-seg-outside-");
  await cp(join(data, "ds1"), join(outside, "secret-ds"), { recursive: true });
  await symlink(join(outside, "secret-ds"), join(data, "linked"));
  stack = await createStack({ segmenter: "classic", describer: "none", reasoner: "none" });
  server = await startServer({ agent: stack.agent, port: 0, dataDir: data });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await stack?.close();
});

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: await res.json() };
};
const review = async (dataset: string, item: string, body: unknown) => {
  const res = await fetch(`${server.url}/api/datasets/${encodeURIComponent(dataset)}/items/${encodeURIComponent(item)}/review`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};
const record = async (imageId: string) => JSON.parse(await readFile(join(data, "ds1", "records", `${imageId}.json`), "utf8"));

describe("datasets under --data", () => {
  it("lists the datasets inside the data folder, not the one a symbolic link leads out to", async () => {
    const { status, body } = await get("/api/datasets");
    expect(status).toBe(200);
    const list = D.DatasetList.parse(body);
    expect(list.datasets.map((d) => d.name).sort()).toEqual(["ds1", "group/ds2"]);
    const ds1 = list.datasets.find((d) => d.name === "ds1")!;
    expect(ds1).toMatchObject({ kind: "reasoning", reviewable: true, images: 4, items: 12, review: { unreviewed: 12, accepted: 0, rejected: 0 } });
    expect(ds1.types).toEqual({ commonsense: 4, attribute: 4, functional: 4 });
  });

  it("pages and filters items", async () => {
    const all = D.ItemPage.parse((await get("/api/datasets/ds1/items?limit=5")).body);
    expect(all.total).toBe(12);
    expect(all.items).toHaveLength(5);
    const ids = all.items.map((i) => i.id);
    expect([...ids].sort()).toEqual(ids);
    const next = D.ItemPage.parse((await get("/api/datasets/ds1/items?limit=5&offset=5")).body);
    expect(next.items[0]!.id > ids.at(-1)!).toBe(true);
    const attribute = D.ItemPage.parse((await get("/api/datasets/ds1/items?type=attribute")).body);
    expect(attribute.total).toBe(4);
    expect(attribute.items.every((i) => i.reasoning_type === "attribute" && i.region_ids.join() === "1")).toBe(true);
    const confident = D.ItemPage.parse((await get("/api/datasets/ds1/items?min_confidence=7")).body);
    expect(confident.total).toBe(8);
    const splits = (await Promise.all(["train", "val", "test"].map((s) => get(`/api/datasets/ds1/items?split=${s}`)))).map((r) => r.body.total);
    expect(splits.reduce((a, b) => a + b, 0)).toBe(12);
    expect((await get("/api/datasets/ds1/items?limit=0")).status).toBe(400);
    expect((await get("/api/datasets/ds1/items?split=holiday")).status).toBe(400);
    expect((await get("/api/datasets/ds1/items?colour=red")).body.error).toMatch(/Unrecognized key/);
    const img = await fetch(`${server.url}${all.items[0]!.image_url}`);
    expect(img.status).toBe(200);
    expect(img.headers.get("content-type")).toBe("image/jpeg");
  });

  it("accepts, rejects and takes back, in the record and the review log; counts follow", async () => {
    const page = D.ItemPage.parse((await get("/api/datasets/ds1/items?type=commonsense")).body);
    const [a, b] = page.items;
    const accepted = await review("ds1", a!.id, { status: "accepted" });
    expect(accepted.status).toBe(200);
    expect(D.ReviewReply.parse(accepted.body).review).toEqual({ unreviewed: 11, accepted: 1, rejected: 0 });
    expect((await review("ds1", b!.id, { status: "rejected" })).body.review).toEqual({ unreviewed: 10, accepted: 1, rejected: 1 });
    const rec = await record(a!.image_id);
    expect(rec.items.find((i: { id: string }) => i.id === a!.id).review.status).toBe("accepted");
    expect((await review("ds1", b!.id, { status: "unreviewed" })).body.review).toEqual({ unreviewed: 11, accepted: 1, rejected: 0 });
    const log = (await readFile(join(data, "ds1", "review.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(log.map((e) => [e.item, e.status, e.before.status])).toEqual([
      [a!.id, "accepted", "unreviewed"],
      [b!.id, "rejected", "unreviewed"],
      [b!.id, "unreviewed", "rejected"],
    ]);
    const rejectedOnly = D.ItemPage.parse((await get("/api/datasets/ds1/items?status=accepted")).body);
    expect(rejectedOnly.items.map((i) => i.id)).toEqual([a!.id]);
    // No temporary files are left beside the records.
    expect((await readdir(join(data, "ds1", "records"))).every((n) => n.endsWith(".json") && !n.startsWith("."))).toBe(true);
  });

  it("changes an item's region ids: the union comes from the image's regions, and exports see it", async () => {
    const name = "4537339_3d8e488294_o";
    const page = D.ItemPage.parse((await get("/api/datasets/ds1/items?type=attribute&limit=50")).body);
    const item = page.items.find((i) => i.image === `${name}.jpg`)!;
    const regions = (await get(`/api/datasets/ds1/images/${item.image_id}/regions`)).body;
    expect(regions.regions).toHaveLength((await readdir(samples.masks(name))).length);

    const res = await review("ds1", item.id, { region_ids: [3, 8] });
    expect(res.status).toBe(200);
    const changed = D.ReviewReply.parse(res.body).item;
    const masks = await Promise.all([3, 8].map((i) => loadMaskPng(join(samples.masks(name), `mask_${i}.png`))));
    const union = toCocoRle(merge(masks.map((m) => encode(m)), false));
    expect(changed.mask.counts).toBe(union.counts);
    // The reference's answer for this image is masks 3 and 8: the same union, byte for byte.
    const reference = JSON.parse(await readFile(samples.answer(name), "utf8"));
    expect(changed.mask.counts).toBe(reference.shapes[0].counts);
    expect(changed).toMatchObject({ region_ids: [3, 8], review: { status: "accepted", region_ids_before: [1] } });

    const out = await tempDir("gear-seg-export-");
    await exportDataset(join(data, "ds1"), "coco", out);
    const coco = JSON.parse(await readFile(join(out, "annotations", "instances_all.json"), "utf8"));
    const annotation = coco.annotations.find((a: { region_ids?: number[]; segmentation: { counts: string } }) => a.segmentation.counts === union.counts);
    expect(annotation?.region_ids).toEqual([3, 8]);
    expect(annotation?.gear_seg_id).toBe(item.id);

    // A rejected item leaves the exports.
    const rejected = page.items.find((i) => i.image_id !== name)!;
    expect((await review("ds1", rejected.id, { status: "rejected" })).status).toBe(200);
    const again = await tempDir("gear-seg-export-");
    await exportDataset(join(data, "ds1"), "coco", again);
    const ids = JSON.parse(await readFile(join(again, "annotations", "instances_all.json"), "utf8")).annotations.map((a: { gear_seg_id: string }) => a.gear_seg_id);
    expect(ids).toContain(item.id);
    expect(ids).not.toContain(rejected.id);

    expect((await review("ds1", item.id, { region_ids: [9999] })).body.error).toMatch(/no region 9999/);
    expect((await review("ds1", item.id, { status: "unreviewed" })).body.error).toMatch(/edited region ids/);
    expect((await review("ds1", item.id, { region_ids: [] })).status).toBe(400);
  });

  it("refuses paths that leave the data folder and unknown names", async () => {
    const cases: [string, number][] = [
      ["/api/datasets/linked", 404],
      ["/api/datasets/linked/items", 404],
      ["/api/datasets/..%2F..%2Fetc", 403],
      ["/api/datasets/%2e%2e%2f%2e%2e%2fetc", 403],
      ["/api/datasets/..%252F..%252Fetc", 404],
      ["/api/datasets/%2Fetc", 403],
      ["/api/datasets/nope", 404],
      ["/api/datasets/ds1/images/..%2F..%2Fmanifest", 404],
      ["/api/datasets/ds1/images/nope", 404],
    ];
    for (const [path, status] of cases) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(Object.keys(r.body)).toEqual(["error"]);
    }
    // An image of a dataset that a symbolic link leads out of the dataset's images folder and the data folder.
    const ds = join(data, "ds3");
    await cp(join(data, "ds1"), ds, { recursive: true });
    const images = join(data, "ds3-images");
    await mkdir(images);
    await writeFile(join(outside, "private.jpg"), await readFile(samples.image(samples.names[0]!)));
    for (const n of samples.names) await symlink(n === samples.names[0] ? join(outside, "private.jpg") : samples.image(n), join(images, `${n}.jpg`));
    const manifest = JSON.parse(await readFile(join(ds, "manifest.json"), "utf8"));
    await writeFile(join(ds, "manifest.json"), JSON.stringify({ ...manifest, images_roots: [images] }));
    const leaked = await get(`/api/datasets/ds3/images/${imageIdFor(`${samples.names[0]}.jpg`)}`);
    expect(leaked.status).toBe(403);
    expect(leaked.body.error).toMatch(/outside the data folder/);
    // samples.image lies outside too: the link leads out of both folders.
    expect((await get(`/api/datasets/ds3/images/${imageIdFor(`${samples.names[1]}.jpg`)}`)).status).toBe(403);
    expect((await review("ds1", "../../manifest#0", { status: "accepted" })).status).toBe(404);
    expect((await review("ds1", "nope#0", { status: "accepted" })).status).toBe(404);
    const first = D.ItemPage.parse((await get("/api/datasets/ds1/items?limit=1")).body).items[0]!;
    const bad = await fetch(`${server.url}/api/datasets/ds1/items/${encodeURIComponent(first.id)}/review`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect((await review("ds1", first.id, { status: "maybe" })).status).toBe(400);
  });
});
