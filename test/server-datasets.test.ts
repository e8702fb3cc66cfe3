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
import { encode, merge, rleFromString, toCocoRle } from "../src/masks/index.js";
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
});

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

describe("answers saved into a dataset", () => {
  const save = async (dataset: string, body: unknown) => {
    const res = await fetch(`${server.url}/api/datasets/${encodeURIComponent(dataset)}/items`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  it("a corrected answer becomes an accepted item: image copied, record written, review log appended; reviews recompute its regions", async () => {
    const name = "692198_ac99d18ac5_o";
    const bytes = await readFile(samples.image(name));
    const up = await fetch(`${server.url}/api/images?name=${name}.jpg`, { method: "POST", headers: { "Content-Type": "image/jpeg" }, body: bytes });
    const imageId = (await up.json()).id as string;
    await expect.poll(async () => (await get(`/api/images/${imageId}`)).body.state, { timeout: 50_000, interval: 200 }).toBe("ready");
    const regions = (await get(`/api/images/${imageId}/regions`)).body.regions as { id: number; segmentation: { size: [number, number]; counts: string } }[];
    expect(regions.length).toBeGreaterThan(2);
    const composed = await fetch(`${server.url}/api/images/${imageId}/answers`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: "where does the dog lie?", mask_ids: [0, 2], explanation: "the rug under the dog" }),
    });
    const answerId = (await composed.json()).answer_id as string;
    const request = { image_id: imageId, answer_id: answerId, reasoning_type: "functional" };

    // A dataset that does not exist is started only when asked to.
    const missing = await save("corrections", request);
    expect(missing).toEqual({ status: 404, body: { error: 'no dataset "corrections" under the data folder (set "create" to start one)' } });
    const created = await save("corrections", { ...request, create: true });
    expect(created.status).toBe(201);
    const reply = D.SaveAnswerReply.parse(created.body);
    const union = toCocoRle(merge([0, 2].map((id) => rleFromString(regions[id]!.segmentation.counts, ...regions[id]!.segmentation.size)), false));
    expect(reply).toMatchObject({
      dataset: "corrections",
      created: true,
      item: { questions: ["where does the dog lie?"], explanation: "the rug under the dog", region_ids: [0, 2], reasoning_type: "functional", confidence: 10, review: { status: "accepted" } },
      review: { unreviewed: 0, accepted: 1, rejected: 0 },
    });
    expect(reply.item.mask.counts).toBe(union.counts);

    const ds = join(data, "corrections");
    const [file] = await readdir(join(ds, "images"));
    expect(file).toMatch(/^692198_ac99d18ac5_o-[0-9a-f]{12}\.jpg$/);
    expect((await readFile(join(ds, "images", file!))).equals(bytes)).toBe(true);
    const manifest = JSON.parse(await readFile(join(ds, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ kind: "reasoning", images_roots: [join(ds, "images")], generation: { segmenter: "classic", llm: "manual" } });
    const saved = JSON.parse(await readFile(join(ds, "records", `${reply.item.image_id}.json`), "utf8"));
    expect(saved).toMatchObject({ image: file, segmenter: "classic", regions: regions.length, items: [{ id: reply.item.id }] });
    expect((await readFile(join(ds, "review.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l))).toMatchObject([
      { item: reply.item.id, added: "web app", status: "accepted", region_ids: [0, 2], query: "where does the dog lie?" },
    ]);

    // Into a dataset the engine generated (with other backends): the same image again is one file, one record.
    for (const k of [0, 1]) {
      const again = await save("group/ds2", request);
      expect(again.status).toBe(201);
      expect(D.SaveAnswerReply.parse(again.body).item.id).toMatch(new RegExp(`#${k}$`));
    }
    const ds2 = join(data, "group", "ds2");
    expect(await readdir(join(ds2, "images"))).toHaveLength(1);
    const page = D.ItemPage.parse((await get("/api/datasets/group%2Fds2/items?status=accepted&limit=50")).body);
    expect(page.total).toBe(2);
    expect(page.review.unreviewed).toBe(12);
    // The generated items keep the manifest's segmenter; the saved ones name regions of the server's (classic):
    // changing their ids recomputes classic's regions for the saved image.
    const changed = await review("group/ds2", page.items[0]!.id, { region_ids: [1] });
    expect(changed.status).toBe(200);
    expect(D.ReviewReply.parse(changed.body).item.mask.counts).toBe(regions[1]!.segmentation.counts);
    // Exports read the records: the saved items are there, with their image from the dataset's images folder.
    const out = await tempDir("gear-seg-export-");
    await exportDataset(ds2, "coco", out);
    const coco = JSON.parse(await readFile(join(out, "annotations", "instances_all.json"), "utf8"));
    const exported = coco.annotations.filter((a: { gear_seg_id: string }) => page.items.some((i) => i.id === a.gear_seg_id));
    expect(exported).toHaveLength(2);
    // Every file was written whole: no temporary file is left, and no writer lock.
    for (const folder of [ds, join(ds, "records"), join(ds, "images"), ds2]) expect((await readdir(folder)).filter((n) => n.startsWith(".") || n === "writer.lock")).toEqual([]);
  }, 60_000);

  it("is documented in /openapi.json from its schemas", async () => {
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    const op = doc.paths["/api/datasets/{dataset}/items"].post;
    expect(op.requestBody.content["application/json"].schema.$ref).toBe("#/components/schemas/SaveAnswerRequest");
    expect(op.responses["201"].content["application/json"].schema.$ref).toBe("#/components/schemas/SaveAnswerReply");
    expect(doc.paths["/api/datasets/{dataset}/items"].get).toBeDefined();
    const request = doc.components.schemas.SaveAnswerRequest;
    expect(request.required).toEqual(["image_id", "answer_id", "reasoning_type"]);
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.reasoning_type.enum).toEqual(["commonsense", "functional", "manipulation", "part", "attribute"]);
  });

  it("refuses what cannot be an item: no regions, unknown answers, bad names, folders that are not datasets", async () => {
    const images = (await get("/api/images")).body.images as { id: string }[];
    const imageId = images[0]!.id;
    const empty = await fetch(`${server.url}/api/images/${imageId}/answers`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query: "nothing", mask_ids: [] }) });
    const emptyId = (await empty.json()).answer_id as string;
    await mkdir(join(data, "photos"));
    const cases: [string, unknown, number, RegExp][] = [
      ["corrections", { image_id: imageId, answer_id: emptyId, reasoning_type: "part" }, 400, /chooses no region/],
      ["corrections", { image_id: imageId, answer_id: "999", reasoning_type: "part" }, 404, /no answer 999/],
      ["corrections", { image_id: imageId, answer_id: emptyId, reasoning_type: "holiday" }, 400, /reasoning_type/],
      ["corrections", { image_id: "0".repeat(64), answer_id: emptyId, reasoning_type: "part" }, 404, /no image/],
      ["../outside", { image_id: imageId, answer_id: emptyId, reasoning_type: "part", create: true }, 403, /outside the data folder/],
      ["new set", { image_id: imageId, answer_id: emptyId, reasoning_type: "part", create: true }, 400, /one folder name/],
      ["photos", { image_id: imageId, answer_id: emptyId, reasoning_type: "part", create: true }, 409, /not a dataset/],
    ];
    for (const [dataset, body, status, message] of cases) {
      const r = await save(dataset, body);
      expect({ dataset, status: r.status }).toEqual({ dataset, status });
      expect(r.body.error).toMatch(message);
    }
  });
});
