import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { sameSecret } from "../http/admin.ts";
import { Refusal } from "../http/refusal.ts";
import { Database, type Migration } from "../storage/database.ts";

/** The console's cookie. HttpOnly, so no script (ours included) can read it. */
export const SESSION_COOKIE = "edge_admin_session";

/** The header that carries a session's CSRF token on every state-changing request. */
export const CSRF_HEADER = "X-Admin-CSRF";

/** A session lasts this long from sign-in, whatever happens in between; signing out ends it sooner. */
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;

export interface Session {
  /** Sent back on every state-changing request in `X-Admin-CSRF`; the page keeps it in memory only. */
  csrf: string;
  expiresAt: number;
}

interface SessionRow {
  csrf: string;
  expires_at: number;
}

/**
 * The owner's signed-in sessions, all in one object. The cookie holds a random id; the object
 * keeps only the id's digest, so its storage cannot be replayed as cookies, and deleting the row
 * (signing out, or expiry) kills the cookie everywhere. The digest is keyed by ADMIN_TOKEN
 * (`digestOf`), which the object itself never sees.
 */
export class AdminSessions extends DurableObject<Env> {
  private readonly db = new Database(this.ctx.storage, SESSION_MIGRATIONS);

  open(digest: string, csrf: string, expiresAt: number): void {
    this.db.run("DELETE FROM sessions WHERE expires_at <= ?", Date.now());
    this.db.run("INSERT INTO sessions (digest, csrf, expires_at) VALUES (?, ?, ?)", digest, csrf, expiresAt);
  }

  find(digest: string): Session | undefined {
    const row = this.db.one<SessionRow>("SELECT csrf, expires_at FROM sessions WHERE digest = ? AND expires_at > ?", digest, Date.now());
    return row ? { csrf: row.csrf, expiresAt: row.expires_at } : undefined;
  }

  close(digest: string): boolean {
    return this.db.run("DELETE FROM sessions WHERE digest = ?", digest) > 0;
  }
}

const SESSION_MIGRATIONS: readonly Migration[] = [
  { name: "sessions", up: "CREATE TABLE sessions (digest TEXT PRIMARY KEY, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL)" },
];

const sessions = (env: Env) => env.ADMIN_SESSIONS.getByName("sessions");

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const keys = new Map<string, Promise<CryptoKey>>();

/**
 * The id's HMAC-SHA256 under ADMIN_TOKEN: an owner who changes the token (after a leak) ends
 * every session opened with the old one, since their cookies no longer lead to a row.
 */
async function digestOf(env: Env, id: string): Promise<string> {
  const secret = env.ADMIN_TOKEN ?? "";
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(id)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The session id the request's cookie names, if it looks like one of ours. */
export function sessionId(request: Request): string | undefined {
  for (const part of (request.headers.get("Cookie") ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === SESSION_COOKIE) {
      const id = value.join("=");
      return /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
    }
  }
  return undefined;
}

function cookie(request: Request, value: string, maxAgeSeconds: number): string {
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

/** Opens a session: the Set-Cookie header to answer with, and the session's CSRF token. */
export async function openSession(env: Env, request: Request): Promise<{ setCookie: string; session: Session }> {
  const id = randomId();
  const session = { csrf: randomId(), expiresAt: Date.now() + SESSION_LIFETIME_MS };
  await sessions(env).open(await digestOf(env, id), session.csrf, session.expiresAt);
  return { setCookie: cookie(request, id, SESSION_LIFETIME_MS / 1000), session };
}

/** The live session the request's cookie names, or undefined (none, forged, expired or signed out). */
export async function findSession(env: Env, request: Request): Promise<Session | undefined> {
  const id = sessionId(request);
  // With no ADMIN_TOKEN there is no console, and no key to look a session up by.
  return id === undefined || !env.ADMIN_TOKEN ? undefined : sessions(env).find(await digestOf(env, id));
}

/** Ends the request's session for good; the Set-Cookie header that clears the browser's copy. */
export async function closeSession(env: Env, request: Request): Promise<string> {
  const id = sessionId(request);
  if (id !== undefined && env.ADMIN_TOKEN) await sessions(env).close(await digestOf(env, id));
  return cookie(request, "", 0);
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * The cross-site rule for a request that carries only the cookie: SameSite=Strict keeps the
 * cookie off other sites' requests in today's browsers; on top of that, a state-changing request
 * must come from this origin (Origin, or Sec-Fetch-Site where a browser sends it) and carry the
 * session's CSRF token in a header, which no HTML form can set and no other origin can read.
 */
export async function checkSameSite(request: Request, session: Session): Promise<void> {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers.get("Sec-Fetch-Site");
  const origin = request.headers.get("Origin");
  // Form bodies. A form may also send text/plain, which the CSRF header stops below (and which
  // is a stream's own type, so the console closes such streams with it).
  const type = (request.headers.get("Content-Type") ?? "").toLowerCase();
  const crossSite =
    (site !== null && site !== "same-origin") ||
    (origin !== null && origin !== new URL(request.url).origin) ||
    type.startsWith("application/x-www-form-urlencoded") ||
    type.startsWith("multipart/form-data");
  if (crossSite) throw new Refusal("forbidden", "The console's session works only for requests from the console's own page.");
  const csrf = request.headers.get(CSRF_HEADER);
  if (csrf === null || !(await sameSecret(csrf, session.csrf))) {
    throw new Refusal("forbidden", `A state-changing request with the console's session needs its ${CSRF_HEADER} header.`);
  }
}
