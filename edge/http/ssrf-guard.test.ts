import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "../../test/edge/support.ts";
import { schedulerSettings } from "../scheduler/settings.ts";
import { checkUrl, DEFAULT_ALLOWED_PORTS } from "./ssrf-guard.ts";

const ports = new Set(DEFAULT_ALLOWED_PORTS);

/** URLs a caller might use to reach something that is not a public web server. */
const HOSTILE = [
  // schemes
  "file:///etc/passwd",
  "ftp://example.com/",
  "gopher://example.com:70/_GET",
  "data:text/plain,hello",
  "javascript:alert(1)",
  "ws://example.com/",
  // credentials
  "https://user:pass@example.com/",
  "https://user@example.com/",
  // localhost-like names
  "http://localhost/",
  "http://LOCALHOST./",
  "http://app.localhost/",
  "http://printer.local/",
  "http://metadata.google.internal/computeMetadata/v1/",
  "http://intranet/",
  "http://router.home.arpa/",
  "http://db.lan/",
  "http://ip6-localhost/",
  // IPv4 loopback, private, link-local, CGNAT, multicast, reserved, in every spelling
  "http://127.0.0.1/",
  "http://127.1/",
  "http://2130706433/",
  "http://0x7f000001/",
  "http://0x7f.0.0.1/",
  "http://0177.0.0.1/",
  "http://017700000001/",
  "http://127.0.0.1.:80/",
  "http://0.0.0.0/",
  "http://0/",
  "http://10.0.0.1/",
  "http://10.1/",
  "http://172.16.0.1/",
  "http://192.168.1.1/",
  "http://0xc0.0xa8.1.1/",
  "http://169.254.169.254/latest/meta-data/",
  "http://2852039166/",
  "http://100.64.0.1/",
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://255.255.255.255/",
  "http://240.0.0.1/",
  "http://192.0.2.1/",
  "http://198.18.0.1/",
  // IPv6 loopback, unspecified, unique-local, link-local, multicast, mapped and embedded v4
  "http://[::1]/",
  "http://[0:0:0:0:0:0:0:1]/",
  "http://[::]/",
  "http://[fc00::1]/",
  "http://[fd12:3456::1]/",
  "http://[fe80::1]/",
  "http://[ff02::1]/",
  "http://[::ffff:127.0.0.1]/",
  "http://[::ffff:7f00:1]/",
  "http://[::ffff:10.0.0.1]/",
  "http://[::ffff:a9fe:a9fe]/",
  "http://[64:ff9b::7f00:1]/",
  "http://[2002:7f00:1::]/",
  "http://[2001:db8::1]/",
  // IPv4-compatible (::/96, deprecated by RFC 4291) in every spelling, and the other v4-embedding blocks
  "http://[::7f00:1]/",
  "http://[::127.0.0.1]/",
  "http://[0:0:0:0:0:0:7f00:1]/",
  "http://[0000::0000:127.0.0.1]/",
  "http://[::a9fe:a9fe]/",
  "http://[::169.254.169.254]/",
  "http://[::10.0.0.1]/",
  "http://[::8.8.8.8]/",
  "http://[::2]/",
  "http://[::ffff:0:0]/",
  "http://[::ffff:0:7f00:1]/",
  "http://[64:ff9b:1::7f00:1]/",
  "http://[64:ff9b:1:ffff::1]/",
  "http://[100::1]/",
  "http://[100::ffff:ffff:ffff:ffff]/",
  // ports other than the allowed ones
  "http://example.com:8080/",
  "https://example.com:22/",
  "http://example.com:6379/",
  "https://example.com:0/",
  // not URLs at all
  "not a url",
  "//example.com/",
  "http://",
];

describe("SSRF guard", () => {
  it("has a table of at least 40 hostile URLs", () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE)("refuses %s", (url) => {
    expect(checkUrl(url, ports).ok).toBe(false);
  });

  it.each(["https://example.com/hook", "http://example.com/hook", "https://93.184.215.14/x", "https://[2606:4700::6810:85e5]/x", "https://hooks.example.com:443/a?b=c"])(
    "allows the public URL %s",
    (url) => {
      expect(checkUrl(url, ports).ok).toBe(true);
    },
  );

  it("allows only the ports the owner lists", () => {
    const custom = schedulerSettings({ ...env, SCHEDULE_ALLOWED_PORTS: "8443" }).ports;
    expect(checkUrl("https://example.com:8443/", custom).ok).toBe(true);
    expect(checkUrl("https://example.com/", custom).ok).toBe(false);
  });

  it("refuses a hostile URL at creation with a 400 that says why", async () => {
    const response = await exports.default.fetch(`${BASE}/api/schedules`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer test-admin-token" },
      body: JSON.stringify({ url: "http://0x7f000001/admin", at: new Date(Date.now() + 60_000).toISOString() }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "unsafe_url", message: expect.stringContaining("loopback") } });
  });
});
