import { decodeProtectedHeader, errors, importJWK, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { signPlaybackToken, signingKey, type AccessRule } from "./sign-playback-token.ts";
import { makeStreamKey, type TestKey } from "../../test/edge/video-keys.ts";

const UID = "5d5bc37ffcf54c9b82e996823bffbb81";
let key: TestKey;
beforeAll(async () => {
  key = await makeStreamKey();
});

/** Verifies with jose and the public key only: nothing of our signer is trusted. */
async function verify(token: string, options: { currentDate?: Date } = {}) {
  return jwtVerify(token, await importJWK(key.publicJwk, "RS256"), { algorithms: ["RS256"], ...options });
}

describe("signPlaybackToken", { timeout: 30_000 }, () => {
  it("makes an RS256 JWT that verifies with the public key, with kid in header and claims and the uid as sub", async () => {
    const token = await signPlaybackToken(await signingKey(key.base64), UID);
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toEqual({ alg: "RS256", kid: key.kid });
    expect(payload.sub).toBe(UID);
    expect(payload.kid).toBe(key.kid);
  });

  it("expires in one hour by default", async () => {
    const now = 1_800_000_000;
    const token = await signPlaybackToken(await signingKey(key.base64), UID, { now });
    const { payload } = await verify(token, { currentDate: new Date(now * 1000) });
    expect(payload.exp).toBe(now + 3600);
    expect(payload.nbf).toBeUndefined();
  });

  it("is refused by the verifier once expired", async () => {
    const now = Math.floor(Date.now() / 1000) - 7200;
    const token = await signPlaybackToken(await signingKey(key.base64), UID, { now });
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("carries nbf, and is not valid before it", async () => {
    const notBefore = Math.floor(Date.now() / 1000) + 600;
    const token = await signPlaybackToken(await signingKey(key.base64), UID, { notBefore });
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    const { payload } = await verify(token, { currentDate: new Date((notBefore + 1) * 1000) });
    expect(payload.nbf).toBe(notBefore);
  });

  it("allows at most 24 hours", async () => {
    const signer = await signingKey(key.base64);
    const { payload } = await verify(await signPlaybackToken(signer, UID, { expiresIn: 24 * 3600 }));
    expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(24 * 3600);
    await expect(signPlaybackToken(signer, UID, { expiresIn: 24 * 3600 + 1 })).rejects.toThrow(RangeError);
    await expect(signPlaybackToken(signer, UID, { expiresIn: 0 })).rejects.toThrow(RangeError);
  });

  it("carries downloadable and up to five access rules of Stream's three kinds", async () => {
    const accessRules: AccessRule[] = [
      { type: "ip.src", action: "allow", ip: ["203.0.113.0/24", "2001:db8::/32"] },
      { type: "ip.geoip.country", action: "block", country: ["US", "MX"] },
      { type: "any", action: "block" },
    ];
    const token = await signPlaybackToken(await signingKey(key.base64), UID, { downloadable: true, accessRules });
    const { payload } = await verify(token);
    expect(payload.downloadable).toBe(true);
    expect(payload.accessRules).toEqual(accessRules);
  });

  it("refuses six access rules and rules of unknown kinds", async () => {
    const signer = await signingKey(key.base64);
    const six = Array.from({ length: 6 }, () => ({ type: "any" as const, action: "allow" as const }));
    await expect(signPlaybackToken(signer, UID, { accessRules: six })).rejects.toThrow(/at most 5/);
    const unknown = [{ type: "ip.asn", action: "allow" }] as unknown as typeof six;
    await expect(signPlaybackToken(signer, UID, { accessRules: unknown })).rejects.toThrow();
  });

  it("imports the key once per isolate, not per token", async () => {
    expect(signingKey(key.base64)).toBe(signingKey(key.base64));
    const other = await makeStreamKey();
    expect(signingKey(other.base64)).not.toBe(signingKey(key.base64));
  });

  it("is refused by the verifier when signed with another key", async () => {
    const other = await makeStreamKey(key.kid);
    const token = await signPlaybackToken(await signingKey(other.base64), UID);
    expect(decodeProtectedHeader(token).kid).toBe(key.kid);
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it("rejects a signing key that is not a base64 RSA JWK", async () => {
    await expect(signingKey(btoa("{}"))).rejects.toThrow(/STREAM_SIGNING_JWK/);
  });
});
