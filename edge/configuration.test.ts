import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "./env.ts";
import { DEV_STREAMS_SECRET } from "./streams/tokens.ts";
import { fetchWithVars } from "../test/edge/support.ts";

const SECRETS = ["STREAMS_JWT_SECRET", "ADMIN_TOKEN", "CHAT_IDENTITY_SECRET", "VIDEO_UPLOAD_SECRET", "WEBHOOK_SIGNING_SECRET"] as const;
const DEPLOYED = { LOCAL_DEV: undefined };

async function refusal(vars: Partial<Env>, path = "/api/health") {
  const response = await fetchWithVars(vars, path, { headers: { Origin: "https://allowed.example" } });
  return { status: response.status, cors: response.headers.get("Access-Control-Allow-Origin"), body: await response.json<{ error?: { code: string; message: string } }>() };
}

afterEach(() => vi.restoreAllMocks());

describe("a deployment with a dangerous configuration", () => {
  it.each(SECRETS)("answers every request, the health check included, 503 misconfigured when %s is the public dev secret", async (name) => {
    for (const path of ["/api/health", "/api/counters/lobby", "/v1/stream/news", "/widgets.js"]) {
      const answer = await refusal({ ...DEPLOYED, [name]: DEV_STREAMS_SECRET }, path);
      expect(answer.status, path).toBe(503);
      expect(answer.body.error, path).toMatchObject({ code: "misconfigured", message: expect.stringContaining(name) });
    }
  });

  it.each(SECRETS)("refuses to serve when %s is shorter than 16 characters, and says how to make a long one", async (name) => {
    const answer = await refusal({ ...DEPLOYED, [name]: "short-secret" });
    expect(answer.status).toBe(503);
    expect(answer.body.error?.message).toMatch(new RegExp(`${name} is shorter than 16 characters.*wrangler secret put ${name}`));
  });

  it("refuses to serve with STREAMS_AUTH=off, which opens every stream to everyone", async () => {
    const answer = await refusal({ ...DEPLOYED, STREAMS_AUTH: "off" });
    expect(answer.status).toBe(503);
    expect(answer.body.error?.message).toContain("STREAMS_AUTH");
  });

  it("keeps the CORS headers on the refusal, so a widget on an allowed page can show it", async () => {
    expect((await refusal({ ...DEPLOYED, ADMIN_TOKEN: "short" })).cors).toBe("https://allowed.example");
  });

  it("logs the reason once, not on every request", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const vars = { ...DEPLOYED, ADMIN_TOKEN: `short-${crypto.randomUUID().slice(0, 4)}` };
    await refusal(vars);
    await refusal(vars);
    expect(logged.mock.calls.filter(([line]) => String(line).startsWith("misconfigured: ADMIN_TOKEN"))).toHaveLength(1);
  });
});

describe("settings the Worker cannot read", () => {
  it.each([
    ["TOKEN_MAX_LIFETIME_SECONDS", "a day"],
    ["TOKEN_MAX_LIFETIME_SECONDS", "0"],
    ["RATE_LIMITS", '{"click":{"burst":"lots"}}'],
    ["RATE_LIMITS", "{click: 5}"],
    ["SCHEDULE_TARGETS", '{"hook":"ftp://example.com"}'],
    ["SCHEDULE_TARGETS", "reminders"],
  ])("make it refuse to serve, naming %s, rather than fall back silently (%s)", async (name, value) => {
    for (const localDev of [undefined, "true"]) {
      const answer = await refusal({ LOCAL_DEV: localDev, [name]: value });
      expect(answer.status).toBe(503);
      expect(answer.body.error).toMatchObject({ code: "misconfigured", message: expect.stringContaining(name) });
    }
  });
});

describe("the local runner (LOCAL_DEV=true)", () => {
  it("serves with the dev secret, short secrets and open streams", async () => {
    const vars = { LOCAL_DEV: "true", STREAMS_JWT_SECRET: DEV_STREAMS_SECRET, ADMIN_TOKEN: "dev", STREAMS_AUTH: "off" };
    expect((await fetchWithVars(vars, "/api/health")).status).toBe(200);
  });
});

describe("a deployment configured as the README says", () => {
  it("serves", async () => {
    const vars = { ...DEPLOYED, TOKEN_MAX_LIFETIME_SECONDS: "3600", ...Object.fromEntries(SECRETS.map((name) => [name, crypto.randomUUID()])) };
    expect((await fetchWithVars(vars, "/api/health")).status).toBe(200);
  });
});
