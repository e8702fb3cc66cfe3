import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/temp.js";
import { listImageFiles, namesImages } from "./image-files.js";

async function tree(root: string, files: string[]): Promise<void> {
  for (const f of files) {
    await mkdir(join(root, f, ".."), { recursive: true });
    await writeFile(join(root, f), "x");
  }
}

describe("listImageFiles", () => {
  it("ids are paths from the common folder without the extension; one stem twice keeps the extensions", async () => {
    const root = await tempDir();
    await tree(root, ["cam1/0001.jpg", "cam2/0001.png", "cam2/0002.JPG", "a.jpg", "a.png", "草莓.jpg", "notes.txt", ".hidden.jpg"]);
    const files = await listImageFiles([root]);
    expect(files.map((f) => f.id)).toEqual(["a_jpg", "a_png", "cam1/0001", "cam2/0001", "cam2/0002", "草莓"]);
    expect(files[2]!.path).toBe(join(root, "cam1/0001.jpg"));
    // Two folders: ids from their common parent, so cam1/0001 and cam2/0001 stay apart.
    expect((await listImageFiles([join(root, "cam1"), join(root, "cam2")])).map((f) => f.id)).toEqual(["cam1/0001", "cam2/0001", "cam2/0002"]);
  });

  it("expands quoted globs (*, ?, [..], **), lists a file once, and does not follow a link back up the tree", async () => {
    const root = await tempDir();
    await tree(root, ["x/1.jpg", "x/deep/2.jpg", "y/3.png", "y/4.webp"]);
    await symlink(root, join(root, "x/loop"));
    expect((await listImageFiles([join(root, "**/*.jpg")])).map((f) => f.id)).toEqual(["1", "deep/2"]);
    expect((await listImageFiles([join(root, "?/*.[jp]*")])).map((f) => f.id)).toEqual(["x/1", "y/3"]);
    expect((await listImageFiles([root, join(root, "x/1.jpg")])).map((f) => f.id)).toEqual(["x/1", "x/deep/2", "y/3", "y/4"]);
    await expect(listImageFiles([join(root, "*.gif")])).rejects.toThrow(/matches no image/);
    await expect(listImageFiles([join(root, "missing")])).rejects.toThrow(/"[^"]*missing": no such file or folder/);
  });

  it("skips the folders it is told to (earlier runs' outputs)", async () => {
    const root = await tempDir();
    await tree(root, ["a.jpg", "out/run/a/overlay.png", "out/run/run.json"]);
    const skipFolder = (dir: string) => dir === join(root, "out/run");
    expect((await listImageFiles([root], { skipFolder })).map((f) => f.id)).toEqual(["a"]);
    expect((await listImageFiles([join(root, "**/*.png")], { skipFolder }).catch((e: Error) => e.message))).toMatch(/matches no image/);
  });

  it("a query with ? or * is not mistaken for images", async () => {
    const root = await tempDir();
    await tree(root, ["photo.jpg"]);
    expect(await namesImages("what is this?")).toBe(false);
    expect(await namesImages(join(root, "*.jpg"))).toBe(true);
    expect(await namesImages(join(root, "photo.jpg"))).toBe(true);
  });
});
