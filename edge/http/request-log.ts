import type { Env } from "../env.ts";
import { flag } from "../settings.ts";
import { clientIp } from "./client-ip.ts";

/**
 * One JSON line per request on stdout, for servers that collect their own logs: `npm run serve`
 * sets `LOG_REQUESTS=json`. Off by default, since Cloudflare already records every request of a
 * deployed Worker (Workers Logs) and `npm start` has wrangler's own lines.
 */
const LOG_REQUESTS = flag("LOG_REQUESTS", "json");

/**
 * Path segments that are credentials themselves: a playback token and a one-time upload ticket.
 * Anyone who reads the log could replay them, so they are written as `…`.
 */
const SECRET_SEGMENTS = [/^(\/api\/videos\/play\/)[^/]+/, /^(\/api\/videos\/uploads\/)[^/]+/];

/** The path as logged: no query string (chat and stream tokens may travel there) and no secret segment. */
export function loggedPath(url: URL): string {
  return SECRET_SEGMENTS.reduce((path, pattern) => path.replace(pattern, "$1…"), url.pathname);
}

/**
 * Writes the request's line when `LOG_REQUESTS=json`: method, path, status, the time until the
 * response's headers, and the client's IP as rate limits see it. Never a header: tokens, cookies
 * and `Authorization` stay out.
 */
export function logRequest(env: Env, request: Request, url: URL, status: number, startedAt: number): void {
  if (!LOG_REQUESTS.read(env)) return;
  console.log(
    JSON.stringify({
      event: "request",
      method: request.method,
      path: loggedPath(url),
      status,
      durationMs: Date.now() - startedAt,
      clientIp: clientIp(env, request),
    }),
  );
}
