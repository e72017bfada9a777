import type { ErrorCode } from "../../contract/errors.ts";
import { mintToken, verifyToken } from "../http/tokens.ts";

/**
 * Stream tokens: HS256 JWTs signed with `STREAMS_JWT_SECRET`, `{"aud":"edge-widgets:stream",
 * "scope":"read"|"write", "stream"?: "<name>", "exp"}`. A `write` token also reads; a token with
 * `stream` is good for that stream only. `ADMIN_TOKEN` as the bearer does everything.
 *
 * The dev secret below is public (it is in this file), so only a backend that the local runner
 * started (`LOCAL_DEV=true`) accepts it; a deployment without `STREAMS_JWT_SECRET` accepts no
 * stream tokens at all, and one whose secret is this string refuses to serve.
 */
export const DEV_STREAMS_SECRET = "edge-widgets-local-development-secret-do-not-deploy";

export type Scope = "read" | "write";

export interface TokenClaims {
  scope: Scope;
  stream?: string;
}

export function mintStreamToken(secret: string, claims: TokenClaims, expiresIn: string | number = "1h"): Promise<string> {
  return mintToken(secret, "stream", { ...claims }, expiresIn);
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims }
  | { ok: false; code: ErrorCode; message: string };

/** Checks a bearer token for `need` on `stream`. */
export async function checkStreamToken(secret: string, token: string, stream: string, need: Scope, maxLifetime: number): Promise<TokenCheck> {
  const verdict = await verifyToken(secret, "stream", token, { maxLifetime });
  if (!verdict.ok) {
    return { ok: false, code: verdict.code, message: verdict.message };
  }
  const { payload } = verdict;
  const scope = payload.scope;
  if (scope !== "read" && scope !== "write") return { ok: false, code: "invalid_token", message: "The stream token has no scope." };
  if (need === "write" && scope !== "write") {
    return { ok: false, code: "insufficient_scope", message: "Writing needs a token with scope write." };
  }
  if (payload.stream !== undefined && payload.stream !== stream) {
    return { ok: false, code: "wrong_stream", message: "This token is for another stream." };
  }
  const claims: TokenClaims = { scope };
  if (typeof payload.stream === "string") claims.stream = payload.stream;
  return { ok: true, claims };
}
