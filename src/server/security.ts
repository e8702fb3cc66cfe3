/**
 * What keeps the server safe to run: a bearer token on every /api request (required to bind anything but
 * loopback), a Host check when there is no token (a web page cannot reach a loopback server through DNS
 * rebinding), and paths that cannot leave the folder they are served from (`..`, encoded or not, absolute
 * paths, and symbolic links that point outside).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isAbsolute, relative, sep } from "node:path";
import { UsageError } from "../util/errors.js";
import { HttpError } from "./http-error.js";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Refuses to start without a token on a non-loopback address (the CLI turns this into exit 2). */
export function checkBinding(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new UsageError(
      `refusing to listen on ${host} without a token: anyone on the network could use the server; give it one (option token)`,
    );
  }
  if (token !== undefined && token.length < 16) throw new UsageError("the server token must be at least 16 characters long");
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Checks `Authorization: Bearer <token>` in constant time; a 401 otherwise. */
export function checkToken(header: string | undefined, token: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) throw new HttpError(401, "missing bearer token (send Authorization: Bearer <token>)", { "WWW-Authenticate": 'Bearer realm="gear-seg"' });
  if (!timingSafeEqual(digest(m[1]!), digest(token))) {
    throw new HttpError(401, "wrong bearer token", { "WWW-Authenticate": 'Bearer realm="gear-seg", error="invalid_token"' });
  }
}

/** Without a token the server only answers requests addressed to a loopback name. */
export function checkHost(hostHeader: string | undefined): void {
  const host = (hostHeader ?? "").replace(/:\d+$/, "");
  if (!isLoopback(host)) throw new HttpError(403, `host "${hostHeader ?? ""}" is not served: this server answers loopback addresses only`);
}

/** `path` is `root` or lies inside it (both absolute; give real paths to see through symbolic links). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}
