import { base64url, calculateJwkThumbprint } from "jose";
import type { Env } from "../env.ts";
import { isLocalDev } from "../http/local-dev.ts";
import { checkUrl } from "../http/ssrf-guard.ts";

/**
 * Webhook subscriptions: which URLs a wake may be sent to, and the Ed25519 signature on every
 * wake. The key pair is made on first use and kept by the registry; receivers verify with the
 * public half from `/v1/stream/__ds/jwks.json`.
 */

export interface SigningKey {
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey & { kid: string; alg: "EdDSA"; use: "sig" };
}

export async function generateSigningKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const kid = `ds_${(await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: publicJwk.x! })).slice(0, 22)}`;
  return { kid, privateJwk, publicJwk: { kty: "OKP", crv: "Ed25519", x: publicJwk.x!, kid, alg: "EdDSA", use: "sig" } };
}

const imported = new Map<string, Promise<CryptoKey>>();

/** `Webhook-Signature: t=<unix seconds>,kid=<kid>,ed25519=<base64url of sign("t.body")>`. */
export async function signWebhook(key: SigningKey, body: string, now = Date.now()): Promise<string> {
  let privateKey = imported.get(key.kid);
  if (!privateKey) {
    privateKey = crypto.subtle.importKey("jwk", key.privateJwk, { name: "Ed25519" }, false, ["sign"]);
    imported.set(key.kid, privateKey);
  }
  const t = Math.floor(now / 1000);
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, await privateKey, new TextEncoder().encode(`${t}.${body}`));
  return `t=${t},kid=${key.kid},ed25519=${base64url.encode(new Uint8Array(signature))}`;
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/**
 * A webhook must be an https URL of a public host (the SSRF guard's rules, port 443). Plain
 * http to a loopback host is allowed only on a backend the local runner started (`LOCAL_DEV`),
 * so a local receiver works in development and never in a deployment, whatever `Host` it is sent.
 */
export function checkWebhookUrl(raw: string, env: Pick<Env, "LOCAL_DEV">): { ok: true } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "webhook.url must be an absolute URL" };
  }
  if (isLoopback(url.hostname) && (url.protocol === "http:" || url.protocol === "https:")) {
    if (isLocalDev(env) && !url.username && !url.password) return { ok: true };
    return { ok: false, reason: "webhook.url points at a loopback host, which only a local development server accepts" };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "webhook.url must use https" };
  const verdict = checkUrl(raw, new Set([443]));
  return verdict.ok ? { ok: true } : { ok: false, reason: `webhook.url ${verdict.reason}` };
}
