import { SignJWT, errors, jwtVerify, type JWTPayload } from "jose";
import type { ErrorCode } from "../../contract/errors.ts";
import { wholeNumber, type Vars } from "../settings.ts";

/**
 * Every HS256 token the Worker accepts: stream tokens, chat identities, video uploads and
 * subscription wakes. Each kind has its own audience (`aud`), so a token minted for one can never
 * be replayed as another, even when an owner uses one secret for several. Every token must
 * expire, and no sooner than `TOKEN_MAX_LIFETIME_SECONDS` from now: a leaked token stops working
 * by itself.
 */
export const AUDIENCE = {
  stream: "edge-widgets:stream",
  chatIdentity: "edge-widgets:chat-identity",
  videoUpload: "edge-widgets:video-upload",
  subscriptionWake: "edge-widgets:subscription-wake",
} as const;

export type TokenKind = keyof typeof AUDIENCE;

export const DEFAULT_MAX_LIFETIME_SECONDS = 24 * 3600;
/** Clocks of the minting site and of Cloudflare may differ a little. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * The longest a token may still be valid for. Read from the one setting, not from Env, so that
 * the minting scripts under Node can import this module.
 */
export const TOKEN_MAX_LIFETIME = wholeNumber("TOKEN_MAX_LIFETIME_SECONDS", DEFAULT_MAX_LIFETIME_SECONDS, "seconds");

export const maxTokenLifetime = (env: Vars<"TOKEN_MAX_LIFETIME_SECONDS">) => TOKEN_MAX_LIFETIME.read(env);

const keyOf = (secret: string | Uint8Array) => (typeof secret === "string" ? new TextEncoder().encode(secret) : secret);

/** Signs `claims` as a token of `kind` that expires at `expires`: a span from now ("10m", "1h") or epoch seconds. */
export function mintToken(secret: string | Uint8Array, kind: TokenKind, claims: JWTPayload, expires: string | number): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(AUDIENCE[kind])
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(keyOf(secret));
}

export type TokenVerdict =
  | { ok: true; payload: JWTPayload & { exp: number } }
  | { ok: false; code: Extract<ErrorCode, "token_expired" | "invalid_token">; message: string };

export interface TokenRules {
  /** The longest the token may still be valid for, in seconds. */
  maxLifetime: number;
  /** Claims this kind needs besides `exp` and `aud`. */
  requiredClaims?: string[];
  subject?: string;
}

/** Checks signature (HS256 only), audience, `exp` and the lifetime; says what is wrong, briefly. */
export async function verifyToken(secret: string | Uint8Array, kind: TokenKind, token: string, rules: TokenRules): Promise<TokenVerdict> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: ["HS256"],
      audience: AUDIENCE[kind],
      requiredClaims: ["exp", ...(rules.requiredClaims ?? [])],
      ...(rules.subject !== undefined && { subject: rules.subject }),
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, code: "token_expired", message: "The token has expired." };
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === "aud") {
        return { ok: false, code: "invalid_token", message: `The token is not meant for this use: its aud claim must be "${AUDIENCE[kind]}".` };
      }
      if (error.claim === "exp") return { ok: false, code: "invalid_token", message: "The token has no exp claim; every token must expire." };
      return { ok: false, code: "invalid_token", message: `The token's ${error.claim} claim is missing or wrong.` };
    }
    return { ok: false, code: "invalid_token", message: "The token is not valid (malformed, or signed with another secret)." };
  }
  const exp = payload.exp!;
  if (exp - Date.now() / 1000 > rules.maxLifetime + CLOCK_SKEW_SECONDS) {
    return { ok: false, code: "invalid_token", message: `The token lives too long: sign it for at most ${rules.maxLifetime} seconds.` };
  }
  return { ok: true, payload: { ...payload, exp } };
}
