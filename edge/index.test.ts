import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "./index.ts";
import { BASE } from "../test/edge/support.ts";

const get = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);

describe("the Worker", () => {
  it("answers /api/health", async () => {
    const response = await get("/api/health");
    expect(await response.json()).toEqual({ ok: true });
  });

  it("names on /api/health the instance the local runner started, and only under the local runner", async () => {
    const health = (vars: Record<string, string>) =>
      worker.fetch(new Request(`${BASE}/api/health`), { ...env, ...vars }, { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext);
    expect(await (await health({ LOCAL_DEV: "true", LOCAL_INSTANCE: "run-1" })).json()).toEqual({ ok: true, instance: "run-1" });
    expect(await (await health({ LOCAL_INSTANCE: "run-1" })).json()).toEqual({ ok: true });
  });

  it("answers an unknown API path with a JSON 404", async () => {
    const response = await get("/api/nothing-here");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("echoes an allowed origin in CORS headers and leaves others out", async () => {
    const allowed = await get("/api/health", { headers: { Origin: "https://allowed.example" } });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://allowed.example");
    const other = await get("/api/health", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers a preflight from an allowed origin and refuses one from elsewhere", async () => {
    const ok = await get("/api/counters/x", { method: "OPTIONS", headers: { Origin: "https://allowed.example" } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    const refused = await get("/api/counters/x", { method: "OPTIONS", headers: { Origin: "https://evil.example" } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
  });

  it("serves the widget bundles to any origin under / and /widgets/", async () => {
    for (const path of ["/widgets.js", "/widgets/click-counter.js"]) {
      const response = await get(path, { headers: { Origin: "https://evil.example" } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Content-Type"), path).toMatch(/javascript/);
      expect(response.headers.get("Access-Control-Allow-Origin"), path).toBe("*");
    }
  });

  it("answers a missing widget file with a JSON 404", async () => {
    const response = await get("/widgets/no-such-widget.js");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("sandboxes every API answer, so none can run as a page on the Worker's origin", async () => {
    for (const path of ["/api/health", "/api/nothing-here", "/api/counters/bad%20name", "/v1/stream/__ds/subscriptions/x"]) {
      const response = await get(path);
      expect(response.headers.get("Content-Security-Policy"), path).toBe("sandbox; default-src 'none'");
      expect(response.headers.get("X-Content-Type-Options"), path).toBe("nosniff");
      await response.body?.cancel();
    }
  });

  it("leaves the widget files and the demo page unsandboxed: they are scripts and a page", async () => {
    for (const path of ["/widgets.js", "/widgets/click-counter.js", "/"]) {
      const response = await get(path);
      expect(response.headers.get("Content-Security-Policy"), path).toBeNull();
      await response.body?.cancel();
    }
  });

  it("serves the demo page at /", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<script type="module" src="/widgets.js"></script>');
  });
});
