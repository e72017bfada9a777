import type { Env } from "../env.ts";
import { checkSameSite, findSession } from "../admin/sessions.ts";
import { guard, type Handler } from "../router.ts";
import { checkRate, refuseWhenSpent } from "../rate-limiter/rate-limiter.ts";
import { clientIp } from "./client-ip.ts";
import { Refusal } from "./refusal.ts";

/** The token of `Authorization: Bearer <token>`; undefined when the header is absent or not that. */
export function bearerToken(request: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("Authorization") ?? "")?.[1];
}

/** Compares secrets in constant time (by their digests, so lengths do not leak either). */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(x, y);
}

/** Whether `token` is the owner's `ADMIN_TOKEN` (never, when none is set). */
export async function isAdminToken(env: Env, token: string | undefined): Promise<boolean> {
  return !!env.ADMIN_TOKEN && token !== undefined && (await sameSecret(token, env.ADMIN_TOKEN));
}

/**
 * Whether `token`, which can only be meant as ADMIN_TOKEN, is it. Such a token is a guess as much
 * as a sign-in is, and shares its budget (`admin-sign-in`): an address out of guesses is refused
 * with 429 before its token is compared, so a right guess among the refused ones reveals nothing;
 * a wrong one is charged, the right one costs nothing.
 */
export async function isAdminGuess(env: Env, request: Request, token: string): Promise<boolean> {
  if (!env.ADMIN_TOKEN) return false;
  await refuseWhenSpent(env, request, "admin-sign-in", "wrong admin tokens");
  if (await isAdminToken(env, token)) return true;
  await checkRate(env, clientIp(env, request), "admin-sign-in");
  return false;
}

/**
 * Whether the request comes from the owner: `Authorization: Bearer <ADMIN_TOKEN>`, or the
 * console's session cookie. A cookie-borne request that changes state must also pass the
 * cross-site rule (`checkSameSite`); one that fails it is the owner's browser sent from elsewhere,
 * which counts as anonymous here (a widget on the console's own origin still works for a
 * signed-in owner) and is refused with the rule's 403 by the `admin` guard.
 */
export async function isAdminRequest(env: Env, request: Request): Promise<boolean> {
  return (await adminVerdict(env, request)) === true;
}

async function adminVerdict(env: Env, request: Request): Promise<true | false | Refusal> {
  if (!env.ADMIN_TOKEN) return false;
  const bearer = bearerToken(request);
  if (bearer !== undefined && (await isAdminGuess(env, request, bearer))) return true;
  const session = await findSession(env, request);
  if (!session) return false;
  try {
    await checkSameSite(request, session);
    return true;
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw error;
  }
}

/**
 * Guards a route for the owner: `Authorization: Bearer <ADMIN_TOKEN>` or the console's session
 * cookie (see `isAdminRequest`), else 401; the cookie sent from another site, 403; with no
 * ADMIN_TOKEN set, admin calls are off (403). A route that words its refusal its own way gives
 * `refusal`, which then answers every caller but the admin.
 */
export const admin = (handler: Handler, refusal?: () => Refusal): Handler =>
  guard(async ({ env, request }) => {
    const verdict = await adminVerdict(env, request);
    if (verdict instanceof Refusal) throw verdict;
    if (refusal) {
      if (!verdict) throw refusal();
      return;
    }
    if (!env.ADMIN_TOKEN) throw new Refusal("admin_disabled", "Admin calls are disabled: ADMIN_TOKEN is not set.");
    if (!verdict) {
      throw new Refusal("unauthorized", "This call needs Authorization: Bearer <ADMIN_TOKEN> or the console's session.", { headers: { "WWW-Authenticate": "Bearer" } });
    }
  })(handler);
