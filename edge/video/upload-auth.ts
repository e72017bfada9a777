import type { Env } from "../env.ts";
import { bearerToken, isAdminGuess, isAdminRequest, isAdminToken } from "../http/admin.ts";
import { Refusal } from "../http/refusal.ts";
import { maxTokenLifetime, verifyToken } from "../http/tokens.ts";
import { guard } from "../router.ts";

/** Upload tokens are short-lived: valid for at most this long (or TOKEN_MAX_LIFETIME_SECONDS if shorter). */
export const MAX_UPLOAD_TOKEN_SECONDS = 60 * 60;
export const UPLOAD_SCOPE = "video:upload";

const refused = (message = "Uploading needs the admin token or an upload token from the site.") =>
  new Refusal("unauthorized", message, { headers: { "WWW-Authenticate": "Bearer" } });

/**
 * Uploads are never anonymous: the caller presents `ADMIN_TOKEN`, or an HS256 JWT that the host
 * site minted with `VIDEO_UPLOAD_SECRET` (`aud: "edge-widgets:video-upload"`, `scope:
 * "video:upload"`, `iat`, `exp` within an hour of `iat`). Returns who is uploading, for the logs.
 */
export async function authorizeUpload(env: Env, request: Request): Promise<string> {
  const bearer = bearerToken(request);
  if (!bearer && (await isAdminRequest(env, request))) return "admin";
  if (!bearer) throw refused();
  // A token in the shape of a JWT is an upload token (or, rarely, the owner's own); anything
  // else can only be a guess at ADMIN_TOKEN, and is charged as one.
  if (JWT_SHAPE.test(bearer) ? await isAdminToken(env, bearer) : await isAdminGuess(env, request, bearer)) return "admin";
  if (!env.VIDEO_UPLOAD_SECRET) throw refused();
  const maxLifetime = Math.min(MAX_UPLOAD_TOKEN_SECONDS, maxTokenLifetime(env));
  const verdict = await verifyToken(env.VIDEO_UPLOAD_SECRET, "videoUpload", bearer, { maxLifetime, requiredClaims: ["iat"] });
  if (!verdict.ok) throw refused(`Upload token: ${verdict.message}`);
  const { payload } = verdict;
  if (payload.scope !== UPLOAD_SCOPE) throw refused(`Upload token: its scope must be "${UPLOAD_SCOPE}".`);
  if (payload.exp - payload.iat! > maxLifetime) throw refused(`Upload token: sign it for at most ${maxLifetime} seconds.`);
  return typeof payload.sub === "string" ? payload.sub : "upload-token";
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Guards a route for whoever may upload (see `authorizeUpload`). */
export const uploader = guard(({ env, request }) => authorizeUpload(env, request));
