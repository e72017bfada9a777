import { base64url } from "jose";
import { z } from "zod";

/**
 * Stream's self-signed playback tokens: an RS256 JWT whose header and claims name the signing
 * key (`kid`), whose `sub` is the video uid, and which expires within a day. Signed with
 * WebCrypto from the base64 JWK that Stream's key API returns (`STREAM_SIGNING_JWK`).
 */

/** At most 24 hours ahead, as Stream allows; one hour unless asked. */
export const MAX_TOKEN_SECONDS = 24 * 60 * 60;
export const DEFAULT_TOKEN_SECONDS = 60 * 60;

/** Stream's access rules: evaluated in order, the first rule that matches decides. */
export const AccessRule = z.discriminatedUnion("type", [
  z.object({ type: z.literal("any"), action: z.enum(["allow", "block"]) }),
  z.object({ type: z.literal("ip.src"), action: z.enum(["allow", "block"]), ip: z.array(z.string().min(1)).min(1) }),
  z.object({
    type: z.literal("ip.geoip.country"),
    action: z.enum(["allow", "block"]),
    country: z.array(z.string().regex(/^[A-Z]{2}$/, "a two-letter country code")).min(1),
  }),
]);
export type AccessRule = z.infer<typeof AccessRule>;
export const AccessRules = z.array(AccessRule).max(5, "at most 5 access rules");

export interface PlaybackTokenOptions {
  /** Seconds from now until the token expires; 1 h by default, at most 24 h. */
  expiresIn?: number;
  /** Seconds since the epoch before which the token is not valid. */
  notBefore?: number;
  /** Allows the MP4 download of the video. */
  downloadable?: boolean;
  accessRules?: AccessRule[];
  /** The clock, for tests of expiry; seconds since the epoch. */
  now?: number;
}

export interface PlaybackClaims {
  sub: string;
  kid: string;
  exp: number;
  nbf?: number;
  downloadable?: boolean;
  accessRules?: AccessRule[];
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public half as a JWK, for whoever verifies the tokens. */
  publicJwk: JsonWebKey & { kid: string };
}

const Jwk = z.looseObject({
  kid: z.string().min(1),
  kty: z.literal("RSA"),
  n: z.string().min(1),
  e: z.string().min(1),
  d: z.string().min(1),
});

/**
 * A new RS256 signing key as Stream's key API hands one out: the private JWK with a `kid`,
 * base64-encoded (the form STREAM_SIGNING_JWK takes).
 */
export async function generateSigningJwk(kid: string): Promise<{ base64: string; privateJwk: JsonWebKey }> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { base64: btoa(JSON.stringify({ ...privateJwk, kid })), privateJwk };
}

/** Keys imported so far in this isolate, by the configured base64 text. */
const imported = new Map<string, Promise<SigningKey>>();

/** Imports the base64 JWK once per isolate; later calls reuse the same CryptoKey. */
export function signingKey(base64Jwk: string): Promise<SigningKey> {
  let key = imported.get(base64Jwk);
  if (!key) {
    key = importSigningKey(base64Jwk);
    imported.set(base64Jwk, key);
    key.catch(() => imported.delete(base64Jwk));
  }
  return key;
}

async function importSigningKey(base64Jwk: string): Promise<SigningKey> {
  let parsed: z.infer<typeof Jwk>;
  try {
    parsed = Jwk.parse(JSON.parse(atob(base64Jwk.trim())));
  } catch {
    throw new Error("STREAM_SIGNING_JWK is not a base64-encoded RSA private JWK with a kid.");
  }
  // WebCrypto takes the key without Stream's extra `kid` member.
  const { kid: _kid, ...material } = parsed;
  const jwk: JsonWebKey = { ...material, alg: "RS256", ext: false };
  const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  return { kid: parsed.kid, privateKey, publicJwk: { kty: "RSA", n: parsed.n, e: parsed.e, alg: "RS256", kid: parsed.kid } };
}

/** Signs a playback token for the video `uid`. */
export async function signPlaybackToken(key: SigningKey, uid: string, options: PlaybackTokenOptions = {}): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? DEFAULT_TOKEN_SECONDS;
  if (!(expiresIn > 0 && expiresIn <= MAX_TOKEN_SECONDS)) {
    throw new RangeError(`A playback token expires within 1 s to 24 h, not ${expiresIn} s.`);
  }
  const claims: PlaybackClaims = { sub: uid, kid: key.kid, exp: now + Math.floor(expiresIn) };
  if (options.notBefore !== undefined) claims.nbf = Math.floor(options.notBefore);
  if (options.downloadable !== undefined) claims.downloadable = options.downloadable;
  if (options.accessRules !== undefined) claims.accessRules = AccessRules.parse(options.accessRules);
  const header = { alg: "RS256", kid: key.kid };
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key.privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}
