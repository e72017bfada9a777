/**
 * Client IPs under `npm run serve`: plain workerd sets no `request.cf`, so no header a visitor
 * sends is believed unless the owner names the one their proxy writes (`CLIENT_IP_HEADER`).
 * Seen through a rate limit of one listing per IP (`video-list`), which goes by that key.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp, startServe, type Served } from "./serve-support.ts";

afterEach(cleanUp);

const ONE_LISTING = JSON.stringify({ "video-list": { burst: 1, perSecond: 0.001 } });

const list = (served: Served, headers: Record<string, string>) => fetch(`${served.url}/api/videos`, { headers }).then((response) => response.status);

describe("npm run serve's client IP", () => {
  it("behind a proxy, is the proxy's header: CF-Connecting-IP and X-Forwarded-For from a visitor change nothing", async () => {
    const served = await startServe({ env: { CLIENT_IP_HEADER: "X-Real-IP", RATE_LIMITS: ONE_LISTING } });
    expect(await list(served, { "X-Real-IP": "203.0.113.7", "CF-Connecting-IP": "198.51.100.1" })).toBe(200);
    expect(await list(served, { "X-Real-IP": "203.0.113.7", "CF-Connecting-IP": "198.51.100.2", "X-Forwarded-For": "198.51.100.3" })).toBe(429);
    // Another visitor, as the proxy names them, has their own limit.
    expect(await list(served, { "X-Real-IP": "203.0.113.8", "CF-Connecting-IP": "198.51.100.2" })).toBe(200);
  });

  it("without a proxy header set, is one key for everyone: a refusal under one spoofed address holds under another", async () => {
    const served = await startServe({ env: { RATE_LIMITS: ONE_LISTING } });
    expect(await list(served, { "CF-Connecting-IP": "198.51.100.1" })).toBe(200);
    expect(await list(served, { "CF-Connecting-IP": "198.51.100.2" })).toBe(429);
    expect(await list(served, { "X-Forwarded-For": "198.51.100.3", "X-Real-IP": "198.51.100.4" })).toBe(429);
    expect(await list(served, {})).toBe(429);
  });
});
