import { jwtVerify } from "jose";
import type { Env } from "../env.ts";
import { bearerToken, isAdminToken } from "../http/admin.ts";
import { HttpError } from "../http/errors.ts";

/** Upload tokens are short-lived: at most this long between `iat` and `exp`. */
export const MAX_UPLOAD_TOKEN_SECONDS = 60 * 60;
export const UPLOAD_SCOPE = "video:upload";

const refused = () =>
  new HttpError(401, "unauthorized", "Uploading needs the admin token or an upload token from the site.", { "WWW-Authenticate": "Bearer" });

/**
 * Uploads are never anonymous: the caller presents `ADMIN_TOKEN`, or an HS256 JWT that the host
 * site minted with `VIDEO_UPLOAD_SECRET` (`scope: "video:upload"`, `exp` within an hour of `iat`).
 * Returns who is uploading, for the logs.
 */
export async function authorizeUpload(env: Env, request: Request): Promise<string> {
  const bearer = bearerToken(request);
  if (!bearer) throw refused();
  if (await isAdminToken(env, bearer)) return "admin";
  if (!env.VIDEO_UPLOAD_SECRET) throw refused();
  try {
    const { payload } = await jwtVerify(bearer, new TextEncoder().encode(env.VIDEO_UPLOAD_SECRET), {
      algorithms: ["HS256"],
      requiredClaims: ["exp", "iat"],
      maxTokenAge: MAX_UPLOAD_TOKEN_SECONDS,
    });
    if (payload.scope !== UPLOAD_SCOPE) throw refused();
    if (payload.exp! - payload.iat! > MAX_UPLOAD_TOKEN_SECONDS) throw refused();
    return typeof payload.sub === "string" ? payload.sub : "upload-token";
  } catch {
    throw refused();
  }
}
