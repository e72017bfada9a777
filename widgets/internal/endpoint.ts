/**
 * Where a widget finds its backend: the `endpoint` attribute, or else the origin this script
 * was loaded from (so `<script src="https://widgets.example.com/widgets.js">` just works).
 */
const scriptOrigin = new URL(import.meta.url).origin;

/** Names of counters and rooms, and stream paths, exactly as the backend checks them. */
export { NAME_PATTERN, isStreamPath } from "../../contract/names.ts";

export function resolveEndpoint(attribute: string | null | undefined): URL {
  const base = attribute?.trim() || scriptOrigin;
  const url = new URL(base, document.baseURI);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`endpoint must be an http(s) URL, not ${url.protocol}`);
  }
  return url;
}

/** An API URL under the endpoint (which may itself have a path prefix). */
export function apiUrl(endpoint: URL, path: string, query?: Record<string, string | number | undefined>): URL {
  const url = new URL(endpoint.pathname.replace(/\/+$/, "") + path, endpoint);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url;
}

export function socketUrl(endpoint: URL, path: string, query?: Record<string, string | number | undefined>): URL {
  const url = apiUrl(endpoint, path, query);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url;
}
