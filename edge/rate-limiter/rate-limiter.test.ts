import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";

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
    const { runInDurableObject } = await import("cloudflare:test");
    const alarm = await runInDurableObject(limiter, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeNull();
  });
});
