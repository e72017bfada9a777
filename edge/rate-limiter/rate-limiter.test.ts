import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../env.ts";
import { UNIDENTIFIED } from "../http/client-ip.ts";
import { fetchWithVars } from "../../test/edge/support.ts";

const policy = { burst: 3, perSecond: 2 };

describe("RateLimiter", () => {
  it("allows a burst, then refuses and says when to retry", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.1");
    for (let i = 0; i < 3; i++) expect((await limiter.consume("test", policy)).ok).toBe(true);
    const refused = await limiter.consume("test", policy);
    expect(refused.ok).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
  });

  it("grants part of a batch when fewer tokens are left than asked for", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.5");
    const grant = await limiter.take("test", policy, 5);
    expect(grant.granted).toBe(3);
    expect(grant.retryAfterMs).toBeGreaterThan(0);
    expect((await limiter.take("test", policy, 1)).granted).toBe(0);
  });

  it("keeps separate buckets per action", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.2");
    for (let i = 0; i < 3; i++) await limiter.consume("a", policy);
    expect((await limiter.consume("a", policy)).ok).toBe(false);
    expect((await limiter.consume("b", policy)).ok).toBe(true);
  });

  it("remembers a spent bucket across eviction", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.3");
    for (let i = 0; i < 3; i++) await limiter.consume("test", { burst: 3, perSecond: 0.001 });
    await evictDurableObject(limiter);
    expect((await limiter.consume("test", { burst: 3, perSecond: 0.001 })).ok).toBe(false);
  });

  it("sets no alarm to stay awake", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.4");
    await limiter.consume("test", policy);
    const alarm = await runInDurableObject(limiter, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeNull();
  });
});

describe("admitting a socket in one call", () => {
  const joins = { action: "test-join", policy: { burst: 2, perSecond: 0.001 } };
  const holder = () => env.COUNTER.idFromName("admit").toString();

  it("spends a join and takes a slot, and refuses for joins before it looks at the slots", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.20");
    expect(await limiter.admitSocket("counter", holder(), crypto.randomUUID(), 2, joins)).toEqual({ ok: true });
    expect(await limiter.admitSocket("counter", holder(), crypto.randomUUID(), 2, joins)).toEqual({ ok: true });
    const refused = await limiter.admitSocket("counter", holder(), crypto.randomUUID(), 2, joins);
    expect(refused).toMatchObject({ ok: false, refused: "joins" });
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(0);
  });

  it("writes the slots taken together shortly after, and forgets a slot released before", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.22");
    const stored = () => runInDurableObject(limiter, (_instance, state) => state.storage.sql.exec("SELECT socket FROM socket_slots ORDER BY socket").toArray().map((row) => row.socket));
    for (const socket of ["a", "b", "c"]) expect(await limiter.admitSocket("chat", holder(), socket, 10)).toEqual({ ok: true });
    await limiter.releaseSocketSlot("b");
    await new Promise((done) => setTimeout(done, 300));
    expect(await stored()).toEqual(["a", "c"]);
    await limiter.releaseSocketSlot("a");
    expect(await stored()).toEqual(["c"]);
  });

  it("admits on slots alone where the route limits no joins", async () => {
    const limiter = env.RATE_LIMITER.getByName("198.51.100.21");
    for (let i = 0; i < 5; i++) expect(await limiter.admitSocket("counter", holder(), crypto.randomUUID(), 10)).toEqual({ ok: true });
  });
});

describe("whose bucket a request spends", () => {
  const read = (vars: Partial<Env>, headers: Record<string, string>) => fetchWithVars(vars, `/api/rooms/lobby/messages?limit=1`, { headers });
  const strict = JSON.stringify({ "chat-read": { burst: 3, perSecond: 0.01 } });

  it("is one shared bucket, not one per CF-Connecting-IP or X-Real-IP, where nothing vouches for those headers", async () => {
    // A request without `cf` is what plain workerd delivers; LOCAL_DEV is the local runner's wrangler dev.
    for (const vars of [{ CLIENT_IP_HEADER: undefined }, { CLIENT_IP_HEADER: undefined, LOCAL_DEV: "true" }]) {
      const statuses: number[] = [];
      for (let i = 1; i <= 4; i++) {
        const response = await read({ ...vars, RATE_LIMITS: strict }, { "CF-Connecting-IP": `203.0.113.${i}`, "X-Real-IP": `198.51.100.${i}` });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      await runInDurableObject(env.RATE_LIMITER.getByName(UNIDENTIFIED), (_instance, state) => state.storage.deleteAll());
      await evictDurableObject(env.RATE_LIMITER.getByName(UNIDENTIFIED));
    }
  });

  it("follows the header the owner names and no other", async () => {
    const vars = { CLIENT_IP_HEADER: "X-Real-IP", RATE_LIMITS: strict };
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push((await read(vars, { "X-Real-IP": "198.51.100.77", "CF-Connecting-IP": `203.0.113.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await read(vars, { "X-Real-IP": "198.51.100.78", "CF-Connecting-IP": "203.0.113.1" })).status).toBe(200);
  });
});
