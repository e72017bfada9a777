import type { Env } from "../env.ts";
import { Refusal } from "./refusal.ts";

/**
 * CORS and the Origin check for WebSocket upgrades, both driven by `ALLOWED_ORIGINS`
 * (a comma list of origins, or `*`).
 */
const parsed = new Map<string, Set<string> | "*">();

function allowList(env: Env): Set<string> | "*" {
  const raw = (env.ALLOWED_ORIGINS ?? "*").trim() || "*";
  let list = parsed.get(raw);
  if (!list) {
    list = raw === "*" ? "*" : new Set(raw.split(",").map((o) => o.trim().replace(/\/+$/, "")).filter(Boolean));
    parsed.set(raw, list);
  }
  return list;
}

/** A request without an Origin header (not from a browser) is not subject to the list. */
export function isOriginAllowed(env: Env, origin: string | null): boolean {
  if (origin === null) return true;
  const list = allowList(env);
  return list === "*" || list.has(origin);
}

/** Headers that a browser script may read from our responses (Durable Streams needs these). */
const EXPOSED = [
  "Retry-After",
  "ETag",
  "Location",
  "Stream-Next-Offset",
  "Stream-Cursor",
  "Stream-Up-To-Date",
  "Stream-Closed",
  "Stream-TTL",
  "Stream-Expires-At",
  "Producer-Epoch",
  "Producer-Seq",
  "Producer-Expected-Seq",
  "Producer-Received-Seq",
  "Stream-SSE-Data-Encoding",
  "Content-Range",
];

const ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "If-None-Match",
  "Idempotency-Key",
  "Stream-Seq",
  "Stream-TTL",
  "Stream-Expires-At",
  "Stream-Closed",
  "Producer-Id",
  "Producer-Epoch",
  "Producer-Seq",
  "Stream-Forked-From",
  "Stream-Fork-Offset",
  "Stream-Fork-Sub-Offset",
  "Range",
];

export function corsHeaders(env: Env, request: Request): Record<string, string> {
  const origin = request.headers.get("Origin");
  const list = allowList(env);
  if (list === "*") return { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED.join(", ") };
  if (origin !== null && list.has(origin)) {
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Expose-Headers": EXPOSED.join(", "),
      Vary: "Origin",
    };
  }
  return { Vary: "Origin" };
}

/** Answers a CORS preflight; a disallowed origin gets a 403 the browser will report. */
export function preflight(env: Env, request: Request): Response {
  const origin = request.headers.get("Origin");
  if (!isOriginAllowed(env, origin)) {
    throw new Refusal("origin_not_allowed", `The origin ${origin} is not allowed.`);
  }
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(env, request),
      "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
      "Access-Control-Allow-Headers": ALLOWED_HEADERS.join(", "),
      "Access-Control-Max-Age": "86400",
    },
  });
}

/** Adds the CORS headers for this request to a response's own (mutable) headers. */
export function addCorsHeaders(env: Env, request: Request, headers: Headers): void {
  for (const [name, value] of Object.entries(corsHeaders(env, request))) {
    if (name === "Vary") headers.append("Vary", value);
    else headers.set(name, value);
  }
}
