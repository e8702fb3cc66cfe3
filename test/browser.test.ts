// The web page in a real browser (Debian's chromium through playwright-core; no browser download): the ask
// flow on a recorded GEAR-Seg sample, hovering and clicking a region, a correction saved as an answer, a SAM 2
// region from a click, and a dataset review with the keyboard. Screenshots at 1280×800 and phone size go to
// out/browser (ignored by git); every test fails on a console error.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConfiguredStack } from "../src/stack/configured.js";
import type { Stack } from "../src/stack/stack.js";
import { StageEvents, startServer, type RunningServer } from "../src/server/index.js";
import { repoRoot, samples, tempDir } from "./helpers/cli.js";
import { writeTinySam2 } from "./helpers/onnx-models.js";
import { fetch, makeReviewDataset } from "./server-fixtures.js";
// @ts-expect-error: a plain ES module without types (the build step)
import { buildApp } from "../scripts/build-app.mjs";

const NAME = "4537339_3d8e488294_o";
const shots = join(repoRoot, "out/browser");
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let browser: Browser;
let appDir: string;
const servers: { server: RunningServer; stack: Stack }[] = [];

async function serve(specs: { segmenter: string; describer: string; reasoner: string }, options: { dataDir?: string; token?: string; backendOptions?: Parameters<typeof createConfiguredStack>[0] extends infer O ? O extends { backendOptions?: infer B } ? B : never : never } = {}) {
  const events = new StageEvents();
  const stack = await createConfiguredStack({ specs, onStage: events.onStage, cache: false, backendOptions: options.backendOptions });
  const server = await startServer({ agent: stack.agent, stageEvents: events, port: 0, appDir, dataDir: options.dataDir, token: options.token });
  servers.push({ server, stack });
  return server;
}

/** A page that records console errors and uncaught exceptions. */
async function open(url: string, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}

beforeAll(async () => {
  appDir = await tempDir("gear-seg-app-");
  await buildApp(appDir);
  await mkdir(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) {
    await s.server.close();
    await s.stack.close();
  }
});

describe("the web page", () => {
  it("asks, shows the answer over the photo, explains a region, saves a correction and saves it into a dataset", async () => {
    const data = await tempDir("gear-seg-data-");
    const server = await serve(
      {
        segmenter: `masks:${samples.masks(NAME)}`,
        describer: `recorded:${samples.descriptions(NAME)}`,
        reasoner: `recorded:${samples.answer(NAME)}`,
      },
      { dataDir: data },
    );
    const { page, errors } = await open(server.url);
    await page.setInputFiles("input[type=file]", samples.image(NAME));
    await page.waitForSelector(".image-view canvas", { timeout: 30_000 });
    await page.waitForSelector(".regions li >> nth=102");

    const reference = JSON.parse(await readFile(samples.answer(NAME), "utf8"));
    await page.fill("#query", reference.text[0]);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.textContent(".answer h2")).toBe("Masks 3, 8");
    expect(await page.textContent(".answer .explanation")).toBe(reference.explanation);
    expect(await page.textContent(".history")).toContain(`${reference.text[0]} → 3, 8`);
    await page.screenshot({ path: join(shots, "ask-1280x800.png") });

    // Hover a point of the photo: the region under it is described; clicking it adds it to the answer.
    const canvas = (await page.$(".image-view canvas"))!;
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.9);
    await page.waitForSelector(".region-info strong");
    const hovered = Number((await page.textContent(".region-info strong"))!.replace("Region ", ""));
    const descriptions = JSON.parse(await readFile(samples.descriptions(NAME), "utf8"));
    expect(await page.textContent(".region-info p")).toContain(descriptions[String(hovered)].des);
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.9);
    await expect.poll(() => page.textContent(".correct p")).toContain(`Selected: 3, 8, ${hovered}`);
    await page.click("text=Save correction");
    await expect.poll(() => page.textContent(".answer h2")).toBe(`Masks 3, 8, ${hovered}corrected`);
    const imageId = (await (await fetch(`${server.url}/api/images`)).json()).images[0].id;
    const saved = await (await fetch(`${server.url}/api/images/${imageId}/answers/2`)).json();
    expect(saved).toMatchObject({ corrected: true, mask_ids: [3, 8, hovered] });

    // Into a new dataset under the data folder: the item is the corrected answer, accepted.
    await page.fill(".save-dataset input", "corrections");
    await page.selectOption(".save-dataset select >> nth=1", "functional");
    await page.click("text=Save item");
    await expect.poll(() => page.textContent(".save-dataset .saved")).toMatch(/^Saved as item \S+#0 \((train|val|test)\) in corrections, a new dataset\.$/);
    const items = (await (await fetch(`${server.url}/api/datasets/corrections/items`)).json()).items;
    expect(items).toMatchObject([{ region_ids: [3, 8, hovered], questions: [reference.text[0]], reasoning_type: "functional", review: { status: "accepted" } }]);
    await page.screenshot({ path: join(shots, "ask-saved-1280x800.png") });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, "ask-phone.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("asks for the token first when the server has one, without a failing request", async () => {
    const token = "a-token-for-the-page-test";
    const server = await serve({ segmenter: `masks:${samples.masks(NAME)}`, describer: "none", reasoner: "none" }, { token });
    const { page, errors } = await open(server.url);
    await page.waitForSelector("form.token");
    await page.fill("form.token input", token);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".drop-hint");
    expect(await page.textContent("header .backends")).toBe(`masks:${NAME} · no describer · no reasoner`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("adds a region from a SAM 2 click", async () => {
    const models = await tempDir("gear-seg-sam2-");
    await writeTinySam2(models, { layout: "samexporter" });
    const server = await serve(
      { segmenter: `sam2:${models}`, describer: "attributes", reasoner: "wordnet" },
      { backendOptions: { segmenter: { amg: { points_per_side: 4 }, workers: 1 } } },
    );
    const W = 480;
    const H = 320;
    const png = await sharp({ create: { width: W, height: H, channels: 3, background: "#808080" } })
      .composite([{ input: { create: { width: 160, height: 120, channels: 3, background: "#2030e0" } }, left: 260, top: 150 }])
      .png()
      .toBuffer();
    const dir = await tempDir("gear-seg-scene-");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "scene.png"), png);
    const { page, errors } = await open(server.url);
    await page.setInputFiles("input[type=file]", join(dir, "scene.png"));
    await page.waitForSelector(".prompt-tools", { timeout: 30_000 });
    const before = await page.locator(".regions li").count();
    await page.click("text=Click points");
    const box = (await (await page.$(".image-view canvas"))!.boundingBox())!;
    await page.mouse.click(box.x + box.width * (340 / W), box.y + box.height * (210 / H));
    await page.waitForSelector(".marks circle.mark-pos");
    await page.click("text=Add region");
    await expect.poll(() => page.locator(".regions li").count()).toBe(before + 1);
    const last = page.locator(".regions li").last();
    expect(await last.textContent()).toContain("added by a SAM 2 prompt");
    expect(await last.locator("button").getAttribute("aria-pressed")).toBe("true");
    await page.screenshot({ path: join(shots, "sam2-prompt.png") });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("reviews a dataset with the keyboard: accept, reject, edit regions", async () => {
    const data = await tempDir("gear-seg-data-");
    await makeReviewDataset(join(data, "reasoning-ds"));
    const server = await serve({ segmenter: "classic", describer: "none", reasoner: "none" }, { dataDir: data });
    const { page, errors } = await open(`${server.url}/#review`);
    await page.waitForSelector(".card >> nth=11");
    await page.waitForSelector(".card img >> nth=0");
    await page.screenshot({ path: join(shots, "review-1280x800.png") });
    await page.keyboard.press("a");
    await expect.poll(() => page.textContent(".counts")).toContain("1 accepted");
    // No waiting for the selection to move: the next key must act on the item the page shows.
    await page.keyboard.press("r");
    await expect.poll(() => page.textContent(".counts")).toContain("1 rejected");
    expect(await page.getAttribute(".card >> nth=0", "class")).toContain("accepted");
    expect(await page.getAttribute(".card >> nth=1", "class")).toContain("rejected");

    // Edit the selected (third) item's regions: click a region in the editor, save with Enter.
    const itemId = (await page.textContent(".detail h2"))!;
    await page.keyboard.press("e");
    await page.waitForSelector(".editor canvas", { timeout: 30_000 });
    const before = (await page.textContent(".editor-body > p"))!;
    const canvas = (await (await page.$(".editor canvas"))!.boundingBox())!;
    await page.mouse.click(canvas.x + canvas.width * 0.5, canvas.y + canvas.height * 0.5);
    await expect.poll(() => page.textContent(".editor-body > p")).not.toBe(before);
    await page.screenshot({ path: join(shots, "review-edit.png") });
    await page.keyboard.press("Enter");
    await page.waitForSelector(".editor", { state: "detached" });
    const items = (await (await fetch(`${server.url}/api/datasets/reasoning-ds/items?limit=50`)).json()).items as { id: string; region_ids: number[]; review: { region_ids_before?: number[] } | null }[];
    const edited = items.find((i) => i.id === itemId)!;
    expect(edited.review?.region_ids_before).toBeDefined();
    expect(edited.region_ids).not.toEqual(edited.review!.region_ids_before);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, "review-phone.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
