import ipaddr from "ipaddr.js";

/**
 * The guard in front of every fetch to a URL that a caller (not the owner) gave us, and in
 * front of every redirect such a fetch is sent to. A self-hosted workerd can reach the
 * owner's private network and the cloud metadata service, so the rule is "public unicast
 * addresses and names only":
 *
 * - only `http:` and `https:`, without credentials in the URL;
 * - only the ports the owner allows (`SCHEDULE_ALLOWED_PORTS`, default 443 and 80);
 * - IP literals must be public unicast. The WHATWG URL parser has already turned decimal,
 *   octal, hex and short IPv4 forms (`2130706433`, `0177.1`, `0x7f.1`, `127.1`) into dotted
 *   quads, and IPv6 into its compressed form; ipaddr.js then names the range, and anything
 *   but `unicast` (loopback, private, link-local, CGNAT, multicast, reserved, IPv4-mapped,
 *   NAT64, 6to4, Teredo, unique-local…) is refused. ipaddr.js calls the IPv4-compatible block
 *   `::/96` (`[::7f00:1]`, `[::127.0.0.1]`) unicast, but some stacks still route it to the
 *   embedded IPv4 address, so it is refused too (RFC 4291 deprecated it; OWASP lists it);
 * - names must have a dot and must not be `localhost`-like or in a local-only suffix.
 *
 * What a name resolves to is not checked here (a Worker cannot resolve names itself): on
 * Cloudflare's network a fetch never reaches private addresses; a self-hosted workerd should
 * run with its outbound network limited to public addresses (see the README).
 */
export type GuardResult = { ok: true; url: URL } | { ok: false; reason: string };

/** Local-only names and suffixes (RFC 6761, RFC 8375, cloud metadata, common intranet ones). */
const LOCAL_NAMES = new Set(["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"]);
const LOCAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".localdomain",
  ".internal",
  ".intranet",
  ".private",
  ".corp",
  ".home",
  ".lan",
  ".home.arpa",
  ".arpa",
  ".test",
  ".invalid",
  ".onion",
];

const IPV4_COMPATIBLE = ipaddr.parseCIDR("::/96");

/** The ports a caller-given URL may use unless the owner lists others (`SCHEDULE_ALLOWED_PORTS`). */
export const DEFAULT_ALLOWED_PORTS = [443, 80];

export function checkUrl(raw: string, ports: Set<number>): GuardResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, reason: `uses ${url.protocol}; only http and https are allowed` };
  }
  if (url.username || url.password) return { ok: false, reason: "must not contain credentials" };
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  if (!ports.has(port)) return { ok: false, reason: `uses port ${port}; allowed ports are ${[...ports].join(", ")}` };

  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "") return { ok: false, reason: "has no host" };
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (ipaddr.isValid(literal)) {
    // Dotted quads only reach here after URL normalisation, but a name such as `1.2.3` could
    // still be read by ipaddr.js as a short IPv4 form: treat every parseable host as an address.
    const address = ipaddr.parse(literal);
    if (address.kind() === "ipv6" && address.match(IPV4_COMPATIBLE)) {
      return { ok: false, reason: "points at a non-public address (IPv4-compatible IPv6)" };
    }
    const range = address.range();
    if (range !== "unicast") return { ok: false, reason: `points at a non-public address (${range})` };
    return { ok: true, url };
  }
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return { ok: false, reason: "has a malformed numeric host" };
  if (!host.includes(".")) return { ok: false, reason: "must use a fully qualified public host name" };
  if (LOCAL_NAMES.has(host) || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return { ok: false, reason: "points at a local-only host name" };
  }
  return { ok: true, url };
}
