import { SignJWT, errors, jwtVerify } from "jose";

/**
 * Stream tokens: HS256 JWTs signed with `STREAMS_JWT_SECRET`, `{"scope":"read"|"write",
 * "stream"?: "<name>"}` plus `exp`. A `write` token also reads; a token with `stream` is good
 * for that stream only. `ADMIN_TOKEN` as the bearer does everything.
 *
 * The dev secret below is public (it is in this file), so it is only ever used for requests
 * to a local host (`wrangler dev`); a deployed Worker without `STREAMS_JWT_SECRET` accepts no
 * stream tokens at all.
 */
export const DEV_STREAMS_SECRET = "edge-widgets-local-development-secret-do-not-deploy";

export type Scope = "read" | "write";

export interface TokenClaims {
  scope: Scope;
  stream?: string;
}

export async function mintStreamToken(secret: string, claims: TokenClaims, expiresIn: string | number = "1h"): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; status: 401 | 403; code: string; message: string };

/** Checks a bearer token for `need` on `stream`. */
export async function checkStreamToken(secret: string, token: string, stream: string, need: Scope): Promise<TokenCheck> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ["HS256"] }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, status: 401, code: "token_expired", message: "The stream token has expired." };
    return { ok: false, status: 401, code: "invalid_token", message: "The stream token is not valid." };
  }
  const scope = payload.scope;
  if (scope !== "read" && scope !== "write") return { ok: false, status: 401, code: "invalid_token", message: "The stream token has no scope." };
  if (need === "write" && scope !== "write") {
    return { ok: false, status: 403, code: "insufficient_scope", message: "Writing needs a token with scope write." };
  }
  if (payload.stream !== undefined && payload.stream !== stream) {
    return { ok: false, status: 403, code: "wrong_stream", message: "This token is for another stream." };
  }
  const claims: TokenClaims = { scope };
  if (typeof payload.stream === "string") claims.stream = payload.stream;
  return { ok: true, claims };
}
