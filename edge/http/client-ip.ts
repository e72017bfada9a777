import ipaddr from "ipaddr.js";
import type { Env } from "../env.ts";
import { isLocalDev } from "./local-dev.ts";

/**
 * The one key for every client whose address this deployment cannot vouch for. A visitor cannot
 * choose it or leave it: rotating a header changes nothing, so rate limits and bans still hold
 * (everyone unidentified shares them). Under `npm start` every visitor is local anyway.
 */
export const UNIDENTIFIED = "unidentified";

/**
 * The header by which the Worker hands the client's IP to the Durable Objects it forwards
 * sockets to. The Worker always overwrites it, and a Durable Object is reachable only through the
 * Worker, so a visitor cannot set it.
 */
const FORWARDED_IP = "X-Edge-Widgets-Client-IP";

/**
 * The client's IP, from a header only where the deployment guarantees who wrote it:
 * - `CLIENT_IP_HEADER` set: that header, which the owner's own proxy sets. For a comma list
 *   (`X-Forwarded-For`) the right-most entry, the one the nearest proxy appended.
 * - unset, on Cloudflare's network: `CF-Connecting-IP`, which Cloudflare's edge always
 *   overwrites. Cloudflare is told apart by `request.cf.colo`, the data center Cloudflare's edge
 *   names; plain workerd gives `request.cf` no `colo` (only the peer's `clientIp`, ours to
 *   ignore: behind a proxy it is the proxy). `wrangler dev` fills `cf` with a stand-in, so the
 *   local runner's `LOCAL_DEV` rules it out (there the header is passed on from the client).
 * - otherwise, or when the header is missing or not an IP literal: `UNIDENTIFIED`.
 * No other header is ever read. The address comes back normalised (an IPv4-mapped IPv6 address
 * as IPv4, IPv6 in its short form), so one client is one key however it is written.
 */
export function clientIp(env: Pick<Env, "CLIENT_IP_HEADER" | "LOCAL_DEV">, request: Request): string {
  const named = env.CLIENT_IP_HEADER?.trim();
  if (named) return ipLiteral(request.headers.get(named)?.split(",").at(-1)) ?? UNIDENTIFIED;
  if (onCloudflare(env, request)) return ipLiteral(request.headers.get("CF-Connecting-IP")) ?? UNIDENTIFIED;
  return UNIDENTIFIED;
}

function onCloudflare(env: Pick<Env, "LOCAL_DEV">, request: Request): boolean {
  return !isLocalDev(env) && (request as { cf?: { colo?: unknown } }).cf?.colo !== undefined;
}

/** A dotted-quad IPv4 or an IPv6 address, normalised; anything else (a name, a port, octal) is not one. */
function ipLiteral(raw: string | null | undefined): string | undefined {
  const text = raw?.trim();
  if (!text || !(ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text))) return undefined;
  return ipaddr.process(text).toString();
}

/** The request a Durable Object gets: the same, with the client's IP as the Worker resolved it. */
export function withClientIp(env: Env, request: Request): Request {
  const headers = new Headers(request.headers);
  headers.set(FORWARDED_IP, clientIp(env, request));
  return new Request(request, { headers });
}

/** In a Durable Object: the client's IP that the Worker resolved (see `withClientIp`). */
export function forwardedIp(request: Request): string {
  return request.headers.get(FORWARDED_IP) ?? UNIDENTIFIED;
}
