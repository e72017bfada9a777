/** Test keys made the way Stream hands them out: a base64 JWK with a `kid`, and its public half. */
export interface TestKey {
  base64: string;
  kid: string;
  publicJwk: JsonWebKey;
}

export async function makeStreamKey(kid = crypto.randomUUID().replace(/-/g, "")): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const { n, e } = jwk;
  return { base64: btoa(JSON.stringify({ ...jwk, kid })), kid, publicJwk: { kty: "RSA", n, e } };
}
