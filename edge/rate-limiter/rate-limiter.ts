import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { ratePolicy, type RateAction, type RatePolicy } from "./policies.ts";

export interface RateDecision {
  ok: boolean;
  /** Milliseconds until the action would be allowed again; 0 when allowed. */
  retryAfterMs: number;
  remaining: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One object per client IP, shared by every feature. Token buckets are refilled by arithmetic
 * on the time of the last call, so the object needs no alarm or timer and can sleep between
 * calls. Buckets live in memory and in the object's storage, so an eviction forgives nothing.
 */
export class RateLimiter extends DurableObject<Env> {
  private buckets = new Map<string, Bucket>();

  consume(action: string, policy: RatePolicy, cost = 1): RateDecision {
    const now = Date.now();
    const stored = this.buckets.get(action) ?? this.ctx.storage.kv.get<Bucket>(action);
    const elapsed = stored ? Math.max(0, now - stored.at) / 1000 : 0;
    const tokens = stored ? Math.min(policy.burst, stored.tokens + elapsed * policy.perSecond) : policy.burst;
    if (tokens >= cost) {
      this.save(action, { tokens: tokens - cost, at: now });
      return { ok: true, retryAfterMs: 0, remaining: Math.floor(tokens - cost) };
    }
    this.save(action, { tokens, at: now });
    return { ok: false, retryAfterMs: Math.ceil(((cost - tokens) / policy.perSecond) * 1000), remaining: 0 };
  }

  private save(action: string, bucket: Bucket): void {
    this.buckets.set(action, bucket);
    // The answer does not wait for the disk (that cost every chat message ~20 ms): a crash can
    // forgive at most the last few actions, which is fine for a rate limit.
    void this.ctx.storage.put(action, bucket, { allowUnconfirmed: true });
  }
}

/** Asks the caller's limiter whether `action` may happen now. */
export function checkRate(env: Env, ip: string, action: RateAction, cost = 1): Promise<RateDecision> {
  return env.RATE_LIMITER.getByName(ip).consume(action, ratePolicy(env, action), cost);
}
