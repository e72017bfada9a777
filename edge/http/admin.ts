import type { Env } from "../env.ts";
import { guard, type Handler } from "../router.ts";
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
 * Guards a route for the owner: `Authorization: Bearer <ADMIN_TOKEN>`, else 401; with no
 * ADMIN_TOKEN set, admin calls are off (403). A route that words its refusal its own way gives
 * `refusal`, which then answers every caller but the admin.
 */
export const admin = (handler: Handler, refusal?: () => Refusal): Handler =>
  guard(async ({ env, request }) => {
    if (refusal) {
      if (!(await isAdminToken(env, bearerToken(request)))) throw refusal();
      return;
    }
    if (!env.ADMIN_TOKEN) throw new Refusal("admin_disabled", "Admin calls are disabled: ADMIN_TOKEN is not set.");
    if (!(await isAdminToken(env, bearerToken(request)))) {
      throw new Refusal("unauthorized", "This call needs Authorization: Bearer <ADMIN_TOKEN>.", { headers: { "WWW-Authenticate": "Bearer" } });
    }
  })(handler);
