// Issue 11 through the built CLI: nothing a user does, and nothing a server answers, loses data or leaves a mess.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultServer } from "./helpers/fault-server.js";
import { cliPath, photos, runCli, samples, tempDir } from "./helpers/cli.js";

const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, "utf8"));

/** A 160×120 copy of a photo: the offline default segments it in well under a second. */
async function smallPhoto(path: string, from = photos.truck): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await sharp(from).resize(160, 120).toFile(path);
  return path;
}

const name = samples.names[3]!;
const recorded = [
  "--segmenter", `masks:${samples.masks(name)}`,
  "--describer", `recorded:${samples.descriptions(name)}`,
  "--reasoner", `recorded:${samples.answer(name)}`,
];

describe("output folders", () => {
  it('--out "" is a usage error and writes nothing in the working folder', async () => {
    const cwd = await tempDir();
    const run = await runCli(["segment", samples.image(name), "q", "--out", "", ...recorded, "--quiet"], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("gear-seg: --out is empty: give a folder (an unset shell variable?)\n");
    expect(await readdir(cwd)).toEqual([]);
  });

  it("default folders never collide: cam1/0001.jpg and cam2/0001.png get out/0001 and out/0001-2; an explicit one needs --overwrite", async () => {
    const cwd = await tempDir();
    const a = join(cwd, "cam1/0001.jpg");
    const b = join(cwd, "cam2/0001.png");
    await mkdir(join(cwd, "cam1"));
    await mkdir(join(cwd, "cam2"));
    await copyFile(samples.image(name), a);
    await sharp(samples.image(name)).png().toFile(b);
    const first = await runCli(["segment", a, "q", ...recorded, "--quiet"], { cwd });
    const second = await runCli(["segment", b, "q", ...recorded, "--quiet"], { cwd });
    expect([first.code, second.code]).toEqual([0, 0]);
    expect((await readdir(join(cwd, "out"))).sort()).toEqual(["0001", "0001-2"]);
    expect((await readJson(join(cwd, "out/0001/result.json"))).image).toBe(a);
    expect((await readJson(join(cwd, "out/0001-2/result.json"))).image).toBe(b);

    const before = await readFile(join(cwd, "out/0001/result.json"));
    const refused = await runCli(["segment", b, "q", "--out", "out/0001", ...recorded, "--quiet"], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^gear-seg: output folder ".*out\/0001" already holds results \(result\.json, mask\.png, overlay\.png, …\): pass --overwrite/);
    expect((await readFile(join(cwd, "out/0001/result.json"))).equals(before)).toBe(true);
    const replaced = await runCli(["segment", b, "q", "--out", "out/0001", "--overwrite", ...recorded, "--quiet"], { cwd });
    expect(replaced.code).toBe(0);
    expect((await readJson(join(cwd, "out/0001/result.json"))).image).toBe(b);
  });

  it("a failed run leaves no folder behind (not an image, a failing stage)", async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, "notes.jpg"), "not pixels\n".repeat(40));
    const runs = [
      await runCli(["segment", join(cwd, "notes.jpg"), "q", ...recorded, "--quiet"], { cwd }),
      await runCli(["segment", samples.image(name), "q", "--out", "out/explicit", "--segmenter", `masks:${cwd}`, "--describer", "none", "--quiet"], { cwd }),
    ];
    expect(runs.map((r) => r.code)).toEqual([1, 1]);
    expect(existsSync(join(cwd, "out"))).toBe(false);
  });

  it("a folder that cannot be created fails at once (/proc), and so does a cache there", async () => {
    const out = await runCli(["segment", samples.image(name), "q", "--out", "/proc/gear-seg-test/x", ...recorded, "--quiet"], { timeoutMs: 20_000 });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe('gear-seg: cannot write to output folder "/proc/gear-seg-test/x": this file system does not allow creating folders\n');
    const home = await runCli(["segment", samples.image(name), "q", "--out", join(await tempDir(), "o"), ...recorded, "--quiet"], {
      env: { GEAR_SEG_HOME: "/proc/gear-seg-test" },
      timeoutMs: 20_000,
    });
    expect(home.code).toBe(1);
    expect(home.stderr).toBe('gear-seg: cannot create the cache "/proc/gear-seg-test/cache.sqlite": this file system does not allow creating folders\n');
  });

  // A read-only mount needs a mount namespace: `unshare -rm` (util-linux) as any user, where the kernel allows it.
  const canMount = spawnSync("unshare", ["-rm", "sh", "-c", "mount -t tmpfs -o ro tmpfs /mnt"]).status === 0;
  it.skipIf(!canMount)("a read-only file system is reported as read-only, not as a missing file", async () => {
    const ro = await tempDir();
    const script = `mount -t tmpfs -o ro tmpfs '${ro}' && exec "${process.execPath}" "${cliPath}" "$@"`;
    const run = spawnSync("unshare", ["-rm", "sh", "-c", script, "sh", "segment", samples.image(name), "q", "--out", join(ro, "a/b"), ...recorded, "--no-cache", "--quiet"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`gear-seg: cannot write to output folder "${join(ro, "a/b")}": read-only file system\n`);
  });

  it("segment --json | head ends quietly (no EPIPE stack trace)", async () => {
    const out = join(await tempDir(), "o");
    // 103 regions: 80 kB of JSON, more than a pipe holds, so the write meets the closed pipe.
    const big = samples.names[2]!;
    const stack = ["--segmenter", `masks:${samples.masks(big)}`, "--describer", `recorded:${samples.descriptions(big)}`, "--reasoner", `recorded:${samples.answer(big)}`];
    const args = ["segment", samples.image(big), "q", "--out", out, ...stack, "--quiet", "--json"].map((a) => `'${a}'`).join(" ");
    const run = spawnSync("bash", ["-c", `"${process.execPath}" "${cliPath}" ${args} | head -c 20 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("exit 0\n");
    expect(existsSync(join(out, "result.json"))).toBe(true);
  });
});

describe("several queries, and an LLM that invents ids", () => {
  let llm: FaultServer;
  beforeAll(async () => {
    // An OpenAI-compatible chat server: invents id 4242 for "invented", fails every attempt on "broken".
    llm = new FaultServer({
      "POST /v1/chat/completions": (body) => {
        const text = JSON.stringify(body);
        if (text.includes("broken")) return { status: 400, json: { error: { message: "context length exceeded" } } };
        const ids = text.includes("invented") ? [0, 4242] : [1];
        return {
          json: {
            id: "x",
            object: "chat.completion",
            model: "m",
            choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify({ mask_ids: ids, explanation: "because" }) }, finish_reason: "stop" }],
          },
        };
      },
    });
    await llm.start();
  });
  afterAll(() => llm.stop());

  it("answers every query, names the failed one, exits 1, and lists invented ids in dropped_ids", async () => {
    const out = join(await tempDir(), "o");
    const run = await runCli([
      "segment", samples.image(name), "-q", "the invented one", "-q", "the broken one", "-q", "the third",
      "--out", out, "--segmenter", `masks:${samples.masks(name)}`, "--describer", `recorded:${samples.descriptions(name)}`,
      "--reasoner", `openai:m@${llm.url}/v1`, "--quiet",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("the broken one\n  ✗ failed: ");
    expect(run.stderr).toMatch(/gear-seg: 1 of 3 queries failed: "the broken one"\n$/);
    expect((await readdir(out)).sort()).toEqual(["01-the-invented-one", "03-the-third", "candidates.png"]);
    for (const dir of ["01-the-invented-one", "03-the-third"]) {
      expect((await readdir(join(out, dir))).sort()).toEqual(["mask.png", "overlay.png", "result.json"]);
    }
    const invented = await readJson(join(out, "01-the-invented-one/result.json"));
    expect(invented.mask_ids).toEqual([0]);
    expect(invented.dropped_ids).toEqual([4242]);
    expect((await readJson(join(out, "03-the-third/result.json"))).mask_ids).toEqual([1]);
  });
});

// That the cache never serves another --max-regions' cut is src/pipeline/agent.test.ts's (through SQLite).
describe("the stage cache through the CLI", () => {
  it("a damaged cache file is moved aside with a notice naming it; cache clear, stats and segment all work", async () => {
    const dir = await tempDir();
    const home = join(dir, "home");
    await mkdir(home);
    const file = join(home, "cache.sqlite");
    await writeFile(file, Buffer.alloc(8192, 7));
    const env = { GEAR_SEG_HOME: home };
    const clear = await runCli(["cache", "clear"], { env });
    expect(clear.code).toBe(0);
    expect(clear.stderr).toMatch(new RegExp(`^cache "${file}" is damaged \\(file is not a database\\); moved it to "${file}\\.damaged-[^"]+" and started a fresh cache\\n$`));
    expect(clear.stdout).toBe(`cleared ${file}: 0 entries\n`);

    await writeFile(file, "garbage".repeat(1000));
    const seg = await runCli(["segment", samples.image(name), "q", "--out", join(dir, "o"), ...recorded], { env });
    expect(seg.code).toBe(0);
    expect(seg.stderr).toContain(`cache "${file}" is damaged`);
    const stats = await runCli(["cache", "stats"], { env });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain(`cache        ${file}`);
    expect(stats.stdout).toMatch(/regions\s+1 region sets \(1 image\)/);
    expect((await readdir(home)).filter((f) => f.includes(".damaged-"))).toHaveLength(2);
  });
});

describe("segment over folders and globs", () => {
  it("runs every image, records a failure and goes on, resumes, and redoes only what is not done", async () => {
    const dir = await tempDir();
    const images = join(dir, "photos");
    await smallPhoto(join(images, "cam1/0001.jpg"));
    await smallPhoto(join(images, "cam2/0001.jpg"), photos.cars);
    await smallPhoto(join(images, "groceries.png"), photos.groceries);
    await writeFile(join(images, "broken.jpg"), "not an image");
    const env = { GEAR_SEG_HOME: join(dir, "home") };
    // No detector: batches are under test, and every run would load it again (a second of CPU per process).
    const args = ["segment", images, "-q", "the red region", "-q", "the largest region", "--detector", "none"];

    const first = await runCli(args, { cwd: dir, env });
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/! broken: cannot read image ".*broken\.jpg": not an image/);
    const lines = first.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^query\s+images\s+answered\s+empty\s+failed$/);
    expect(lines[1]).toMatch(/^the red region\s+4\s+\d+\s+\d+\s+1$/);
    expect(lines[3]).toMatch(/^4 images, 1 failed, in [\d.]+s → .*out\/photos$/);
    const run = join(dir, "out/photos");
    expect((await readJson(join(run, "run.json"))).queries).toEqual(["the red region", "the largest region"]);
    for (const id of ["cam1/0001", "cam2/0001", "groceries"]) {
      const status = await readJson(join(run, id, "status.json"));
      expect(status.status).toBe("done");
      expect((await readdir(join(run, id))).sort()).toEqual(["01-the-red-region", "02-the-largest-region", "candidates.png", "status.json"]);
      expect((await readdir(join(run, id, "02-the-largest-region"))).sort()).toEqual(["mask.png", "overlay.png", "result.json"]);
    }
    expect((await readJson(join(run, "broken/status.json"))).status).toBe("failed");

    // A rerun skips the finished images and tries the failed one again; once it is fixed, the run completes.
    const doneAt = (await stat(join(run, "groceries/status.json"))).mtimeMs;
    await smallPhoto(join(images, "broken.jpg"));
    const second = await runCli([...args, "--json"], { cwd: dir, env });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`resuming the run in ${run}`);
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({ dir: run, images: 4, resumed: 3, failed: [] });
    expect(summary.queries.map((q: any) => q.answered + q.empty)).toEqual([4, 4]);
    expect((await stat(join(run, "groceries/status.json"))).mtimeMs).toBe(doneAt);
    expect((await readJson(join(run, "broken/status.json"))).status).toBe("done");

    // Other queries are another run: a fresh default folder, never the first run's.
    const other = await runCli(["segment", join(images, "cam*/*.jpg"), "-q", "the sky", "--detector", "none", "--json", "--quiet"], { cwd: dir, env });
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout)).toMatchObject({ dir: join(dir, "out/images"), images: 2, resumed: 0 });
    expect(existsSync(join(dir, "out/images/cam1/0001/status.json"))).toBe(true);
  });
});

