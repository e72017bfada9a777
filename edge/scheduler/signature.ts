/**
 * Deliveries are signed per the Standard Webhooks specification (standardwebhooks.com), so a
 * receiver verifies them with its official libraries in any language:
 *   webhook-id: the message id, the same on every retry of one run (receivers drop repeats by it);
 *   webhook-timestamp: unix seconds when this attempt was sent;
 *   webhook-signature: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
 * Signed here with WebCrypto rather than the `standardwebhooks` package, whose pure-JavaScript
 * HMAC costs more CPU than the runtime's own for every delivery; the tests verify real
 * deliveries with that package.
 */

const PREFIX = "whsec_";

/**
 * The key bytes of `WEBHOOK_SIGNING_SECRET`: the base64 after `whsec_` (the specification's
 * form), or a plain secret's own UTF-8 bytes, so a secret set before deliveries followed the
 * specification signs with the same key (a receiver uses it as `whsec_` + its base64).
 */
export function signingKeyBytes(secret: string): Uint8Array {
  if (!secret.startsWith(PREFIX)) return new TextEncoder().encode(secret);
  return Uint8Array.from(atob(secret.slice(PREFIX.length)), (c) => c.charCodeAt(0));
}

/** What is wrong with a `whsec_` secret, if anything: its base64 must decode to a key. */
export function signingSecretProblem(secret: string | undefined): string | undefined {
  if (!secret?.startsWith(PREFIX)) return undefined;
  try {
    if (signingKeyBytes(secret).length >= 16) return undefined;
  } catch {
    // Falls through to the problem below.
  }
  return "WEBHOOK_SIGNING_SECRET starts with whsec_ but the rest is not the base64 of a key of at least 16 bytes; make one with: echo whsec_$(openssl rand -base64 32)";
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The three Standard Webhooks headers for one attempt of message `id`. */
export async function signatureHeaders(secret: string, id: string, timestamp: number, body: string): Promise<Record<string, string>> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", signingKeyBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  let binary = "";
  for (const byte of new Uint8Array(mac)) binary += String.fromCharCode(byte);
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${btoa(binary)}` };
}
