import type { Counter } from "./counter/counter.ts";
import type { RateLimiter } from "./rate-limiter/rate-limiter.ts";

/** Bindings and settings from wrangler.toml (vars) and `wrangler secret put` (secrets). */
export interface Env {
  ASSETS: Fetcher;
  COUNTER: DurableObjectNamespace<Counter>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Origins allowed for CORS and WebSocket upgrades: a comma list, or `*`. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for admin calls; unset means admin calls are refused. */
  ADMIN_TOKEN?: string;
  /** JSON overrides of the per-IP rate limits, see `edge/rate-limiter/policies.ts`. */
  RATE_LIMITS?: string;
}
