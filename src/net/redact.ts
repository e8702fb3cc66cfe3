/**
 * Credentials never leave the process: a URL may carry `user:key@` (some gateways and proxies want Basic
 * authorization), but every text gear-seg prints or stores — messages, spec strings in result files and
 * reports, cache fingerprints — shows it as `***@`. The HTTP client takes the credentials out of the URL and
 * sends them as a header instead (fetch refuses URLs with credentials).
 */

const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"'`]*@/gi;

/** `http://me:sk-1@host/v1` → `http://***@host/v1`; text without credentials is returned as it is. */
export function redactText(text: string): string {
  return text.replace(CREDENTIALS, "$1***@");
}

/** The same for one URL. */
export function redactUrl(url: string): string {
  return redactText(url);
}

/** A URL without its credentials, and the Basic authorization header value they make (if any). */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (!parsed.username && !parsed.password) return { url };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const plain = parsed.href.replace(/\/+$/, "");
  return { url: plain, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}
