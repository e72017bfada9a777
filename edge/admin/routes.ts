import { z } from "zod";
import type { Env } from "../env.ts";
import { admin, isAdminToken } from "../http/admin.ts";
import { Refusal } from "../http/refusal.ts";
import { parseWith, readJson } from "../http/validate.ts";
import { limitRate } from "../rate-limiter/rate-limiter.ts";
import type { Handler, Routes } from "../router.ts";
import { directory, type Entry, type Kind } from "./directory.ts";
import { metricsReport, prometheusText } from "./metrics.ts";
import { checkSameSite, closeSession, findSession, openSession } from "./sessions.ts";

// --- the page -------------------------------------------------------------------------------

/**
 * Headers of the console page: it runs only its own scripts, talks only to this origin, and no
 * other site may frame it (a framed console could be clicked through).
 */
const PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob: https:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const NO_TOKEN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Console is off</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color-scheme:light dark}code{font-size:.95em}</style></head>
<body><main><h1>The console is off</h1>
<p>Set an admin token to turn it on. Deployed: <code>npx wrangler secret put ADMIN_TOKEN</code>.
Locally: add <code>ADMIN_TOKEN=&lt;a long random secret&gt;</code> to <code>.dev.vars</code> and restart.</p>
<p>Then open <code>/admin</code> again and sign in with that token.</p></main></body></html>`;

/** `GET /admin`: the console, or how to turn it on. */
const consolePage: Handler = async ({ env, request, url }) => {
  if (!env.ADMIN_TOKEN) return new Response(NO_TOKEN_PAGE, { status: 503, headers: { ...PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8" } });
  const page = await env.ASSETS.fetch(new Request(new URL("/admin/", url), { headers: request.headers }));
  const response = new Response(page.body, page);
  for (const [name, value] of Object.entries(PAGE_HEADERS)) response.headers.set(name, value);
  return response;
};

// --- sessions -------------------------------------------------------------------------------

const SignIn = z.strictObject({ token: z.string().min(1, "token is required").max(1024, "token is too long") });

/** `POST /api/admin/session` with `{"token": ADMIN_TOKEN}`: a session cookie, and the CSRF token to send with changes. */
const signIn: Handler = async ({ env, request }) => {
  if (!env.ADMIN_TOKEN) throw new Refusal("admin_disabled", "Admin calls are disabled: ADMIN_TOKEN is not set.");
  // JSON only: a cross-site HTML form cannot send it, so no other site can sign the owner in.
  const { token } = await readJson(request, SignIn, 2048);
  await limitRate(env, request, "admin-sign-in", "sign-in attempts");
  if (!(await isAdminToken(env, token))) throw new Refusal("unauthorized", "That is not the admin token.");
  const { setCookie, session } = await openSession(env, request);
  return Response.json({ csrf: session.csrf, expiresAt: new Date(session.expiresAt).toISOString() }, { status: 201, headers: { "Set-Cookie": setCookie, "Cache-Control": "no-store" } });
};

/**
 * `GET /api/admin/session`: whether the cookie is a live session, with its CSRF token (for a page
 * reload). Not being signed in is an answer here, not an error: the page asks on every load.
 */
const currentSession: Handler = async ({ env, request }) => {
  const session = await findSession(env, request);
  const body = session ? { signedIn: true, csrf: session.csrf, expiresAt: new Date(session.expiresAt).toISOString() } : { signedIn: false };
  return Response.json(body, { headers: { "Cache-Control": "no-store" } });
};

/** `DELETE /api/admin/session`: signs out; the session is deleted, so a copy of the cookie is worthless. */
const signOut: Handler = async ({ env, request }) => {
  const session = await findSession(env, request);
  if (session) await checkSameSite(request, session);
  return new Response(null, { status: 204, headers: { "Set-Cookie": await closeSession(env, request) } });
};

// --- figures --------------------------------------------------------------------------------

/** `GET /api/admin/metrics` (JSON; `?format=prometheus` for Prometheus's text format) and `/api/admin/metrics.prom`. */
const metrics =
  (prometheus: boolean): Handler =>
  async ({ env, url }) => {
    const report = await metricsReport(env);
    if (prometheus || url.searchParams.get("format") === "prometheus") {
      return new Response(prometheusText(report), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" } });
    }
    return Response.json(report, { headers: { "Cache-Control": "no-store" } });
  };

// --- lists ----------------------------------------------------------------------------------

const PageQuery = z.object({
  cursor: z.string().max(1024, "cursor is not one we handed out").optional(),
  limit: z.coerce.number().int().min(1, "limit is 1 to 100").max(100, "limit is 1 to 100").default(20),
});

/**
 * A page of one directory, each entry with what its object says about itself now. Objects that
 * no longer hold anything (a stream deleted or expired) are dropped from the directory as they
 * are met, so the list cleans itself.
 */
function listOf<T extends object>(kind: Kind, describe: (env: Env, entry: Entry) => Promise<T | null>): Handler {
  return async ({ env, url }) => {
    const query = parseWith(PageQuery, Object.fromEntries(url.searchParams));
    const page = await directory(env, kind).page(query.cursor || undefined, query.limit);
    const items = await Promise.all(
      page.entries.map(async (entry) => {
        const now = await describe(env, entry);
        if (now === null) await directory(env, kind).forget(entry.name);
        return now === null ? null : { ...entry, ...now };
      }),
    );
    return Response.json({ [kind]: items.filter((item) => item !== null), cursor: page.cursor }, { headers: { "Cache-Control": "no-store" } });
  };
}

const counters = listOf("counters", async (env, { name }) => ({ value: await env.COUNTER.getByName(name).getCount(name) }));
const rooms = listOf("rooms", (env, { name }) => env.CHAT_ROOMS.getByName(name).summary());
const streams = listOf("streams", (env, { name }) => env.STREAMS.getByName(name).summary());
const subscriptions = listOf("subscriptions", async (env, { name }) => {
  // A description is a loose record (the protocol's own shape); the console shows these fields of it.
  const description = (await env.SUBSCRIPTIONS.getByName(name).describe()) as { type: string; pattern?: string; streams: unknown[]; status: string } | null;
  return description === null ? null : { type: description.type, pattern: description.pattern ?? null, streams: description.streams.length, state: description.status };
});

export const routes: Routes = {
  "/admin": { GET: consolePage },
  "/admin/": { GET: consolePage },
  "/api/admin/session": { GET: currentSession, POST: signIn, DELETE: signOut },
  "/api/admin/metrics": { GET: admin(metrics(false)) },
  "/api/admin/metrics.prom": { GET: admin(metrics(true)) },
  "/api/admin/counters": { GET: admin(counters) },
  "/api/admin/rooms": { GET: admin(rooms) },
  "/api/admin/streams": { GET: admin(streams) },
  "/api/admin/subscriptions": { GET: admin(subscriptions) },
};
