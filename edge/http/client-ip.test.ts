import { describe, expect, it } from "vitest";
import { UNIDENTIFIED, clientIp } from "./client-ip.ts";

/** A request as each runtime delivers it: Cloudflare's edge and `wrangler dev` attach `cf` with a `colo`, plain workerd one without. */
const request = (headers: Record<string, string>, cf?: object) => new Request("https://widgets.test/", { headers, cf } as RequestInit);
const CF = { colo: "AMS", country: "NL" };
const local = { LOCAL_DEV: "true" };

describe("clientIp", () => {
  it("takes CF-Connecting-IP on Cloudflare's network, which overwrites it", () => {
    expect(clientIp({}, request({ "CF-Connecting-IP": "203.0.113.7" }, CF))).toBe("203.0.113.7");
  });

  it("ignores CF-Connecting-IP and X-Real-IP under plain workerd, where the client wrote them", () => {
    expect(clientIp({}, request({ "CF-Connecting-IP": "203.0.113.7", "X-Real-IP": "203.0.113.8" }))).toBe(UNIDENTIFIED);
    expect(clientIp({}, request({ "CF-Connecting-IP": "203.0.113.7" }, { clientIp: "127.0.0.1:37226" }))).toBe(UNIDENTIFIED);
  });

  it("ignores CF-Connecting-IP under the local runner, where wrangler dev passes on the client's", () => {
    expect(clientIp(local, request({ "CF-Connecting-IP": "203.0.113.7" }, CF))).toBe(UNIDENTIFIED);
  });

  it("never reads X-Real-IP or X-Forwarded-For unless the owner names it", () => {
    expect(clientIp({}, request({ "X-Real-IP": "203.0.113.8", "X-Forwarded-For": "203.0.113.9" }, CF))).toBe(UNIDENTIFIED);
  });

  it("takes the header the owner names, and only that one", () => {
    const env = { CLIENT_IP_HEADER: "X-Real-IP" };
    expect(clientIp(env, request({ "X-Real-IP": "198.51.100.4", "CF-Connecting-IP": "203.0.113.7" }, CF))).toBe("198.51.100.4");
    expect(clientIp(env, request({ "CF-Connecting-IP": "203.0.113.7" }, CF))).toBe(UNIDENTIFIED);
    expect(clientIp({ ...env, ...local }, request({ "X-Real-IP": "198.51.100.4" }))).toBe("198.51.100.4");
  });

  it("takes the right-most entry of a list, the one the owner's proxy appended", () => {
    const env = { CLIENT_IP_HEADER: "X-Forwarded-For" };
    expect(clientIp(env, request({ "X-Forwarded-For": "1.1.1.1, 10.0.0.1,198.51.100.4" }))).toBe("198.51.100.4");
  });

  it.each(["", "unknown", "example.com", "203.0.113.7:8080", "0x7f.1", "127.1", "1.2.3.4.5", "203.0.113.7, evil"])(
    "falls back to the shared key when the header holds %j",
    (value) => {
      expect(clientIp({ CLIENT_IP_HEADER: "X-Real-IP" }, request({ "X-Real-IP": value }))).toBe(UNIDENTIFIED);
    },
  );

  it("writes one address one way", () => {
    const env = { CLIENT_IP_HEADER: "X-Real-IP" };
    expect(clientIp(env, request({ "X-Real-IP": "::ffff:203.0.113.7" }))).toBe("203.0.113.7");
    expect(clientIp(env, request({ "X-Real-IP": "2001:DB8:0:0:0:0:0:1" }))).toBe("2001:db8::1");
    expect(clientIp(env, request({ "X-Real-IP": " 203.0.113.7 " }))).toBe("203.0.113.7");
  });
});
