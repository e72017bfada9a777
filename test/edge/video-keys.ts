import { generateSigningJwk } from "../../edge/video/sign-playback-token.ts";

/** Test keys made the way Stream hands them out: a base64 JWK with a `kid`, and its public half. */
export interface TestKey {
  base64: string;
  kid: string;
  publicJwk: JsonWebKey;
}

export async function makeStreamKey(kid = crypto.randomUUID().replace(/-/g, "")): Promise<TestKey> {
  const { base64, privateJwk } = await generateSigningJwk(kid);
  const { n, e } = privateJwk;
  return { base64, kid, publicJwk: { kty: "RSA", n, e } };
}
