import ipaddr from "ipaddr.js";
import type { AccessRule } from "./sign-playback-token.ts";

/**
 * Stream's evaluation of a token's `accessRules`: in order, the first rule that matches the
 * viewer decides; when none matches, access is allowed.
 */
export function accessAllowed(rules: readonly AccessRule[] | undefined, viewer: { ip: string | null; country: string | null }): boolean {
  for (const rule of rules ?? []) {
    if (matches(rule, viewer)) return rule.action === "allow";
  }
  return true;
}

function matches(rule: AccessRule, viewer: { ip: string | null; country: string | null }): boolean {
  switch (rule.type) {
    case "any":
      return true;
    case "ip.geoip.country":
      return viewer.country !== null && rule.country.includes(viewer.country.toUpperCase());
    case "ip.src":
      return viewer.ip !== null && rule.ip.some((range) => inRange(viewer.ip!, range));
  }
}

function inRange(ip: string, range: string): boolean {
  try {
    const address = ipaddr.process(ip);
    const [network, bits] = range.includes("/") ? ipaddr.parseCIDR(range) : [ipaddr.process(range), undefined];
    const net = network.kind() === "ipv6" && (network as ipaddr.IPv6).isIPv4MappedAddress() ? (network as ipaddr.IPv6).toIPv4Address() : network;
    if (address.kind() !== net.kind()) return false;
    const prefix = bits ?? (net.kind() === "ipv4" ? 32 : 128);
    return address.match(net, prefix);
  } catch {
    return false;
  }
}
