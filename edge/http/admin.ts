import type { Env } from "../env.ts";
import { checkSameSite, findSession } from "../admin/sessions.ts";
import { guard, type Handler } from "../router.ts";
import { Refusal } from "./refusal.ts";

/** The token of `Authorization: Bearer <token>`; undefined when the header is absent or not that. */
export function bearerToken(request: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("Authorization") ?? "")?.[1];
}

/** Compares secrets in constant time (by their digests, so lengths do not leak either). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(x, y);
}

/** Whether `token` is the owner's `ADMIN_TOKEN` (never, when none is set). */
export async function isAdminToken(env: Env, token: string | undefined): Promise<boolean> {
  return !!env.ADMIN_TOKEN && token !== undefined && (await sameSecret(token, env.ADMIN_TOKEN));
}

/**
 * Whether the request comes from the owner: `Authorization: Bearer <ADMIN_TOKEN>`, or the
 * console's session cookie. A cookie-borne request that changes state and fails the cross-site
 * rule (`checkSameSite`) is refused with 403 rather than treated as anonymous.
 */
export async function isAdminRequest(env: Env, request: Request): Promise<boolean> {
  if (await isAdminToken(env, bearerToken(request))) return true;
  if (!env.ADMIN_TOKEN) return false;
  const session = await findSession(env, request);
  if (!session) return false;
  checkSameSite(request, session);
  return true;
}

/**
 * Guards a route for the owner: `Authorization: Bearer <ADMIN_TOKEN>` or the console's session
 * cookie (see `isAdminRequest`), else 401; with no
 * ADMIN_TOKEN set, admin calls are off (403). A route that words its refusal its own way gives
 * `refusal`, which then answers every caller but the admin.
 */
export const admin = (handler: Handler, refusal?: () => Refusal): Handler =>
  guard(async ({ env, request }) => {
    if (refusal) {
      if (!(await isAdminRequest(env, request))) throw refusal();
      return;
    }
    if (!env.ADMIN_TOKEN) throw new Refusal("admin_disabled", "Admin calls are disabled: ADMIN_TOKEN is not set.");
    if (!(await isAdminRequest(env, request))) {
      throw new Refusal("unauthorized", "This call needs Authorization: Bearer <ADMIN_TOKEN> or the console's session.", { headers: { "WWW-Authenticate": "Bearer" } });
    }
  })(handler);
