/**
 * The web page's files (built by `npm run build` into dist/app: index.html and its bundle). Only the files
 * found in that folder at start-up are served, by name: no path from a URL ever reaches the file system.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};

/** The page talks to its own origin only and runs no inline code. */
const PAGE_POLICY =
  "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** dist/app of this package, from either src/server (tests) or dist/server (installed). */
export function defaultAppDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/app");
}

export class StaticFiles {
  private constructor(
    readonly dir: string,
    private readonly files: Map<string, Uint8Array>,
  ) {}

  /** Reads every file of `dir` (a few hundred kB); an absent folder serves a note instead of the page. */
  static async load(dir: string): Promise<StaticFiles> {
    const files = new Map<string, Uint8Array>();
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (TYPES[extname(name)]) files.set(name, await readFile(join(dir, name)));
    return new StaticFiles(dir, files);
  }

  get built(): boolean {
    return this.files.has("index.html");
  }

  /** `tokenRequired`: the page learns it from its root element (data-token), so it asks for the token before
   * making a request that would fail. */
  serve(c: Context, name: string, tokenRequired = false): Response {
    let body = this.files.get(name);
    if (!body) {
      if (name === "index.html") return c.text(`the web page is not built (no ${join(this.dir, "index.html")}): run npm run build\n`, 503);
      return c.json({ error: `no file ${name}` }, 404);
    }
    c.header("Content-Type", TYPES[extname(name)]!);
    if (name === "index.html") {
      if (tokenRequired) body = new TextEncoder().encode(new TextDecoder().decode(body).replace('<div id="app">', '<div id="app" data-token="required">'));
      c.header("Content-Security-Policy", PAGE_POLICY);
      c.header("Cache-Control", "no-cache");
    } else {
      c.header("Cache-Control", "no-cache");
    }
    return c.body(new Uint8Array(body));
  }
}
